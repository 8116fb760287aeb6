"""The merchant events outbox: fan-out to endpoints, the event payload, delivery records.

The order state machine writes each merchant event (``order.paid`` …) into the ``events`` outbox
in the same transaction as the order change, and :func:`enqueue_deliveries` adds, in that same
transaction, one ``webhook_deliveries`` row for every endpoint subscribed at that moment. So an
event is never lost, never invented, and goes only to endpoints that existed when it happened.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, select, update

from ..errors import Conflict, ErrorCode, NotFound
from ..store.schema import events
from ..store.schema import webhook_deliveries as deliveries
from ..store.schema import webhook_endpoints as endpoints
from .endpoints import endpoint_from_row


def enqueue_deliveries(
    conn: Connection, event_id: str, merchant_id: str, event_type: str, now: int
) -> int:
    """Queue the event for every endpoint of the merchant subscribed to its type, due now.
    Called in the transaction that writes the event; returns how many were queued."""
    rows = conn.execute(
        select(endpoints).where(
            endpoints.c.merchant_id == merchant_id,
            endpoints.c.deleted_at.is_(None),
            endpoints.c.enabled.is_(True),
        )
    ).all()
    targets = [r.id for r in map(endpoint_from_row, rows) if r.subscribes_to(event_type)]
    if targets:
        conn.execute(
            insert(deliveries),
            [
                {
                    "event_id": event_id,
                    "endpoint_id": endpoint_id,
                    "status": "pending",
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                }
                for endpoint_id in targets
            ],
        )
    return len(targets)


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


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    """One event's delivery to one endpoint, as the merchant sees it."""

    id: int
    event_id: str
    event_type: str
    endpoint_id: str
    endpoint_url: str
    #: ``pending`` (queued or retrying), ``succeeded``, ``failed`` (gave up) or ``canceled``.
    status: str
    attempts: int
    last_status: int | None
    last_error: str | None
    last_attempt_at: int | None
    next_attempt_at: int
    created_at: int


def recent_deliveries(
    conn: Connection, merchant_id: str, *, limit: int = 20
) -> list[DeliveryRecord]:
    """The merchant's latest deliveries (every endpoint, deleted ones included), newest first."""
    rows = conn.execute(
        select(
            deliveries,
            events.c.type.label("event_type"),
            endpoints.c.url.label("endpoint_url"),
        )
        .join(events, events.c.id == deliveries.c.event_id)
        .join(endpoints, endpoints.c.id == deliveries.c.endpoint_id)
        .where(endpoints.c.merchant_id == merchant_id)
        .order_by(deliveries.c.pk.desc())
        .limit(limit)
    ).all()
    return [
        DeliveryRecord(
            id=r.pk,
            event_id=r.event_id,
            event_type=r.event_type,
            endpoint_id=r.endpoint_id,
            endpoint_url=r.endpoint_url,
            status=r.status,
            attempts=r.attempts,
            last_status=r.last_status,
            last_error=r.last_error,
            last_attempt_at=r.last_attempt_at,
            next_attempt_at=r.next_attempt_at,
            created_at=r.created_at,
        )
        for r in rows
    ]


def resend_delivery(
    conn: Connection, merchant_id: str, delivery_id: int, *, now: float | None = None
) -> None:
    """Queue one delivery of the merchant's again, due now, with a fresh retry schedule (the
    worker signs and posts it as it does every delivery; the event keeps its id, so a receiver
    that already has it can tell). :class:`NotFound` for a delivery that is not the merchant's,
    :class:`Conflict` when its endpoint was deleted or a worker is sending it right now."""
    row = conn.execute(
        select(deliveries.c.pk, deliveries.c.lease_expires_at, endpoints.c.deleted_at)
        .join(endpoints, endpoints.c.id == deliveries.c.endpoint_id)
        .where(deliveries.c.pk == delivery_id, endpoints.c.merchant_id == merchant_id)
    ).first()
    if row is None:
        raise NotFound(f"No such delivery: {delivery_id!r}.", code=ErrorCode.NOT_FOUND, param="id")
    stamp = int(now if now is not None else time.time())
    if row.deleted_at is not None:
        raise Conflict("This endpoint was deleted; its deliveries cannot be sent again.")
    if row.lease_expires_at is not None and row.lease_expires_at > stamp:
        raise Conflict("This delivery is being sent right now.")
    conn.execute(
        update(deliveries)
        .where(deliveries.c.pk == row.pk)
        .values(
            status="pending",
            attempts=0,
            next_attempt_at=stamp,
            lease_token=None,
            lease_expires_at=None,
            delivered_at=None,
        )
    )
