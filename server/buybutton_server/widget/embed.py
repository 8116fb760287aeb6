"""``GET /v1/embed/<token>``: the product card a widget shows (CORS open, errors included)."""

from __future__ import annotations

from flask import Response, current_app, request
from flask.typing import ResponseReturnValue

from buybutton.offers import Offer

from ..errors import answers_json
from ..offers import Rendered, cached_offer
from .blueprint import bp

_HEADERS = {"Access-Control-Allow-Origin": "*", "Vary": "Accept-Language"}


def _card(offer: Offer) -> Rendered:
    body = current_app.json.dumps(offer.embed_json()).encode() + b"\n"
    return body, "application/json", _HEADERS


@bp.get("/v1/embed/<token>")
@answers_json
def embed(token: str) -> ResponseReturnValue:
    # Cached and revalidated by ETag: the widget's one request costs no database work.
    return cached_offer("embed", token, _card)


@bp.after_request
def _cors_errors(response: Response) -> Response:
    # Widgets on any site read the embed answer, errors included (to show a quiet state).
    if request.path.startswith("/v1/embed/"):
        response.headers["Access-Control-Allow-Origin"] = "*"
    return response
