"""A WSGI fast path for the widget's revalidation: ``GET /widget.js`` with an ``If-None-Match``
that names the current script is answered ``304`` before Flask dispatches the request.

Every page that embeds the button revalidates the script (its unversioned URL is cached for a
day), so this 304 is the request the server answers most. Through Flask it pays every hook of
the app (the rate limiter's ``before_request`` check, CSRF's cookie hook, compression, the
security headers), none of which has anything to do for it. Here it costs a header comparison.

Only the exact case is taken: ``GET`` or ``HEAD`` of ``/widget.js`` with no query or with
``?v=`` the current version, an ``If-None-Match`` that is exactly the ETag the full route would
send for the client's ``Accept-Encoding``, and a trusted ``Host`` (behind trusted proxies the
forwarded one: :class:`~werkzeug.middleware.proxy_fix.ProxyFix` runs before this). Anything
else (an untrusted host, another ETag, a list of ETags, ``*``) goes through the app as before,
which answers it the same way or refuses it. The headers are those the full route's 304
carries (a test compares them).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import buybutton_widget
from werkzeug.http import http_date, parse_accept_header
from werkzeug.sansio.utils import host_is_trusted
from werkzeug.wrappers import Request

from buybutton.ids import new_id

from ..compression import ENCODINGS, SUFFIX
from .script import UNVERSIONED_MAX_AGE, VERSIONED_MAX_AGE

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

PATH = "/widget.js"


class WidgetRevalidation:
    """Wraps the app's WSGI callable; see the module's docstring."""

    def __init__(
        self,
        app: WSGIApplication,
        *,
        trusted_hosts: list[str] | None,
    ) -> None:
        self.app = app
        self.trusted_hosts = trusted_hosts

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if (
            environ.get("PATH_INFO") == PATH
            and environ.get("REQUEST_METHOD") in ("GET", "HEAD")
            and "HTTP_IF_NONE_MATCH" in environ
        ):
            headers = self._not_modified(environ)
            if headers is not None:
                start_response("304 NOT MODIFIED", headers)
                return []
        return self.app(environ, start_response)

    def _not_modified(self, environ: WSGIEnvironment) -> list[tuple[str, str]] | None:
        """The 304's headers, or None when the request is not the exact case handled here."""
        asset = buybutton_widget.asset()
        query = environ.get("QUERY_STRING", "")
        if query and query != "v=" + asset.version:
            return None
        encoding = _preferred(environ.get("HTTP_ACCEPT_ENCODING", ""))
        etag = f'"{asset.version}{SUFFIX[encoding] if encoding else ""}"'
        if environ["HTTP_IF_NONE_MATCH"].strip() != etag:
            return None
        if self.trusted_hosts is not None and not host_is_trusted(
            Request(environ).host, self.trusted_hosts
        ):
            return None  # the app refuses it (400, UNTRUSTED_HOST)
        cache = (
            f"public, max-age={VERSIONED_MAX_AGE}, immutable"
            if query
            else f"public, max-age={UNVERSIONED_MAX_AGE}"
        )
        return [
            ("ETag", etag),
            ("Cache-Control", cache),
            ("Vary", "Accept-Encoding"),
            ("Access-Control-Allow-Origin", "*"),
            ("Date", http_date()),
            ("X-Request-Id", new_id("req")),
            ("X-Content-Type-Options", "nosniff"),
            ("Referrer-Policy", "strict-origin-when-cross-origin"),
        ]


def _preferred(header: str) -> str | None:
    """As :func:`..compression.preferred_encoding`, from the raw header."""
    if not header:
        return None
    accepted = parse_accept_header(header)
    for encoding in ENCODINGS:
        if accepted[encoding] > 0:
            return encoding
    return None
