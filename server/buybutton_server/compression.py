"""Compressed answers: brotli when the client accepts ``br``, else gzip, for HTML, JSON,
JavaScript, CSS and SVG, where no front proxy does it (``BUYBUTTON_COMPRESSION=off`` leaves it
to the proxy).

Answers rendered once and kept (the widget, the offer cache) are compressed once and served in
the form asked for; the others are compressed as they leave, above a size where it pays. An
encoded answer carries its own ETag (``…-br``, ``…-gz``: the bytes differ) and
``Vary: Accept-Encoding``.
"""

from __future__ import annotations

import gzip

import brotli  # type: ignore[import-untyped]
from flask import Flask, Request, Response, request

from buybutton.config import Settings

#: Smaller answers go as they are: the headers would cost about what is saved.
MIN_BYTES = 512
COMPRESSIBLE = frozenset(
    {
        "text/html",
        "application/json",
        "text/javascript",
        "application/javascript",
        "text/css",
        "image/svg+xml",
        "text/plain",
        "text/csv",
        "application/xml",
        "text/xml",
    }
)
ENCODINGS = ("br", "gzip")
SUFFIX = {"br": "-br", "gzip": "-gz"}


def preferred_encoding(req: Request) -> str | None:
    """``"br"``, ``"gzip"`` or ``None``: the best one ``req`` accepts (``q`` > 0)."""
    accepted = req.accept_encodings
    for encoding in ENCODINGS:
        if accepted[encoding] > 0:
            return encoding
    return None


def compress(body: bytes, encoding: str, *, best: bool = False) -> bytes:
    """``body`` in ``encoding``; ``best``: the smallest form (for what is compressed once)."""
    if encoding == "br":
        packed: bytes = brotli.compress(body, mode=brotli.MODE_TEXT, quality=11 if best else 5)
        return packed
    return gzip.compress(body, compresslevel=9 if best else 6, mtime=0)


def add_vary(response: Response) -> None:
    if "accept-encoding" not in response.headers.get("Vary", "").lower():
        response.vary.add("Accept-Encoding")


def register(app: Flask, settings: Settings) -> None:
    """Compress eligible answers as they leave (when ``settings.compression``)."""
    app.config["BUYBUTTON_COMPRESSION"] = settings.compression
    if not settings.compression:
        return

    @app.after_request
    def _compress(response: Response) -> Response:
        if (
            response.direct_passthrough
            or response.is_streamed
            or response.status_code != 200
            or "Content-Encoding" in response.headers
            or response.mimetype not in COMPRESSIBLE
            or request.method == "HEAD"
        ):
            return response
        body = response.get_data()
        if len(body) < MIN_BYTES:
            return response
        add_vary(response)
        encoding = preferred_encoding(request)
        if encoding is None:
            return response
        response.set_data(compress(body, encoding))
        response.headers["Content-Encoding"] = encoding
        etag, weak = response.get_etag()
        if etag:
            response.set_etag(etag + SUFFIX[encoding], weak=bool(weak))
        return response
