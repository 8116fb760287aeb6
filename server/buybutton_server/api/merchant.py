"""``/v1/merchant``: the authenticated merchant's own account."""

from __future__ import annotations

from flask import g
from flask.typing import ResponseReturnValue

from buybutton import merchants
from buybutton.merchants import Merchant

from ..runtime import runtime
from ..validation import json_body
from .blueprint import bp


@bp.get("/merchant")
def get_merchant() -> ResponseReturnValue:
    merchant: Merchant = g.merchant
    return merchant.to_dict()


@bp.patch("/merchant")
def update_merchant() -> ResponseReturnValue:
    with runtime().store.transaction() as conn:
        return merchants.update_merchant(conn, g.merchant.id, json_body()).to_dict()
