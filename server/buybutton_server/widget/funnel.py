"""``POST /v1/funnel``: the widget's funnel beacons (an impression, a click), counted per offer.

Beacons are text/plain JSON with no cookies (``navigator.sendBeacon``), from merchants' pages on
any origin; the answer is 204. ``POST /v1/events``, this route's first name, stays as a
deprecated alias: widgets already deployed, and cached for a day, still post there.
"""

from __future__ import annotations

import json

from flask import Response, request
from flask.typing import ResponseReturnValue

from buybutton import funnel
from buybutton.errors import ErrorCode, InvalidRequest

from ..errors import answers_json
from ..runtime import runtime
from ..validation import refuse_unstorable
from .blueprint import bp

MAX_BEACON_BYTES = 2048
BEACON_PATHS = ("/v1/funnel", "/v1/events")


@bp.post("/v1/funnel")
@bp.post("/v1/events")  # the first name of this route, deprecated: widgets already deployed use it
@answers_json
def funnel_beacon() -> ResponseReturnValue:
    """One impression or click; beacons send text/plain, so the body is read whatever its type."""
    if (request.content_length or 0) > MAX_BEACON_BYTES:
        raise InvalidRequest(
            "An event is at most 2 KB.", code=ErrorCode.REQUEST_TOO_LARGE, status=413
        )
    raw = request.get_data(cache=False)[: MAX_BEACON_BYTES + 1]
    if len(raw) > MAX_BEACON_BYTES:
        raise InvalidRequest(
            "An event is at most 2 KB.", code=ErrorCode.REQUEST_TOO_LARGE, status=413
        )
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):  # RecursionError: "[[[[…" nested past the parser's limit
        raise InvalidRequest("The event is not valid JSON.", code=ErrorCode.INVALID_JSON) from None
    if isinstance(data, dict):
        refuse_unstorable(data)
    kind, token = funnel.validate_beacon(data)
    rt = runtime()
    claims = rt.signer.verify_token(token)
    with rt.store.transaction() as conn:
        funnel.record_beacon(conn, claims, kind)
    return "", 204


@bp.after_request
def _cors(response: Response) -> Response:
    # Events come from merchants' pages on any origin, without credentials.
    if request.path in BEACON_PATHS:
        response.headers["Access-Control-Allow-Origin"] = "*"
        if request.method == "OPTIONS":
            response.headers["Access-Control-Allow-Methods"] = "POST"
            response.headers["Access-Control-Allow-Headers"] = "Content-Type"
            response.headers["Access-Control-Max-Age"] = "86400"
    return response
