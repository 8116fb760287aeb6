"""Shopper forms are posted by the shopper, from our own pages, and from nowhere else.

Our cookies are first-party but SameSite=Lax (or Strict), and Lax cookies ARE sent with a form
posted by a *sibling* origin of the same site (blog.shop.example posting to buy.shop.example).
So every state-changing shopper request passes two checks:

1. where it comes from: a browser's ``Sec-Fetch-Site`` must be ``same-origin`` (or ``none``: the
   shopper's own action, e.g. a bookmark), and an ``Origin`` header must be our own origin
   (``BUYBUTTON_PUBLIC_URL``'s, else the request's host). Old browsers and scripted clients send
   neither header; for them the token below decides alone.
2. a form token bound to this browser (a signed double-submit token): a random ``bb_browser``
   cookie (HttpOnly), and in each form the cookie's hash signed with its own salt. A page on
   another origin can neither read our pages nor set our host-only cookie, so it cannot forge the
   pair; a token copied from another browser does not match this browser's cookie.

A refusal is a :class:`~buybutton.errors.Forbidden` (403): the error handler renders the page (or,
under ``/v1/``, the JSON error) saying what went wrong. Nothing was created or charged.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

from flask import Flask, Response, g, request
from itsdangerous import BadData, URLSafeSerializer

from buybutton.errors import ErrorCode, Forbidden

from ..runtime import runtime

BROWSER_COOKIE = "bb_browser"
BROWSER_COOKIE_MAX_AGE = 365 * 86400
CSRF_SALT = "buybutton.csrf"
#: Where forms put the token, and where buy.js's fetch puts it.
FORM_FIELD = "csrf_token"
HEADER = "X-CSRF-Token"


def cookies_secure() -> bool:
    """Whether our cookies carry ``Secure``: over https, or behind an https public URL."""
    return request.is_secure or (runtime().settings.public_url or "").startswith("https:")


def _browser_hash(browser_id: str) -> str:
    return hashlib.sha256(browser_id.encode()).hexdigest()


def _cookie_browser_id() -> str | None:
    raw = request.cookies.get(BROWSER_COOKIE)
    return raw if raw and 20 <= len(raw) <= 64 and raw.isascii() else None


def browser_id() -> str:
    """This browser's random id; a new one (set on the response) if it has none yet."""
    current = _cookie_browser_id() or g.get("new_browser_id")
    if current is None:
        current = g.new_browser_id = secrets.token_urlsafe(24)
    return current


def browser_hash() -> str:
    """A stable value for this browser that never reveals its cookie."""
    return _browser_hash(browser_id())


def csrf_token() -> str:
    """The form token of this browser (templates call it: ``{{ csrf_token() }}``)."""
    serializer = URLSafeSerializer(list(runtime().settings.secret_keys), salt=CSRF_SALT)
    return serializer.dumps(browser_hash())


def own_origin() -> str:
    url = urlsplit(runtime().settings.public_url or request.host_url)
    return f"{url.scheme}://{url.netloc}".lower()


def check_request_origin() -> None:
    """Refuse a browser request sent by a page of another origin, same site or not."""
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None and fetch_site not in ("same-origin", "none"):
        raise Forbidden(
            f"This form was sent from another site ({fetch_site}), not from this "
            "shop's own page. Nothing was charged or created.",
            code=ErrorCode.CROSS_ORIGIN_REQUEST,
        )
    origin = request.headers.get("Origin")
    if origin is not None and origin.rstrip("/").lower() != own_origin():
        raise Forbidden(
            f"This form was sent from {origin[:100]}, not from this shop's own page. "
            "Nothing was charged or created.",
            code=ErrorCode.CROSS_ORIGIN_REQUEST,
        )


def check_csrf_token(form_value: str | None = None) -> None:
    """Refuse a request without this browser's form token: the header, else ``form_value``
    (a streamed upload reads it from its body itself), else the form's field."""
    posted = request.form.get(FORM_FIELD) if form_value is None else form_value
    sent = request.headers.get(HEADER) or posted
    cookie = _cookie_browser_id()
    if not sent or cookie is None:
        raise Forbidden(
            "This form has no valid security token (is it an old page, or were "
            "cookies blocked?). Reload the page and try again; nothing was charged.",
            code=ErrorCode.CSRF_TOKEN_MISSING,
        )
    serializer = URLSafeSerializer(list(runtime().settings.secret_keys), salt=CSRF_SALT)
    try:
        bound = serializer.loads(sent)
    except BadData:
        bound = None
    if not isinstance(bound, str) or not hmac.compare_digest(bound, _browser_hash(cookie)):
        raise Forbidden(
            "This form's security token does not belong to this browser. Reload the "
            "page and try again; nothing was charged.",
            code=ErrorCode.CSRF_TOKEN_INVALID,
        )


def protect_shopper_post() -> None:
    """Both checks, for a route that changes state on the shopper's behalf."""
    check_request_origin()
    check_csrf_token()


def register(app: Flask) -> None:
    app.jinja_env.globals["csrf_token"] = csrf_token

    @app.after_request
    def _set_browser_cookie(response: Response) -> Response:
        new = g.get("new_browser_id")
        if new is not None:
            response.set_cookie(
                BROWSER_COOKIE,
                new,
                max_age=BROWSER_COOKIE_MAX_AGE,
                httponly=True,
                secure=cookies_secure(),
                samesite="Lax",
                path="/",
            )
        return response
