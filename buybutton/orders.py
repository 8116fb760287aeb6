"""The order state machine. No other code writes an order's status.

    pending ──paid──▶ paid ──refunded──▶ refunded
       │  ╲
       │   ╲──expired / canceled (stock given back)
       ▼
    expired | canceled ──paid (money arrived late: re-reserve, flag if oversold)──▶ paid

Every transition first locks the order's row (``SELECT … FOR UPDATE`` on PostgreSQL; on SQLite a
write transaction begins ``IMMEDIATE``, so it holds the database's write lock before it reads) and
decides on what it locked, inside the caller's transaction. A racing transition waits, then sees
the outcome: applying one twice, or two at once, changes the order exactly once, its stock adds up
and its events tell the story in the order it happened (never ``order.paid`` then ``order.expired``).
A payment whose amount or currency differs from the order's flags the order instead of paying it.
Each change writes its merchant event (``order.paid`` …) into the outbox in the same transaction.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from . import catalog
from .errors import Conflict, ErrorCode, InvalidRequest, NotFound, RateLimited, SoldOut
from .ids import new_id
from .money import MAX_AMOUNT
from .payments.base import PaymentProvider, ProviderEvent
from .store import Store, fetch_page
from .store.schema import events, orders, provider_events
from .tokens import TokenClaims
from .webhooks import enqueue_deliveries

STATUSES = ("pending", "paid", "expired", "canceled", "refunded")
MAX_QUANTITY = catalog.MAX_QUANTITY


@dataclass(frozen=True, slots=True)
class Order:
    id: str
    merchant_id: str
    product_id: str
    quantity: int
    unit_amount: int
    amount: int
    currency: str
    status: str
    ref: str | None
    provider: str
    provider_session_id: str | None
    checkout_url: str | None
    payment_id: str | None
    amount_paid: int | None
    flag: str | None
    stock_reserved: bool
    created_at: int
    updated_at: int
    paid_at: int | None
    expires_at: int

    def to_dict(self) -> dict[str, Any]:
        """The merchant-facing form (no provider internals)."""
        data = asdict(self)
        for private in ("provider_session_id", "checkout_url", "stock_reserved"):
            data.pop(private)
        return {"object": "order", **data}


def _order(row) -> Order:
    return Order(**{name: getattr(row, name) for name in Order.__slots__})


def _now(now: float | None) -> int:
    return int(now if now is not None else time.time())


def get_order(conn: Connection, order_id: str, *, merchant_id: str | None = None) -> Order:
    """The order ``order_id`` (of ``merchant_id``, when given); :class:`NotFound` otherwise."""
    query = select(orders).where(orders.c.id == order_id)
    if merchant_id is not None:
        query = query.where(orders.c.merchant_id == merchant_id)
    row = conn.execute(query).first()
    if row is None:
        raise NotFound(f"No such order: {order_id!r}.", code=ErrorCode.ORDER_NOT_FOUND, param="id")
    return _order(row)


def list_orders(
    conn: Connection,
    merchant_id: str,
    *,
    limit: int = 20,
    starting_after: str | None = None,
    status: str | None = None,
    ref: str | None = None,
    product_id: str | None = None,
):
    """A page of the merchant's orders, newest first: ``(orders, has_more)``."""
    where = orders.c.merchant_id == merchant_id
    if status is not None:
        if status not in STATUSES:
            raise InvalidRequest(f"status must be one of {', '.join(STATUSES)}.", param="status")
        where &= orders.c.status == status
    if ref is not None:
        where &= orders.c.ref == ref
    if product_id is not None:
        where &= orders.c.product_id == product_id
    rows, has_more = fetch_page(conn, orders, where, limit=limit, starting_after=starting_after)
    return [_order(r) for r in rows], has_more


def _emit(conn: Connection, order: Order, event_type: str, now: int) -> None:
    event_id = new_id("evt")
    conn.execute(
        insert(events).values(
            id=event_id,
            merchant_id=order.merchant_id,
            type=event_type,
            order_id=order.id,
            data=json.dumps(order.to_dict(), separators=(",", ":")),
            created_at=now,
        )
    )
    # Same transaction: the endpoints subscribed right now, and only they, will receive it.
    enqueue_deliveries(conn, event_id, order.merchant_id, event_type, now)


def _lock(conn: Connection, order_id: str) -> Order:
    """The order, its row locked until the caller's transaction ends: every transition decides on
    this, never on an earlier read. (SQLite renders no ``FOR UPDATE``: there the write transaction
    took the database's write lock when it began.) :class:`NotFound` for an unknown order."""
    row = conn.execute(select(orders).where(orders.c.id == order_id).with_for_update()).first()
    if row is None:
        raise NotFound(f"No such order: {order_id!r}.", code=ErrorCode.ORDER_NOT_FOUND, param="id")
    return _order(row)


def _move(conn: Connection, order: Order, target: str, now: int, **values) -> Order:
    """Move the locked ``order`` to ``target`` and write its event."""
    conn.execute(
        update(orders)
        .where(orders.c.id == order.id)
        .values(status=target, updated_at=now, **values)
    )
    moved = get_order(conn, order.id)
    _emit(conn, moved, f"order.{target}", now)
    return moved


# -- creating orders ------------------------------------------------------------------------


def create_order(
    conn: Connection,
    claims: TokenClaims,
    quantity: int,
    *,
    provider: str,
    ttl_seconds: int,
    checkout_key: str | None = None,
    client_key: str | None = None,
    max_held_units: int = 0,
    checkout_id: str | None = None,
    now: float | None = None,
) -> Order:
    """Create a ``pending`` order for the offer in ``claims``, reserving stock.

    ``checkout_id`` (see :func:`buybutton.checkout.validate_checkout_id`) is the widget's id of
    the click that started it, which :func:`checkout_status` answers for.

    The order holds its stock for the product's ``hold_seconds``, else ``ttl_seconds``.
    ``client_key`` (see :func:`buybutton.checkout.client_key`) names who asks; with
    ``max_held_units`` > 0, that client may hold at most so many units of stock in pending
    orders at once. Raises what :func:`catalog.resolve_token` raises, :class:`InvalidRequest`
    (``quantity_over_max``) beyond the product's ``max_per_order``, :class:`RateLimited`
    (``too_many_held_units``) and :class:`SoldOut`. The caller's transaction makes the
    reservation and the order one atomic step.
    """
    if (
        isinstance(quantity, bool)
        or not isinstance(quantity, int)
        or not 1 <= quantity <= MAX_QUANTITY
    ):
        raise InvalidRequest(
            f"quantity must be an integer from 1 to {MAX_QUANTITY}.", param="quantity"
        )
    if claims.amount * quantity > MAX_AMOUNT:
        raise InvalidRequest(
            f"An order may total at most {MAX_AMOUNT} minor units of its currency; order fewer.",
            param="quantity",
        )
    product = catalog.resolve_token(conn, claims)
    if quantity > product.max_per_order:
        raise InvalidRequest(
            f"quantity must be at most {product.max_per_order} for this product.",
            code=ErrorCode.QUANTITY_OVER_MAX,
            param="quantity",
        )
    stamp = _now(now)
    if client_key is not None and max_held_units > 0 and product.stock is not None:
        _check_held_units(conn, client_key, quantity, max_held_units, stamp)
    reserved = catalog.reserve_stock(conn, product.id, quantity)
    order_id = new_id("ord")
    hold = product.hold_seconds or ttl_seconds
    conn.execute(
        insert(orders).values(
            id=order_id,
            merchant_id=product.merchant_id,
            product_id=product.id,
            quantity=quantity,
            unit_amount=claims.amount,
            amount=claims.amount * quantity,
            currency=claims.currency,
            status="pending",
            ref=claims.ref,
            checkout_key=checkout_key,
            checkout_id=checkout_id,
            stock_reserved=reserved,
            client_key=client_key,
            provider=provider,
            created_at=stamp,
            updated_at=stamp,
            expires_at=stamp + hold,
        )
    )
    return get_order(conn, order_id)


def _check_held_units(
    conn: Connection, client_key: str, quantity: int, limit: int, now: int
) -> None:
    """:class:`RateLimited` if ``client_key`` would hold more than ``limit`` units of stock.

    Counted and then reserved in one transaction. On SQLite that transaction holds the write
    lock from its start, so the count is exact; on PostgreSQL a transaction-scoped advisory lock
    on the client queues that client's checkouts, so parallel requests cannot each count the
    same total and all slip through. Other clients are not delayed."""
    if conn.dialect.name == "postgresql":
        conn.execute(
            select(
                func.pg_advisory_xact_lock(
                    func.hashtextextended("buybutton.held-units:" + client_key, 0)
                )
            )
        )
    held = conn.execute(
        select(func.coalesce(func.sum(orders.c.quantity), 0)).where(
            orders.c.client_key == client_key,
            orders.c.status == "pending",
            orders.c.stock_reserved.is_(True),
            orders.c.expires_at > now,
        )
    ).scalar_one()
    if held + quantity > limit:
        raise RateLimited(
            f"This device already holds {held} item(s) in unpaid checkouts; at most {limit} can be "
            "held at once. Finish or cancel a checkout, or wait for it to lapse.",
            code=ErrorCode.TOO_MANY_HELD_UNITS,
            param="quantity",
        )


def find_by_checkout_key(conn: Connection, checkout_key: str) -> Order | None:
    row = conn.execute(select(orders).where(orders.c.checkout_key == checkout_key)).first()
    return _order(row) if row else None


def checkout_status(conn: Connection, checkout_id: str, *, now: float | None = None) -> str | None:
    """The status of the newest order started by the widget's click ``checkout_id`` (a pending
    order past its hold counts as ``expired``, whether or not a sweep has marked it yet), or
    ``None`` when no order carries that id."""
    row = conn.execute(
        select(orders.c.status, orders.c.expires_at)
        .where(orders.c.checkout_id == checkout_id)
        .order_by(orders.c.pk.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    if row.status == "pending" and row.expires_at <= _now(now):
        return "expired"
    return str(row.status)


def attach_session(
    conn: Connection, order_id: str, session_id: str, url: str | None, *, now: float | None = None
) -> Order:
    """Remember the provider session opened for a pending order."""
    conn.execute(
        update(orders)
        .where(orders.c.id == order_id)
        .values(provider_session_id=session_id, checkout_url=url, updated_at=_now(now))
    )
    return get_order(conn, order_id)


def find_by_session(conn: Connection, session_id: str) -> Order | None:
    row = conn.execute(select(orders).where(orders.c.provider_session_id == session_id)).first()
    return _order(row) if row else None


# -- transitions --------------------------------------------------------------------------------


def mark_paid(
    conn: Connection,
    order_id: str,
    *,
    amount: int | None,
    currency: str | None,
    payment_id: str | None,
    discount: int = 0,
    now: float | None = None,
) -> Order:
    """Record a successful payment. Idempotent; a wrong amount flags the order instead.
    ``discount``: what a promotion code the provider accepted took off the order's amount."""
    stamp = _now(now)
    order = _lock(conn, order_id)
    if order.status in ("paid", "refunded"):
        return order
    expected = order.amount - discount if 0 <= discount <= order.amount else None
    if amount is not None and (amount != expected or (currency or "").lower() != order.currency):
        conn.execute(
            update(orders)
            .where(orders.c.id == order.id)
            .values(
                flag="amount_mismatch", amount_paid=amount, payment_id=payment_id, updated_at=stamp
            )
        )
        flagged = get_order(conn, order.id)
        _emit(conn, flagged, "order.flagged", stamp)
        return flagged
    values = {
        "amount_paid": order.amount if amount is None else amount,
        "payment_id": payment_id,
        "paid_at": stamp,
    }
    if order.flag == "payment_failed":
        values["flag"] = None  # an earlier declined card no longer matters: this one paid
    if order.status in ("expired", "canceled"):
        # The money arrived after the order lapsed (its stock went back): it is paid all the
        # same, never lost. Take the stock again, or say that it is oversold.
        try:
            values["stock_reserved"] = catalog.reserve_stock(conn, order.product_id, order.quantity)
        except SoldOut:
            values["flag"] = "oversold"
    return _move(conn, order, "paid", stamp, **values)


def _lapse(conn: Connection, order_id: str, target: str, now: float | None) -> Order:
    order = _lock(conn, order_id)
    if order.status != "pending":
        return order
    # Decided on the locked row: a payment that won the lock first leaves nothing to give back.
    if order.stock_reserved:
        catalog.release_stock(conn, order.product_id, order.quantity)
    return _move(conn, order, target, _now(now), stock_reserved=False)


def mark_expired(conn: Connection, order_id: str, *, now: float | None = None) -> Order:
    """A pending order's payment session lapsed: give its stock back. Idempotent."""
    return _lapse(conn, order_id, "expired", now)


def mark_canceled(conn: Connection, order_id: str, *, now: float | None = None) -> Order:
    """The shopper gave up on a pending order: give its stock back. Idempotent."""
    return _lapse(conn, order_id, "canceled", now)


def mark_refunded(conn: Connection, order_id: str, *, now: float | None = None) -> Order:
    """Money went back to the shopper. From ``paid``, or straight from a not-yet-paid state when
    the refund is reported before the payment (providers do not promise an order). Idempotent."""
    order = _lock(conn, order_id)
    if order.status not in ("paid", "pending", "expired", "canceled"):
        return order
    return _move(conn, order, "refunded", _now(now))


def note_payment_failed(conn: Connection, order_id: str, *, now: float | None = None) -> Order:
    """A payment attempt failed; the order stays pending so the shopper can try again."""
    order = _lock(conn, order_id)
    if order.status != "pending":
        return order
    conn.execute(
        update(orders)
        .where(orders.c.id == order.id)
        .values(flag="payment_failed", updated_at=_now(now))
    )
    return get_order(conn, order.id)


def expire_stale_orders(
    store: Store, *, product_id: str | None = None, now: float | None = None, limit: int = 500
) -> int:
    """Expire pending orders whose time is up (giving their stock back); returns how many."""
    stamp = _now(now)
    where = (orders.c.status == "pending") & (orders.c.expires_at <= stamp)
    if product_id is not None:
        where &= orders.c.product_id == product_id
    with store.read() as conn:
        ids = conn.execute(select(orders.c.id).where(where).limit(limit)).scalars().all()
    for order_id in ids:
        with store.transaction() as conn:
            mark_expired(conn, order_id, now=stamp)
    return len(ids)


# -- provider events ------------------------------------------------------------------------------

_APPLY = {
    "paid": lambda conn, e, now: mark_paid(
        conn,
        e.order_id,
        amount=e.amount,
        currency=e.currency,
        payment_id=e.payment_id,
        discount=e.amount_discount,
        now=now,
    ),
    "expired": lambda conn, e, now: mark_expired(conn, e.order_id, now=now),
    "canceled": lambda conn, e, now: mark_canceled(conn, e.order_id, now=now),
    "refunded": lambda conn, e, now: mark_refunded(conn, e.order_id, now=now),
    "payment_failed": lambda conn, e, now: note_payment_failed(conn, e.order_id, now=now),
}


def apply_provider_event(
    store: Store, provider: str, event: ProviderEvent, *, now: float | None = None
) -> Order | None:
    """Apply a provider's event to its order exactly once, in one transaction.

    A replay of an already-applied event id changes nothing and returns ``None``; so does an
    event naming an order we do not know (recorded, so it is not retried forever).
    """
    with store.transaction() as conn:
        return apply_provider_event_in(conn, provider, event, now=now)


def apply_provider_event_in(
    conn: Connection, provider: str, event: ProviderEvent, *, now: float | None = None
) -> Order | None:
    """:func:`apply_provider_event` inside the caller's write transaction, for a provider whose
    own record of the payment lives in the same database (the sandbox): both commit together."""
    stamp = _now(now)
    try:
        # A savepoint: only a clash on the event id means "applied before"; any other
        # integrity error while applying the event must surface, not vanish.
        with conn.begin_nested():
            conn.execute(
                insert(provider_events).values(
                    provider=provider,
                    event_id=event.id,
                    type=event.type,
                    order_id=event.order_id,
                    received_at=stamp,
                )
            )
    except IntegrityError:
        return None  # this event id was applied before
    if event.order_id is None:
        return None
    try:
        get_order(conn, event.order_id)
    except NotFound:
        return None
    return _APPLY[event.kind](conn, event, stamp)


# -- orchestration with a provider ------------------------------------------------------------------


def refund_order(
    store: Store,
    provider: PaymentProvider,
    merchant_id: str,
    order_id: str,
    *,
    now: float | None = None,
) -> Order:
    """Refund a paid order in full through its provider. Idempotent: the provider call carries a
    key derived from the order, and the order moves once (now if the provider says the refund
    succeeded, else when its webhook reports it)."""
    with store.read() as conn:
        order = get_order(conn, order_id, merchant_id=merchant_id)
    if order.status == "refunded":
        return order
    if order.status != "paid" or not order.payment_id:
        raise Conflict(
            f"Only a paid order can be refunded; this one is {order.status}.",
            code=ErrorCode.ORDER_NOT_REFUNDABLE,
            param="id",
        )
    paid = order.amount if order.amount_paid is None else order.amount_paid
    refund = provider.refund(
        order.payment_id, amount=paid, idempotency_key=f"buybutton-refund-{order.id}"
    )
    with store.transaction() as conn:
        if refund.status == "succeeded":
            return mark_refunded(conn, order.id, now=now)
        return get_order(conn, order.id)
