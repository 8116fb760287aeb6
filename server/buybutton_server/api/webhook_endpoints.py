"""The merchant API's webhook endpoints (``/v1/webhook_endpoints…``), on the authenticated
merchant blueprint (:data:`.blueprint.bp`). Delivery itself runs in workers (``buybutton events deliver``)."""

from __future__ import annotations

from flask import g
from flask.typing import ResponseReturnValue

from buybutton import webhooks

from ..runtime import runtime
from ..validation import json_body, list_response, page_params
from .blueprint import bp


@bp.post("/webhook_endpoints")
def create_webhook_endpoint() -> ResponseReturnValue:
    rt = runtime()
    endpoint = webhooks.register_endpoint(
        rt.store, g.merchant.id, json_body(), allow_private=rt.settings.webhook_allow_private
    )
    return endpoint.to_dict(include_secret=True), 201


@bp.get("/webhook_endpoints")
def list_webhook_endpoints() -> ResponseReturnValue:
    limit, starting_after = page_params()
    with runtime().store.read() as conn:
        items, has_more = webhooks.list_endpoints(
            conn, g.merchant.id, limit=limit, starting_after=starting_after
        )
    return list_response(items, has_more, "/v1/webhook_endpoints")


@bp.get("/webhook_endpoints/<endpoint_id>")
def get_webhook_endpoint(endpoint_id: str) -> ResponseReturnValue:
    with runtime().store.read() as conn:
        return webhooks.get_endpoint(conn, g.merchant.id, endpoint_id).to_dict()


@bp.delete("/webhook_endpoints/<endpoint_id>")
def delete_webhook_endpoint(endpoint_id: str) -> ResponseReturnValue:
    with runtime().store.transaction() as conn:
        endpoint = webhooks.delete_endpoint(conn, g.merchant.id, endpoint_id)
    return {"id": endpoint.id, "object": "webhook_endpoint", "deleted": True}
