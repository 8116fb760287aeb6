"""``/v1/orders…``: the merchant's orders and refunds."""

from __future__ import annotations

from flask import g
from flask.typing import ResponseReturnValue

from buybutton import orders

from ..runtime import runtime
from ..validation import list_response, page_params, query_str, query_time
from .blueprint import bp


@bp.get("/orders")
def list_orders() -> ResponseReturnValue:
    limit, starting_after = page_params()
    with runtime().store.read() as conn:
        items, has_more = orders.list_orders(
            conn,
            g.merchant.id,
            limit=limit,
            starting_after=starting_after,
            status=query_str("status"),
            ref=query_str("ref"),
            product_id=query_str("product_id"),
            created_gte=query_time("created[gte]"),
            created_lt=query_time("created[lt]"),
        )
    return list_response(items, has_more, "/v1/orders")


@bp.get("/orders/<order_id>")
def get_order(order_id: str) -> ResponseReturnValue:
    with runtime().store.read() as conn:
        return orders.get_order(conn, order_id, merchant_id=g.merchant.id).to_dict()


@bp.post("/orders/<order_id>/refund")
def refund_order(order_id: str) -> ResponseReturnValue:
    rt = runtime()
    return orders.refund_order(rt.store, rt.provider, g.merchant.id, order_id).to_dict()
