"""Bringing our orders in line with what the payment provider knows.

Webhooks are the fast path; this is the safety net. :func:`reconcile_pending_orders` (the
``buybutton orders reconcile`` command) reads back the payment session of every stale ``pending``
order and applies what it finds, so a webhook lost for good never loses a paid order.
:func:`sync_order` does the same for one order (the success page uses it, so a shopper who comes
back from checkout sees "paid" even before the webhook arrives). Both change orders only through
:func:`buybutton.orders.apply_provider_event`, with event ids derived from the session, so running
them again, or alongside the webhook, changes nothing twice.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass

from sqlalchemy import or_, select, update

from . import orders
from .errors import ProviderError
from .orders import Order
from .payments.base import PaymentProvider, PaymentSession, ProviderEvent
from .store import Store
from .store.schema import orders as orders_table

log = logging.getLogger("buybutton.reconcile")

#: A pending order younger than this is left to its webhook.
DEFAULT_STALE_AFTER = 10 * 60


@dataclass(frozen=True, slots=True)
class ReconcileReport:
    checked: int = 0
    paid: int = 0
    expired: int = 0
    failed: int = 0  # sessions the provider could not be asked about (tried again next run)


def receive_provider_event(
    store: Store, provider: str, event: ProviderEvent, *, now: float | None = None
) -> Order | None:
    """Apply a provider's webhook event. An event that names no order but a payment (a refund
    reported on the charge) is matched to the order that payment paid."""
    if event.order_id is None and event.payment_id:
        with store.read() as conn:
            order_id = conn.execute(
                select(orders_table.c.id).where(orders_table.c.payment_id == event.payment_id)
            ).scalar()
        if order_id is not None:
            event = dataclasses.replace(event, order_id=order_id)
    return orders.apply_provider_event(store, provider, event, now=now)


def _event_for(order: Order, session: PaymentSession) -> ProviderEvent | None:
    if session.paid:
        return ProviderEvent(
            id=f"{session.id}:paid",
            kind="paid",
            type="reconcile.paid",
            order_id=order.id,
            session_id=session.id,
            amount=session.amount_total,
            currency=session.currency,
            payment_id=session.payment_id,
            amount_discount=session.amount_discount,
            customer=session.customer,
            shipping=session.shipping,
        )
    if session.status == "expired":
        return ProviderEvent(
            id=f"{session.id}:expired",
            kind="expired",
            type="reconcile.expired",
            order_id=order.id,
            session_id=session.id,
        )
    return None


def sync_order(
    store: Store, provider: PaymentProvider, order: Order, *, now: float | None = None
) -> tuple[Order, PaymentSession | None]:
    """Read back ``order``'s payment session and apply it. Returns the order as it now is and the
    session (``None`` when the order has no session, or is not this provider's). Raises
    :class:`~buybutton.errors.ProviderError` when the provider cannot be asked."""
    if not order.provider_session_id or order.provider != provider.name:
        return order, None
    session = provider.retrieve_session(order.provider_session_id)
    event = _event_for(order, session)
    if event is not None and order.status in ("pending", "expired", "canceled"):
        orders.apply_provider_event(store, provider.name, event, now=now)
    with store.read() as conn:
        return orders.get_order(conn, order.id), session


def claim_provider_read(
    store: Store, order_id: str, *, interval: int, now: float | None = None
) -> bool:
    """May a shopper page ask the provider about ``order_id`` now? True at most once per
    ``interval`` seconds per order, across every worker: the claim is one conditional UPDATE of
    ``orders.provider_checked_at``, so anonymous reloads of a success page cannot turn into
    provider API calls (the webhook and ``reconcile_pending_orders`` are not limited)."""
    stamp = int(now if now is not None else time.time())
    with store.transaction() as conn:
        claimed = conn.execute(
            update(orders_table)
            .where(
                orders_table.c.id == order_id,
                or_(
                    orders_table.c.provider_checked_at.is_(None),
                    orders_table.c.provider_checked_at <= stamp - interval,
                ),
            )
            .values(provider_checked_at=stamp)
        )
    return claimed.rowcount == 1


def reconcile_pending_orders(
    store: Store,
    provider: PaymentProvider,
    *,
    stale_after: int = DEFAULT_STALE_AFTER,
    now: float | None = None,
    limit: int = 1000,
) -> ReconcileReport:
    """Sync every ``pending`` order of ``provider`` with a session opened at least
    ``stale_after`` seconds ago. A provider failure on one order is logged and counted; the
    others go on."""
    stamp = int(now if now is not None else time.time())
    with store.read() as conn:
        rows = conn.execute(
            select(orders_table)
            .where(
                orders_table.c.status == "pending",
                orders_table.c.provider == provider.name,
                orders_table.c.provider_session_id.is_not(None),
                orders_table.c.created_at <= stamp - stale_after,
            )
            .order_by(orders_table.c.pk)
            .limit(limit)
        ).all()
    checked = paid = expired = failed = 0
    for row in rows:
        with store.read() as conn:
            order = orders.get_order(conn, row.id)
        checked += 1
        try:
            after, _ = sync_order(store, provider, order, now=stamp)
        except ProviderError as exc:
            log.warning("could not reconcile order %s: %s", order.id, exc.message)
            failed += 1
            continue
        paid += after.status == "paid"
        expired += after.status == "expired"
    return ReconcileReport(checked=checked, paid=paid, expired=expired, failed=failed)
