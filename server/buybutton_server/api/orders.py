"""``/v1/orders…``: the merchant's orders, their refunds, fulfilment and CSV export."""

from __future__ import annotations

from flask import Response, g
from flask.typing import ResponseReturnValue

from buybutton import orders
from buybutton.errors import InvalidRequest

from ..runtime import runtime
from ..validation import json_body, list_response, page_params, query_str, query_time
from .blueprint import bp


def _filters() -> dict[str, str | None]:
    return {
        "status": query_str("status"),
        "ref": query_str("ref"),
        "product_id": query_str("product_id"),
        "fulfillment": query_str("fulfillment"),
    }


@bp.get("/orders")
def list_orders() -> ResponseReturnValue:
    limit, starting_after = page_params()
    with runtime().store.read() as conn:
        items, has_more = orders.list_orders(
            conn,
            g.merchant.id,
            limit=limit,
            starting_after=starting_after,
            created_gte=query_time("created[gte]"),
            created_lt=query_time("created[lt]"),
            **_filters(),
        )
    return list_response(items, has_more, "/v1/orders")


@bp.get("/orders.csv")
def export_orders() -> Response:
    """The orders with buyer and address, for a shipping tool (formula-safe CSV)."""
    with runtime().store.read() as conn:
        document = orders.orders_csv(conn, g.merchant.id, **_filters())
    return Response(
        document,
        mimetype="text/csv",
        headers={
            "Content-Disposition": 'attachment; filename="orders.csv"',
            "Cache-Control": "no-store",
        },
    )


@bp.get("/orders/<order_id>")
def get_order(order_id: str) -> ResponseReturnValue:
    with runtime().store.read() as conn:
        return orders.get_order(conn, order_id, merchant_id=g.merchant.id).to_dict()


@bp.post("/orders/<order_id>/refund")
def refund_order(order_id: str) -> ResponseReturnValue:
    rt = runtime()
    return orders.refund_order(rt.store, rt.provider, g.merchant.id, order_id).to_dict()


@bp.post("/orders/<order_id>/fulfill")
def fulfill_order(order_id: str) -> ResponseReturnValue:
    body = json_body()
    unknown = sorted(set(body) - {"carrier", "tracking_number", "tracking_url"})
    if unknown:
        raise InvalidRequest(f"Unknown field {unknown[0]!r}.", param=unknown[0])
    with runtime().store.transaction() as conn:
        return orders.fulfill_order(
            conn,
            g.merchant.id,
            order_id,
            carrier=body.get("carrier"),
            tracking_number=body.get("tracking_number"),
            tracking_url=body.get("tracking_url"),
        ).to_dict()


@bp.post("/orders/<order_id>/deliver")
def deliver_order(order_id: str) -> ResponseReturnValue:
    with runtime().store.transaction() as conn:
        return orders.deliver_order(conn, g.merchant.id, order_id).to_dict()
