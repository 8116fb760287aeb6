"""The merchant events outbox: fan-out to endpoints, the event payload, delivery records.

The order state machine writes each merchant event (``order.paid`` …) into the ``events`` outbox
in the same transaction as the order change, and :func:`enqueue_deliveries` adds, in that same
transaction, one ``webhook_deliveries`` row for every endpoint subscribed at that moment. So an
event is never lost, never invented, and goes only to endpoints that existed when it happened.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, insert, select

from ..store.schema import webhook_deliveries as deliveries
from ..store.schema import webhook_endpoints as endpoints
from .endpoints import endpoint_from_row


def enqueue_deliveries(
    conn: Connection, event_id: str, merchant_id: str, event_type: str, now: int
) -> int:
    """Queue the event for every endpoint of the merchant subscribed to its type, due now.
    Called in the transaction that writes the event; returns how many were queued."""
    return enqueue_many(conn, [(event_id, merchant_id, event_type)], now)


def enqueue_many(conn: Connection, queued: list[tuple[str, str, str]], now: int) -> int:
    """:func:`enqueue_deliveries` for many ``(event_id, merchant_id, event_type)`` at once: one
    read of the endpoints of the merchants named, one insert of all the deliveries."""
    if not queued:
        return 0
    merchant_ids = sorted({merchant_id for _, merchant_id, _ in queued})
    rows = conn.execute(
        select(endpoints)
        .where(
            endpoints.c.merchant_id.in_(merchant_ids),
            endpoints.c.deleted_at.is_(None),
            endpoints.c.enabled.is_(True),
        )
        .order_by(endpoints.c.pk)
    ).all()
    by_merchant: dict[str, list[Any]] = {}
    for row in rows:
        by_merchant.setdefault(row.merchant_id, []).append(endpoint_from_row(row))
    values = [
        {
            "event_id": event_id,
            "endpoint_id": endpoint.id,
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for event_id, merchant_id, event_type in queued
        for endpoint in by_merchant.get(merchant_id, ())
        if endpoint.subscribes_to(event_type)
    ]
    if values:
        conn.execute(insert(deliveries), values)
    return len(values)


def event_payload(event_id: str, event_type: str, created: int, data: str) -> bytes:
    """The JSON body POSTed to endpoints: ``{id, object: "event", type, created, data: {object}}``;
    ``data`` is the outbox row's JSON text of the order."""
    body = {
        "id": event_id,
        "object": "event",
        "type": event_type,
        "created": created,
        "data": {"object": json.loads(data)},
    }
    return json.dumps(body, separators=(",", ":")).encode()


def list_deliveries(conn: Connection, event_id: str) -> list[dict[str, Any]]:
    """The delivery records of one event (for operators and tests)."""
    rows = conn.execute(
        select(deliveries).where(deliveries.c.event_id == event_id).order_by(deliveries.c.pk)
    ).all()
    return [dict(row._mapping) for row in rows]
