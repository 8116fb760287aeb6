"""The dashboard blueprint (``/dashboard/…``): every page a merchant uses in the browser.

Every POST passes the shopper forms' two CSRF checks (:mod:`..shopper.csrf`: same origin, and
this browser's form token); every page is private (``Cache-Control: no-store``), never framed
(the app's CSP says ``frame-ancestors 'none'``) and in the visitor's language (:mod:`.i18n`).
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, g, request
from werkzeug.routing import BuildError

from ..runtime import runtime
from ..shopper import csrf
from .i18n import LANG_COOKIE, LANGUAGES, dashboard_language, gettext

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")

#: The navigation: (endpoint, label). An endpoint not registered (yet) is left out.
NAV = (
    ("dashboard.products", "Products"),
    ("dashboard.orders", "Orders"),
    ("dashboard.analytics", "Analytics"),
    ("dashboard.developers", "Developers"),
)


#: Forms that carry a product image: their bodies may be that much larger than the app's 1 MB.
UPLOAD_ENDPOINTS = frozenset({"dashboard.new_product", "dashboard.edit_product"})
#: Room for the form's other fields beside the image.
FORM_OVERHEAD_BYTES = 1024 * 1024
#: Streamed uploads (:mod:`..uploads`): the view checks the form token it reads from the body.
STREAMED_ENDPOINTS = frozenset({"dashboard.upload_file"})


@bp.before_request
def _protect_posts() -> None:
    if request.endpoint in UPLOAD_ENDPOINTS:  # before anything reads the body
        request.max_content_length = runtime().settings.max_image_bytes + FORM_OVERHEAD_BYTES
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        csrf.check_request_origin()
        if request.endpoint not in STREAMED_ENDPOINTS:  # reading the form would buffer the body
            csrf.check_csrf_token()


def _nav_links() -> list[tuple[str, str, bool]]:
    links = []
    for endpoint, label in NAV:
        if endpoint in current_app.view_functions:
            try:
                url = current_app.url_for(endpoint)
            except BuildError:  # an endpoint that needs arguments is no navigation target
                continue
            current = (request.endpoint or "").startswith(endpoint)
            links.append((url, gettext(label), current))
    return links


@bp.context_processor
def _template_globals() -> dict[str, object]:
    return {
        "_": gettext,
        "lang": dashboard_language(),
        "languages": LANGUAGES,
        "nav_links": _nav_links,
        "merchant": g.get("merchant"),
        "account": g.get("account"),
    }


@bp.after_request
def _private(response: Response) -> Response:
    # Signed-in pages show keys, orders and buyers' emails: no cache may keep them.
    response.headers["Cache-Control"] = "no-store"
    response.headers.setdefault("X-Frame-Options", "DENY")
    asked = request.args.get("lang")
    if asked in LANGUAGES and request.cookies.get(LANG_COOKIE) != asked:
        response.set_cookie(
            LANG_COOKIE,
            asked,
            max_age=365 * 86400,
            httponly=True,
            secure=csrf.cookies_secure(),
            samesite="Lax",
            path="/dashboard",
        )
    return response
