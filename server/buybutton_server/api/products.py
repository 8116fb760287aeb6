"""``/v1/products…``: the merchant's products, their files (digital goods) and the tokens
(offers) that sell them."""

from __future__ import annotations

from typing import Any

from flask import g
from flask.typing import ResponseReturnValue

from buybutton import catalog
from buybutton.offers import issue_link, link_dict, list_links, revoke_link

from .. import product_files
from ..links import request_links
from ..runtime import runtime
from ..uploads import streams_upload
from ..validation import json_body, list_response, page_params, query_bool
from .blueprint import bp


@bp.post("/products")
def create_product() -> ResponseReturnValue:
    with runtime().store.transaction() as conn:
        product = catalog.create_product(conn, g.merchant.id, json_body())
    return product.to_dict(), 201


@bp.get("/products")
def list_products() -> ResponseReturnValue:
    limit, starting_after = page_params()
    with runtime().store.read() as conn:
        items, has_more = catalog.list_products(
            conn,
            g.merchant.id,
            limit=limit,
            starting_after=starting_after,
            active=query_bool("active"),
        )
    return list_response(items, has_more, "/v1/products")


@bp.get("/products/<product_id>")
def get_product(product_id: str) -> ResponseReturnValue:
    with runtime().store.read() as conn:
        return catalog.get_product(conn, product_id, merchant_id=g.merchant.id).to_dict()


@bp.route("/products/<product_id>", methods=["PATCH", "POST"])
def update_product(product_id: str) -> ResponseReturnValue:
    with runtime().store.transaction() as conn:
        return catalog.update_product(conn, g.merchant.id, product_id, json_body()).to_dict()


@bp.delete("/products/<product_id>")
def delete_product(product_id: str) -> ResponseReturnValue:
    with runtime().store.transaction() as conn:
        product = catalog.delete_product(conn, g.merchant.id, product_id)
    return {"id": product.id, "object": "product", "deleted": True}


@bp.post("/products/<product_id>/tokens")
def create_token(product_id: str) -> ResponseReturnValue:
    body = json_body()
    with runtime().store.transaction() as conn:
        product = catalog.get_product(conn, product_id, merchant_id=g.merchant.id)
        return issue_link(
            conn,
            runtime().signer,
            product,
            links=request_links(),
            ref=body.get("ref"),
            expires_in=body.get("expires_in"),
            expires_at=body.get("expires_at"),
        ), 201


@bp.post("/products/<product_id>/revoke_tokens")
def revoke_tokens(product_id: str) -> ResponseReturnValue:
    with runtime().store.transaction() as conn:
        return catalog.revoke_tokens(conn, g.merchant.id, product_id).to_dict()


@bp.get("/products/<product_id>/links")
def list_offer_links(product_id: str) -> ResponseReturnValue:
    rt, links = runtime(), request_links()
    with rt.store.read() as conn:
        items = list_links(conn, rt.signer, g.merchant.id, product_id, now=rt.clock())
    return {
        "object": "list",
        "url": f"/v1/products/{product_id}/links",
        "data": [link_dict(link, links) for link in items],
        "has_more": False,
    }


@bp.post("/products/<product_id>/links/<link>/revoke")
def revoke_offer_link(product_id: str, link: str) -> ResponseReturnValue:
    rt = runtime()
    with rt.store.transaction() as conn:
        revoked = revoke_link(conn, rt.signer, g.merchant.id, product_id, link, now=rt.clock())
    return link_dict(revoked, request_links())


@bp.post("/products/<product_id>/file")
@streams_upload
def upload_product_file(product_id: str) -> dict[str, Any]:
    """The product's file (multipart part ``file``), streamed into storage; replaces any."""
    rt = runtime()
    upload = product_files.open_upload(rt, g.merchant.id, product_id)
    return product_files.store_upload(rt, g.merchant.id, product_id, upload).to_dict()


@bp.delete("/products/<product_id>/file")
def delete_product_file(product_id: str) -> dict[str, Any]:
    return product_files.remove_file(runtime(), g.merchant.id, product_id).to_dict()
