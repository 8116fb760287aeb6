"""Response headers every page and API answer carries."""

from __future__ import annotations

from flask import Flask, Response, g, request

from buybutton.ids import new_id

# Pages load scripts and styles from our own origin only (no inline code anywhere), and may not
# be framed: a buy page inside someone else's frame is a clickjacking target.
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)


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
