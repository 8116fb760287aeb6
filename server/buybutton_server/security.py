"""Response headers every page and API answer carries."""

from __future__ import annotations

import base64
import hashlib
from functools import cache
from pathlib import Path

from flask import Flask, Response, g, request

from buybutton.ids import new_id

# Pages load scripts and styles from our own origin only (no inline code anywhere), and may not
# be framed: a buy page inside someone else's frame is a clickjacking target.
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)

#: The pages' stylesheet, which the buy page inlines (see :func:`inline_stylesheet`).
STYLESHEET = Path(__file__).resolve().parent / "static" / "buybutton.css"


@cache
def inline_stylesheet() -> tuple[str, str]:
    """The pages' stylesheet and the CSP source that allows it inline (``'sha256-…'``).

    The buy page is the first page a shopper sees: with its styles in the page its first paint
    waits for no stylesheet request. The inline ``<style>`` is allowed by its hash alone (still
    no inline script, no ``'unsafe-inline'``); read once per process."""
    css = STYLESHEET.read_text(encoding="utf-8")
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    return css, f"'sha256-{digest}'"


def csp_with_inline_stylesheet() -> str:
    """:data:`PAGE_CSP` that also allows :func:`inline_stylesheet`'s ``<style>``."""
    return PAGE_CSP.replace("style-src 'self'", f"style-src 'self' {inline_stylesheet()[1]}")


def register(app: Flask) -> None:
    @app.before_request
    def _request_id() -> None:
        # One id per request, sent back as X-Request-Id, so a client's report names the request.
        g.request_id = new_id("req")

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers["X-Request-Id"] = g.get("request_id") or new_id("req")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        if response.mimetype == "text/html":
            response.headers.setdefault("Content-Security-Policy", PAGE_CSP)
        if request.path.startswith("/v1/") and "Cache-Control" not in response.headers:
            response.headers["Cache-Control"] = "no-store"
        return response
