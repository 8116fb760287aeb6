"""``GET /v1/embed/<token>``: the product card a widget shows (CORS open, errors included)."""

from __future__ import annotations

from flask import Response, request
from flask.typing import ResponseReturnValue

from ..errors import answers_json
from ..offers import request_offer
from .blueprint import bp


@bp.get("/v1/embed/<token>")
@answers_json
def embed(token: str) -> ResponseReturnValue:
    return (
        request_offer(token).embed_json(),
        200,
        {
            "Access-Control-Allow-Origin": "*",
            "Cache-Control": "public, max-age=30",
            "Vary": "Accept-Language",
        },
    )


@bp.after_request
def _cors_errors(response: Response) -> Response:
    # Widgets on any site read the embed answer, errors included (to show a quiet state).
    if request.path.startswith("/v1/embed/"):
        response.headers["Access-Control-Allow-Origin"] = "*"
    return response
