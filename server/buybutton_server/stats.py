"""``GET /v1/stats``: the merchant's conversion funnel per ref and per product (Bearer auth).

The route joins the merchant API blueprint (``api.bp``), which authenticates every request; this
module is imported by ``create_app`` before the blueprints are registered.
"""

from __future__ import annotations

from flask import g

from buybutton import funnel

from .api import bp
from .runtime import runtime


@bp.get("/stats")
def merchant_stats():
    """Impressions, clicks, orders, paid orders, revenue and rates; never any shopper identity."""
    with runtime().store.read() as conn:
        return funnel.merchant_stats(conn, g.merchant.id)
