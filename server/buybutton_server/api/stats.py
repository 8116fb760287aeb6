"""``GET /v1/stats``: the merchant's conversion funnel per ref and per product (Bearer auth).

The route joins the merchant API blueprint (:data:`.blueprint.bp`), which authenticates every
request.
"""

from __future__ import annotations

from flask import g
from flask.typing import ResponseReturnValue

from buybutton import funnel

from ..runtime import runtime
from .blueprint import bp


@bp.get("/stats")
def merchant_stats() -> ResponseReturnValue:
    """Impressions, clicks, orders, paid orders, revenue and rates; never any shopper identity."""
    with runtime().store.read() as conn:
        return funnel.merchant_stats(conn, g.merchant.id)
