"""The merchant API blueprint (``/v1/…``): every request authenticated by a Bearer secret key,
every mutating one honoring ``Idempotency-Key``. Its routes live in the modules beside it."""

from __future__ import annotations

from flask import Blueprint, g, request

from buybutton import merchants

from .. import idempotency
from ..errors import json_blueprint
from ..runtime import runtime

bp = json_blueprint(Blueprint("api", __name__, url_prefix="/v1"))


@bp.before_request
def _authenticate() -> None:
    header = request.headers.get("Authorization", "")
    key = header[7:].strip() if header[:7].lower() == "bearer " else None
    with runtime().store.read() as conn:
        g.merchant = merchants.authenticate(conn, key)


# After _authenticate: an Idempotency-Key belongs to the merchant who sent it.
idempotency.install(bp)
