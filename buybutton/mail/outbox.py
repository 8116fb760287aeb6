"""The mail outbox: messages queued in the transaction of the order change that causes them.

An order event (``order.paid`` …) is written into the ``events`` outbox in the order's
transaction (:mod:`buybutton.orders`); :func:`queue_mail` adds, in that same transaction, one
``mail_deliveries`` row per message the event calls for (the receipt to the shopper and the
"new order" notice to the merchant on payment, "shipped", "refunded"). A row is unique per
(event, kind), so a replayed event queues nothing more, and it commits or rolls back with the
order: a message is never lost, and never sent for a change that did not happen. The mail worker
(:mod:`buybutton.mail.delivery`) renders and sends it later, so a mail server that is down never
fails the payment.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, select
from sqlalchemy.exc import IntegrityError

from ..ids import new_id
from ..store.schema import mail_deliveries, merchants

#: What a message is: its template (``buybutton/mail/templates/<kind>.*``).
KINDS = ("receipt", "new_order", "shipped", "refunded")
#: ``new_order`` goes to the merchant; every other kind to the shopper.
MERCHANT_KINDS = frozenset({"new_order"})
STATUSES = ("pending", "sent", "failed")


@dataclass(frozen=True, slots=True)
class MailDelivery:
    """One queued message and what became of it (for operators, the dashboard and tests)."""

    id: str
    order_id: str
    event_id: str | None
    kind: str
    to_address: str
    locale: str | None
    status: str
    attempts: int
    next_attempt_at: int
    last_attempt_at: int | None
    last_error: str | None
    message_id: str | None
    sent_at: int | None
    created_at: int

    def to_dict(self) -> dict[str, Any]:
        return {"object": "mail_delivery", **{n: getattr(self, n) for n in self.__slots__}}


def delivery_from_row(row: Any) -> MailDelivery:
    return MailDelivery(**{name: getattr(row, name) for name in MailDelivery.__slots__})


def queue_mail(
    conn: Connection,
    *,
    order_id: str,
    kind: str,
    to: str,
    locale: str | None,
    event_id: str | None,
    now: int,
) -> MailDelivery | None:
    """Queue one message of ``kind`` about ``order_id`` to ``to``, due ``now``, in the caller's
    transaction. With an ``event_id``: at most once per (event, kind); queuing it again returns
    ``None`` and changes nothing. Without one (a resent receipt): always a new message."""
    if kind not in KINDS:
        raise ValueError(f"unknown mail kind {kind!r}")
    mail_id = new_id("mail")
    values = {
        "id": mail_id,
        "order_id": order_id,
        "event_id": event_id,
        "kind": kind,
        "to_address": to,
        "locale": locale,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }
    try:
        # A savepoint: a clash on (event, kind) means "queued before", and must not undo the
        # caller's order change.
        with conn.begin_nested():
            conn.execute(insert(mail_deliveries).values(**values))
    except IntegrityError:
        if event_id is None:
            raise
        return None
    row = conn.execute(select(mail_deliveries).where(mail_deliveries.c.id == mail_id)).one()
    return delivery_from_row(row)


#: The messages each order event calls for: (kind, to whom).
EVENT_MAIL: dict[str, tuple[str, ...]] = {
    "order.paid": ("receipt", "new_order"),
    "order.shipped": ("shipped",),
    "order.refunded": ("refunded",),
}


def queue_event_mail(
    conn: Connection,
    *,
    event_id: str,
    event_type: str,
    order_id: str,
    merchant_id: str,
    shopper: str | None,
    locale: str | None,
    now: int,
) -> list[MailDelivery]:
    """Queue, in the event's transaction, what the order event ``event_type`` calls for (see
    :data:`EVENT_MAIL`): shopper mail to ``shopper``, the merchant's notice to the merchant's
    ``email``, each only when the address is known. Shopper mail is written in ``locale``; the
    merchant's in English. Returns what was queued."""
    queued = []
    kinds = EVENT_MAIL.get(event_type, ())
    merchant = None
    if MERCHANT_KINDS.intersection(kinds):
        merchant = conn.execute(
            select(merchants.c.email).where(merchants.c.id == merchant_id)
        ).scalar_one_or_none()
    for kind in kinds:
        to = merchant if kind in MERCHANT_KINDS else shopper
        if not to:
            continue
        delivery = queue_mail(
            conn,
            order_id=order_id,
            kind=kind,
            to=to,
            locale=None if kind in MERCHANT_KINDS else locale,
            event_id=event_id,
            now=now,
        )
        if delivery is not None:
            queued.append(delivery)
    return queued


def list_mail(conn: Connection, order_id: str) -> list[MailDelivery]:
    """The messages queued about one order, oldest first."""
    rows = conn.execute(
        select(mail_deliveries)
        .where(mail_deliveries.c.order_id == order_id)
        .order_by(mail_deliveries.c.pk)
    ).all()
    return [delivery_from_row(r) for r in rows]
