"""The ``<buy-button>`` widget's two public endpoints: its script and its funnel events.

``GET /widget.js`` serves ``widget/buy-button.js`` minified, with ``widget/buy-button.css``
minified inside it (built once per process by :func:`buybutton_widget.asset`), gzipped when the
browser accepts it, with an ETag derived from the content; ``/widget.js?v=VERSION`` (the current
content version) is cacheable for a year.
``POST /v1/events`` takes the widget's beacons (text/plain JSON, no cookies) and answers 204.
"""

from __future__ import annotations

import json

from flask import Blueprint, Response, request

import buybutton_widget
from buybutton import funnel
from buybutton.errors import InvalidRequest

from .runtime import public_url, runtime
from .validation import refuse_unstorable

bp = Blueprint("widget", __name__)

MAX_EVENT_BYTES = 2048
VERSIONED_MAX_AGE = 365 * 86400
# The snippet merchants paste names /widget.js without a version: a day's cache lets fixes
# reach every page within a day, and the ETag makes revalidation a 304.
UNVERSIONED_MAX_AGE = 86400


def widget_url() -> str:
    """The absolute, versioned (immutable) URL of the current widget."""
    return public_url(f"/widget.js?v={buybutton_widget.asset().version}")


@bp.get("/widget.js")
def widget_script():
    asset = buybutton_widget.asset()
    gzipped = "gzip" in request.headers.get("Accept-Encoding", "")
    response = Response(asset.gzipped if gzipped else asset.body,
                        mimetype="text/javascript")
    if gzipped:
        response.headers["Content-Encoding"] = "gzip"
    response.set_etag(asset.version + ("-gz" if gzipped else ""))
    pinned = request.args.get("v") == asset.version
    response.headers["Cache-Control"] = (f"public, max-age={VERSIONED_MAX_AGE}, immutable" if pinned
                                         else f"public, max-age={UNVERSIONED_MAX_AGE}")
    response.headers["Vary"] = "Accept-Encoding"
    # Lets pages load it with crossorigin/integrity attributes.
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response.make_conditional(request)


@bp.post("/v1/events")
def widget_event():
    """One impression or click; beacons send text/plain, so the body is read whatever its type."""
    if (request.content_length or 0) > MAX_EVENT_BYTES:
        raise InvalidRequest("An event is at most 2 KB.", code="request_too_large", status=413)
    raw = request.get_data(cache=False)[:MAX_EVENT_BYTES + 1]
    if len(raw) > MAX_EVENT_BYTES:
        raise InvalidRequest("An event is at most 2 KB.", code="request_too_large", status=413)
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):  # RecursionError: "[[[[…" nested past the parser's limit
        raise InvalidRequest("The event is not valid JSON.", code="invalid_json") from None
    if isinstance(data, dict):
        refuse_unstorable(data)
    kind, token = funnel.validate_beacon(data)
    rt = runtime()
    claims = rt.signer.verify_token(token)
    with rt.store.transaction() as conn:
        funnel.record_beacon(conn, claims, kind)
    return "", 204


@bp.after_request
def _cors(response):
    # Events come from merchants' pages on any origin, without credentials.
    if request.path == "/v1/events":
        response.headers["Access-Control-Allow-Origin"] = "*"
        if request.method == "OPTIONS":
            response.headers["Access-Control-Allow-Methods"] = "POST"
            response.headers["Access-Control-Allow-Headers"] = "Content-Type"
            response.headers["Access-Control-Max-Age"] = "86400"
    return response
