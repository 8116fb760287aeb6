"""The merchant API (``/v1/products…``, ``/v1/orders…``), authenticated by a Bearer secret key."""

from __future__ import annotations

from flask import Blueprint, g, request

from buybutton import catalog, merchants, orders
from buybutton.offers import issue_offer

from . import idempotency
from .runtime import public_url, runtime
from .validation import json_body, list_response, page_params, query_bool, query_str

bp = Blueprint("api", __name__, url_prefix="/v1")


@bp.before_request
def _authenticate():
    header = request.headers.get("Authorization", "")
    key = header[7:].strip() if header[:7].lower() == "bearer " else None
    with runtime().store.read() as conn:
        g.merchant = merchants.authenticate(conn, key)


# After _authenticate: an Idempotency-Key belongs to the merchant who sent it.
idempotency.install(bp)


@bp.get("/merchant")
def get_merchant():
    return g.merchant.to_dict()


@bp.patch("/merchant")
def update_merchant():
    with runtime().store.transaction() as conn:
        return merchants.update_merchant(conn, g.merchant.id, json_body()).to_dict()


@bp.post("/products")
def create_product():
    with runtime().store.transaction() as conn:
        product = catalog.create_product(conn, g.merchant.id, json_body())
    return product.to_dict(), 201


@bp.get("/products")
def list_products():
    limit, starting_after = page_params()
    with runtime().store.read() as conn:
        items, has_more = catalog.list_products(conn, g.merchant.id, limit=limit,
                                                starting_after=starting_after,
                                                active=query_bool("active"))
    return list_response(items, has_more, "/v1/products")


@bp.get("/products/<product_id>")
def get_product(product_id: str):
    with runtime().store.read() as conn:
        return catalog.get_product(conn, product_id, merchant_id=g.merchant.id).to_dict()


@bp.route("/products/<product_id>", methods=["PATCH", "POST"])
def update_product(product_id: str):
    with runtime().store.transaction() as conn:
        return catalog.update_product(conn, g.merchant.id, product_id, json_body()).to_dict()


@bp.delete("/products/<product_id>")
def delete_product(product_id: str):
    with runtime().store.transaction() as conn:
        product = catalog.delete_product(conn, g.merchant.id, product_id)
    return {"id": product.id, "object": "product", "deleted": True}


@bp.post("/products/<product_id>/tokens")
def create_token(product_id: str):
    body = json_body()
    with runtime().store.read() as conn:
        product = catalog.get_product(conn, product_id, merchant_id=g.merchant.id)
    return issue_offer(runtime().signer, product, base_url=public_url(), ref=body.get("ref"),
                       expires_in=body.get("expires_in"), expires_at=body.get("expires_at")), 201


@bp.post("/products/<product_id>/revoke_tokens")
def revoke_tokens(product_id: str):
    with runtime().store.transaction() as conn:
        return catalog.revoke_tokens(conn, g.merchant.id, product_id).to_dict()


@bp.get("/orders")
def list_orders():
    limit, starting_after = page_params()
    with runtime().store.read() as conn:
        items, has_more = orders.list_orders(
            conn, g.merchant.id, limit=limit, starting_after=starting_after,
            status=query_str("status"), ref=query_str("ref"), product_id=query_str("product_id"))
    return list_response(items, has_more, "/v1/orders")


@bp.get("/orders/<order_id>")
def get_order(order_id: str):
    with runtime().store.read() as conn:
        return orders.get_order(conn, order_id, merchant_id=g.merchant.id).to_dict()


@bp.post("/orders/<order_id>/refund")
def refund_order(order_id: str):
    rt = runtime()
    return orders.refund_order(rt.store, rt.provider, g.merchant.id, order_id).to_dict()
