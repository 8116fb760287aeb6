"""The order state machine. No other code writes an order's status (nor its fulfilment).

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

Fulfilment runs beside the status, for orders of products that ship::

    not_required (nothing ships)     unfulfilled ──fulfill──▶ shipped ──deliver──▶ delivered

only on a paid order (``order.shipped``, ``order.delivered``). The buyer (:class:`Customer`) and
the shipping address and cost (:class:`Shipping`) are recorded with the payment, as the payment
page collected them; the cost of shipping is part of what the buyer pays (``amount_total``).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, replace
from typing import Any, TypedDict, Unpack
from urllib.parse import urlsplit

from sqlalchemy import Connection, Row, bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from . import catalog, digital, rollups
from .addresses import PostalAddress
from .buyers import Customer, Shipping
from .errors import Conflict, ErrorCode, InvalidRequest, NotFound, RateLimited, SoldOut
from .ids import new_id
from .mail.outbox import queue_event_mail
from .money import MAX_AMOUNT
from .payments.base import PaymentProvider, ProviderEvent
from .spreadsheets import csv_document
from .store import Store, fetch_page
from .store.schema import events, orders, products, provider_events
from .tokens import TokenClaims
from .webhooks.outbox import enqueue_many

STATUSES = ("pending", "paid", "expired", "canceled", "refunded")
FULFILLMENT_STATUSES = ("unfulfilled", "shipped", "delivered", "not_required")
MAX_QUANTITY = catalog.MAX_QUANTITY
#: Longest carrier name and tracking number a merchant may record.
MAX_CARRIER_LENGTH = 100
MAX_TRACKING_NUMBER_LENGTH = 100

__all__ = ["Customer", "Fulfillment", "Order", "Shipping"]


@dataclass(frozen=True, slots=True)
class Fulfillment:
    """Where the goods of an order are: ``status`` is ``not_required`` (nothing ships),
    ``unfulfilled``, ``shipped`` or ``delivered``; the rest is what the merchant recorded."""

    status: str = "not_required"
    carrier: str | None = None
    tracking_number: str | None = None
    tracking_url: str | None = None
    shipped_at: int | None = None
    delivered_at: int | None = None


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
    #: The shopper's language at checkout (``"fr"``): their mail is written in it.
    locale: str | None = None
    customer: Customer = Customer()
    #: Where and how it ships; ``None`` for an order with nothing to ship (or not paid yet).
    shipping: Shipping | None = None
    fulfillment: Fulfillment = Fulfillment()
    #: What shipping cost (0 until a rate is chosen, and for goods that do not ship).
    amount_shipping: int = 0

    @property
    def amount_subtotal(self) -> int:
        """The goods alone: ``unit_amount × quantity`` (the same as ``amount``)."""
        return self.amount

    @property
    def amount_total(self) -> int:
        """What the buyer is charged before any promotion code: goods plus shipping."""
        return self.amount + self.amount_shipping

    def to_dict(self) -> dict[str, Any]:
        """The merchant-facing form (no provider internals)."""
        data = asdict(self)
        for private in ("provider_session_id", "checkout_url", "stock_reserved", "locale"):
            data.pop(private)
        data["amount_subtotal"] = self.amount_subtotal
        data["amount_total"] = self.amount_total
        return {"object": "order", **data}


_PLAIN_FIELDS = tuple(
    name for name in Order.__slots__ if name not in ("customer", "shipping", "fulfillment")
)


def _order(row: Row[Any]) -> Order:
    shipping = None
    if row.shipping_country is not None:
        shipping = Shipping(
            name=row.shipping_name or "",
            address=PostalAddress(
                line1=row.shipping_line1 or "",
                line2=row.shipping_line2 or "",
                city=row.shipping_city or "",
                postal_code=row.shipping_postal_code or "",
                state=row.shipping_state or "",
                country=row.shipping_country,
            ),
            rate_id=row.shipping_rate_id,
            rate_name=row.shipping_rate_name,
            amount=row.amount_shipping,
        )
    return Order(
        **{name: getattr(row, name) for name in _PLAIN_FIELDS},
        customer=Customer(
            email=row.customer_email, name=row.customer_name, phone=row.customer_phone
        ),
        shipping=shipping,
        fulfillment=Fulfillment(
            status=row.fulfillment_status,
            carrier=row.carrier,
            tracking_number=row.tracking_number,
            tracking_url=row.tracking_url,
            shipped_at=row.shipped_at,
            delivered_at=row.delivered_at,
        ),
    )


def buyer_columns(customer: Customer | None, shipping: Shipping | None) -> dict[str, Any]:
    """The ``orders`` columns that record ``customer`` and ``shipping`` (only what is known:
    a provider that reports no phone leaves the column as it was)."""
    values: dict[str, Any] = {}
    if customer is not None:
        for name in ("email", "name", "phone"):
            if getattr(customer, name):
                values[f"customer_{name}"] = getattr(customer, name)
    if shipping is not None:
        address = shipping.address
        values.update(
            shipping_name=shipping.name,
            shipping_line1=address.line1,
            shipping_line2=address.line2,
            shipping_city=address.city,
            shipping_postal_code=address.postal_code,
            shipping_state=address.state,
            shipping_country=address.country,
            shipping_rate_id=shipping.rate_id,
            shipping_rate_name=shipping.rate_name,
            amount_shipping=shipping.amount,
        )
    return values


def _now(now: float | None) -> int:
    return int(now if now is not None else time.time())


# Built once: a checkout reads its order back twice, and building the select cost more than
# running it.
_ORDER_BY_ID = select(orders).where(orders.c.id == bindparam("order_id"))
_MERCHANT_ORDER_BY_ID = _ORDER_BY_ID.where(orders.c.merchant_id == bindparam("merchant_id"))


def get_order(conn: Connection, order_id: str, *, merchant_id: str | None = None) -> Order:
    """The order ``order_id`` (of ``merchant_id``, when given); :class:`NotFound` otherwise."""
    if merchant_id is None:
        row = conn.execute(_ORDER_BY_ID, {"order_id": order_id}).first()
    else:
        params = {"order_id": order_id, "merchant_id": merchant_id}
        row = conn.execute(_MERCHANT_ORDER_BY_ID, params).first()
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
    fulfillment: str | None = None,
    created_gte: int | None = None,
    created_lt: int | None = None,
    search: str | None = None,
) -> tuple[list[Order], bool]:
    """A page of the merchant's orders, newest first: ``(orders, has_more)``, filtered by
    ``status``, ``ref``, ``product_id``, ``fulfillment`` and creation time (``created_gte`` ≤
    ``created_at`` < ``created_lt``, Unix seconds) and ``search`` (an order id, or the buyer's
    email in any letter case). Each filter has its own index.

    ``fulfillment="unfulfilled"`` lists what remains to ship: paid orders of goods that ship,
    not yet shipped (refunded ones are left out)."""
    where = _filters(
        merchant_id,
        status,
        ref,
        product_id,
        fulfillment,
        created_gte=created_gte,
        created_lt=created_lt,
        search=search,
    )
    by_time_only = (created_gte, created_lt) != (None, None) and (
        status,
        ref,
        product_id,
        fulfillment,
        search,
    ) == (None, None, None, None, None)
    rows, has_more = fetch_page(
        conn,
        orders,
        where,
        limit=limit,
        starting_after=starting_after,
        filter_first=by_time_only,
    )
    return [_order(r) for r in rows], has_more


def _filters(
    merchant_id: str,
    status: str | None,
    ref: str | None,
    product_id: str | None,
    fulfillment: str | None,
    *,
    created_gte: int | None = None,
    created_lt: int | None = None,
    search: str | None = None,
) -> Any:
    where = orders.c.merchant_id == merchant_id
    if fulfillment is not None:
        if fulfillment not in FULFILLMENT_STATUSES:
            raise InvalidRequest(
                f"fulfillment must be one of {', '.join(FULFILLMENT_STATUSES)}.",
                param="fulfillment",
            )
        where &= orders.c.fulfillment_status == fulfillment
        if fulfillment == "unfulfilled" and status is None:
            where &= orders.c.status == "paid"
    if status is not None:
        if status not in STATUSES:
            raise InvalidRequest(f"status must be one of {', '.join(STATUSES)}.", param="status")
        where &= orders.c.status == status
    if ref is not None:
        where &= orders.c.ref == ref
    if product_id is not None:
        where &= orders.c.product_id == product_id
    if created_gte is not None:
        where &= orders.c.created_at >= created_gte
    if created_lt is not None:
        where &= orders.c.created_at < created_lt
    term = (search or "").strip()
    if "@" in term:
        where &= func.lower(orders.c.customer_email) == term.lower()
    elif term:
        where &= orders.c.id == term
    return where


def iter_orders(
    conn: Connection,
    merchant_id: str,
    *,
    status: str | None = None,
    ref: str | None = None,
    product_id: str | None = None,
    fulfillment: str | None = None,
    created_gte: int | None = None,
    created_lt: int | None = None,
    search: str | None = None,
    limit: int = 10_000,
) -> list[Order]:
    """The merchant's orders matching the filters of :func:`list_orders`, oldest first, at most
    ``limit`` of them (for exports)."""
    where = _filters(
        merchant_id,
        status,
        ref,
        product_id,
        fulfillment,
        created_gte=created_gte,
        created_lt=created_lt,
        search=search,
    )
    rows = conn.execute(select(orders).where(where).order_by(orders.c.pk).limit(limit)).all()
    return [_order(r) for r in rows]


@dataclass(frozen=True, slots=True)
class OrderEvent:
    """Something that happened to an order: ``type`` is a merchant event (``order.paid``,
    ``order.shipped`` …) and ``created_at`` when it happened."""

    id: str
    type: str
    created_at: int


def order_events(conn: Connection, merchant_id: str, order_id: str) -> list[OrderEvent]:
    """The events of the merchant's order, oldest first (its timeline): what the outbox
    recorded with each change. :class:`NotFound` for another merchant's or an unknown order."""
    get_order(conn, order_id, merchant_id=merchant_id)
    rows = conn.execute(
        select(events.c.id, events.c.type, events.c.created_at)
        .where(events.c.order_id == order_id, events.c.merchant_id == merchant_id)
        .order_by(events.c.pk)
    ).all()
    return [OrderEvent(id=row.id, type=row.type, created_at=row.created_at) for row in rows]


def _emit(conn: Connection, order: Order, event_type: str, now: int) -> None:
    _emit_many(conn, [order], event_type, now)


def _emit_many(conn: Connection, moved: list[Order], event_type: str, now: int) -> None:
    """Write one ``event_type`` event per order into the outbox, in this order."""
    rows: list[dict[str, Any]] = [
        {
            "id": new_id("evt"),
            "merchant_id": order.merchant_id,
            "type": event_type,
            "order_id": order.id,
            "data": json.dumps(order.to_dict(), separators=(",", ":")),
            "created_at": now,
        }
        for order in moved
    ]
    if not rows:
        return
    conn.execute(insert(events), rows)
    # Same transaction: the endpoints subscribed right now, and only they, will receive it.
    queued = [(str(row["id"]), str(row["merchant_id"]), event_type) for row in rows]
    enqueue_many(conn, queued, now)
    # And the mail each calls for (the receipt, "shipped", …): sent later by the mail worker.
    for row, order in zip(rows, moved, strict=True):
        queue_event_mail(
            conn,
            event_id=str(row["id"]),
            event_type=event_type,
            order_id=order.id,
            merchant_id=order.merchant_id,
            shopper=order.customer.email,
            locale=order.locale,
            now=now,
        )


def _lock(conn: Connection, order_id: str) -> Order:
    """The order, its row locked until the caller's transaction ends: every transition decides on
    this, never on an earlier read. (SQLite renders no ``FOR UPDATE``: there the write transaction
    took the database's write lock when it began.) :class:`NotFound` for an unknown order."""
    row = conn.execute(select(orders).where(orders.c.id == order_id).with_for_update()).first()
    if row is None:
        raise NotFound(f"No such order: {order_id!r}.", code=ErrorCode.ORDER_NOT_FOUND, param="id")
    return _order(row)


def _move(conn: Connection, order: Order, target: str, now: int, **values: object) -> Order:
    """Move the locked ``order`` to ``target`` and write its event."""
    return _change(conn, order, f"order.{target}", now, status=target, **values)


def _change(conn: Connection, order: Order, event_type: str, now: int, **values: object) -> Order:
    """Write ``values`` on the locked ``order``, then its ``event_type`` event, and return it."""
    conn.execute(update(orders).where(orders.c.id == order.id).values(updated_at=now, **values))
    changed = get_order(conn, order.id)
    _emit(conn, changed, event_type, now)
    return changed


# -- creating orders ------------------------------------------------------------------------


def create_order(
    conn: Connection,
    claims: TokenClaims,
    quantity: object,
    *,
    provider: str,
    ttl_seconds: int,
    checkout_key: str | None = None,
    client_key: str | None = None,
    max_held_units: int = 0,
    checkout_id: str | None = None,
    locale: str | None = None,
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
    (``too_many_held_units``) and :class:`SoldOut`. ``locale`` is the shopper's language (their
    mail is written in it). The caller's transaction makes the reservation and the order one
    atomic step.
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
            locale=locale,
            fulfillment_status="unfulfilled" if product.ships else "not_required",
            created_at=stamp,
            updated_at=stamp,
            expires_at=stamp + hold,
        )
    )
    _count(conn, product.merchant_id, product.id, claims.ref, claims.currency, stamp, orders=1)
    return get_order(conn, order_id)


def _count(
    conn: Connection,
    merchant_id: str,
    product_id: str,
    ref: str | None,
    currency: str,
    at: int,
    **deltas: int,
) -> None:
    """Add to the stats rollups (:mod:`buybutton.rollups`), in the transition's transaction."""
    rollups.add(
        conn,
        merchant_id=merchant_id,
        product_id=product_id,
        ref=ref,
        currency=currency,
        at=at,
        **deltas,
    )


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
    customer: Customer | None = None,
    shipping: Shipping | None = None,
    now: float | None = None,
) -> Order:
    """Record a successful payment. Idempotent; a wrong amount flags the order instead.

    ``discount``: what a promotion code the provider accepted took off the order's amount.
    ``customer`` and ``shipping``: the buyer and the shipping the payment page collected,
    recorded with the payment (flagged or not); the expected amount is the goods plus
    ``shipping.amount`` less ``discount``."""
    stamp = _now(now)
    order = _lock(conn, order_id)
    if order.status in ("paid", "refunded"):
        return order
    if shipping is not None and shipping.rate_id is None:
        shipping = _name_rate(conn, order, shipping)
    buyer = buyer_columns(customer, shipping)
    total = order.amount + (shipping.amount if shipping is not None else order.amount_shipping)
    expected = total - discount if 0 <= discount <= total else None
    if amount is not None and (amount != expected or (currency or "").lower() != order.currency):
        conn.execute(
            update(orders)
            .where(orders.c.id == order.id)
            .values(
                flag="amount_mismatch",
                amount_paid=amount,
                payment_id=payment_id,
                updated_at=stamp,
                **buyer,
            )
        )
        flagged = get_order(conn, order.id)
        _emit(conn, flagged, "order.flagged", stamp)
        return flagged
    values: dict[str, Any] = {
        "amount_paid": total if amount is None else amount,
        "payment_id": payment_id,
        "paid_at": stamp,
        **buyer,
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
    paid = _move(conn, order, "paid", stamp, **values)
    _count(
        conn,
        order.merchant_id,
        order.product_id,
        order.ref,
        order.currency,
        stamp,
        paid_orders=1,
        revenue=paid.amount_paid or 0,
    )
    # Same transaction, same row lock: the order's download and licence key exist from the
    # moment it is paid, exactly once whatever the duplicate events.
    digital.grant(conn, paid.id, now=stamp)
    return paid


def _name_rate(conn: Connection, order: Order, shipping: Shipping) -> Shipping:
    """``shipping`` with the product's rate of that cost named (a provider that reports only its
    own rate id, like Stripe): the first rate whose amount matches, if any."""
    product = catalog.get_product(conn, order.product_id, include_deleted=True)
    if product.shipping is None:
        return shipping
    for rate in product.shipping.rates:
        if rate.amount == shipping.amount:
            return replace(shipping, rate_id=rate.id, rate_name=rate.name)
    return shipping


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
    stamp = _now(now)
    # Its money leaves the revenue; a refund reported before the payment counts as both.
    was_paid = order.status == "paid"
    deltas = {"refunded_orders": 1, "revenue": -(order.amount_paid or 0) if was_paid else 0}
    if not was_paid:
        deltas["paid_orders"] = 1
    _count(conn, order.merchant_id, order.product_id, order.ref, order.currency, stamp, **deltas)
    return _move(conn, order, "refunded", stamp)


def record_shipping(
    conn: Connection, order_id: str, shipping: Shipping, *, now: float | None = None
) -> Order:
    """Where a pending order will ship and what shipping costs, known before the payment (one
    click): the payment is then expected to be the goods plus this. A no-op on other states."""
    order = _lock(conn, order_id)
    if order.status != "pending":
        return order
    conn.execute(
        update(orders)
        .where(orders.c.id == order.id)
        .values(updated_at=_now(now), **buyer_columns(None, shipping))
    )
    return get_order(conn, order.id)


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


#: Lapsed orders one expiry transaction moves at most (it loops until none is left).
EXPIRY_BATCH = 500
# -- fulfilment ---------------------------------------------------------------------------------


def _not_fulfillable(order: Order, action: str) -> Conflict:
    if order.fulfillment.status == "not_required":
        why = "nothing of it ships (its product has no shipping)"
    else:
        why = f"it is {order.status}"
    return Conflict(
        f"Only a paid order of goods that ship can be {action}; {why}.",
        code=ErrorCode.ORDER_NOT_FULFILLABLE,
        param="id",
    )


def _tracking_text(value: object, param: str, max_length: int) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not value.strip() or not value.strip().isprintable():
        raise InvalidRequest(f"{param} must be printable text on one line.", param=param)
    if len(value.strip()) > max_length:
        raise InvalidRequest(f"{param} must be at most {max_length} characters.", param=param)
    return value.strip()


def _tracking_url(value: object) -> str | None:
    if value is None or value == "":
        return None
    if (
        not isinstance(value, str)
        or len(value) > 2048
        or not value.isascii()
        or any(ch.isspace() for ch in value)
    ):
        raise InvalidRequest(
            "tracking_url must be an https URL of at most 2048 characters.", param="tracking_url"
        )
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidRequest("tracking_url must be an http(s) URL.", param="tracking_url")
    return value


def fulfill_order(
    conn: Connection,
    merchant_id: str,
    order_id: str,
    *,
    carrier: object = None,
    tracking_number: object = None,
    tracking_url: object = None,
    now: float | None = None,
) -> Order:
    """Mark the merchant's paid order shipped, with its carrier and tracking (each optional).

    Idempotent: an order already shipped (or delivered) is returned as it is, unless new
    tracking details are given for a shipped one, which replace the old (no second event).
    Raises :class:`NotFound` and :class:`Conflict` (``order_not_fulfillable``) for an order that
    is not paid (pending, expired, canceled, refunded) or has nothing to ship; emits
    ``order.shipped`` once."""
    tracking = {
        "carrier": _tracking_text(carrier, "carrier", MAX_CARRIER_LENGTH),
        "tracking_number": _tracking_text(
            tracking_number, "tracking_number", MAX_TRACKING_NUMBER_LENGTH
        ),
        "tracking_url": _tracking_url(tracking_url),
    }
    get_order(conn, order_id, merchant_id=merchant_id)  # NotFound before locking anything
    order = _lock(conn, order_id)
    stamp = _now(now)
    if order.fulfillment.status in ("shipped", "delivered"):
        current = {
            "carrier": order.fulfillment.carrier,
            "tracking_number": order.fulfillment.tracking_number,
            "tracking_url": order.fulfillment.tracking_url,
        }
        # Only details that change are written: a repeat of the same call changes nothing.
        given = {
            key: value
            for key, value in tracking.items()
            if value is not None and value != current[key]
        }
        if order.fulfillment.status == "shipped" and given:
            conn.execute(
                update(orders).where(orders.c.id == order.id).values(updated_at=stamp, **given)
            )
            return get_order(conn, order.id)
        return order
    if order.status != "paid" or order.fulfillment.status != "unfulfilled":
        raise _not_fulfillable(order, "shipped")
    return _fulfil(conn, order, "shipped", stamp, shipped_at=stamp, **tracking)


def deliver_order(
    conn: Connection, merchant_id: str, order_id: str, *, now: float | None = None
) -> Order:
    """Mark the merchant's paid order delivered (from ``unfulfilled`` or ``shipped``).
    Idempotent; :class:`Conflict` (``order_not_fulfillable``) as :func:`fulfill_order`;
    emits ``order.delivered`` once."""
    get_order(conn, order_id, merchant_id=merchant_id)
    order = _lock(conn, order_id)
    if order.fulfillment.status == "delivered":
        return order
    if order.status != "paid" or order.fulfillment.status == "not_required":
        raise _not_fulfillable(order, "delivered")
    stamp = _now(now)
    values: dict[str, Any] = {"delivered_at": stamp}
    if order.fulfillment.shipped_at is None:
        values["shipped_at"] = stamp  # handed over in person: shipped and delivered at once
    return _fulfil(conn, order, "delivered", stamp, **values)


def _fulfil(conn: Connection, order: Order, target: str, now: int, **values: Any) -> Order:
    """Move the locked ``order``'s fulfilment to ``target`` and write ``order.<target>``."""
    return _change(conn, order, f"order.{target}", now, fulfillment_status=target, **values)


def expire_stale_orders(
    store: Store,
    *,
    product_id: str | None = None,
    now: float | None = None,
    batch_size: int = EXPIRY_BATCH,
) -> int:
    """Expire every pending order whose time is up, giving its stock back; returns how many.

    Batch after batch until none is left, each batch one transaction of set-based statements
    (:func:`expire_batch`), so the cost is a few statements per batch, not a transaction per
    order. Run off the request path: by ``serve``'s expiry thread and ``buybutton orders expire``.
    """
    stamp = _now(now)
    total = 0
    while True:
        with store.transaction() as conn:
            moved = expire_batch(conn, stamp, product_id=product_id, limit=batch_size)
        total += moved
        if moved < batch_size:
            return total


def expire_batch(
    conn: Connection, now: int, *, product_id: str | None = None, limit: int = EXPIRY_BATCH
) -> int:
    """Expire up to ``limit`` lapsed pending orders inside the caller's write transaction.

    The same transition as :func:`mark_expired`, applied to a set: the rows are locked first
    (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so an order a payment holds is left to it and
    taken by the next sweep if still pending; SQLite's write transaction holds the database),
    their reserved stock goes back in one ``UPDATE`` per product touched, they move in one
    ``UPDATE``, and each gets its ``order.expired`` event in the outbox. On PostgreSQL a
    transaction-scoped advisory lock lets one sweep run at a time (two would lock products in
    different orders)."""
    if conn.dialect.name == "postgresql":
        conn.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(_SWEEP_LOCK, 0))))
    where = (orders.c.status == "pending") & (orders.c.expires_at <= now)
    if product_id is not None:
        where &= orders.c.product_id == product_id
    locked = conn.execute(
        select(orders.c.id, orders.c.product_id, orders.c.quantity, orders.c.stock_reserved)
        .where(where)
        .order_by(orders.c.expires_at, orders.c.pk)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    if not locked:
        return 0
    released: dict[str, int] = {}
    for row in locked:
        if row.stock_reserved:
            released[row.product_id] = released.get(row.product_id, 0) + row.quantity
    for released_id, quantity in sorted(released.items()):  # one lock order for every sweep
        catalog.release_stock(conn, released_id, quantity)
    ids = [row.id for row in locked]
    moved = conn.execute(
        update(orders)
        .where(orders.c.id.in_(ids))
        .values(status="expired", stock_reserved=False, updated_at=now)
        .returning(*orders.c)
    ).all()
    _emit_many(
        conn, [_order(row) for row in sorted(moved, key=lambda r: r.pk)], "order.expired", now
    )
    return len(moved)


_SWEEP_LOCK = "buybutton.expiry-sweep"


# -- export ---------------------------------------------------------------------------------------

#: The columns of :func:`orders_csv`, for a shipping tool or a spreadsheet.
CSV_COLUMNS = (
    "order_id",
    "created_at",
    "paid_at",
    "status",
    "fulfillment_status",
    "product_id",
    "product_name",
    "quantity",
    "currency",
    "amount_subtotal",
    "amount_shipping",
    "amount_total",
    "amount_paid",
    "customer_email",
    "customer_name",
    "customer_phone",
    "shipping_name",
    "shipping_line1",
    "shipping_line2",
    "shipping_city",
    "shipping_postal_code",
    "shipping_state",
    "shipping_country",
    "shipping_rate_id",
    "shipping_rate_name",
    "carrier",
    "tracking_number",
    "tracking_url",
    "shipped_at",
    "delivered_at",
    "ref",
)
#: The most orders one export holds (the oldest first); filter to export fewer.
MAX_CSV_ROWS = 10_000


def _iso(stamp: int | None) -> str:
    if stamp is None:
        return ""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(stamp))


class OrderFilters(TypedDict, total=False):
    """The filters :func:`list_orders` and :func:`iter_orders` take, by name."""

    status: str | None
    ref: str | None
    product_id: str | None
    fulfillment: str | None
    created_gte: int | None
    created_lt: int | None
    search: str | None


def orders_csv(conn: Connection, merchant_id: str, **filters: Unpack[OrderFilters]) -> str:
    """The merchant's orders (filtered as :func:`list_orders`, oldest first, at most
    :data:`MAX_CSV_ROWS`) as a formula-safe CSV: one row per order with the buyer and the
    address, amounts in minor units, times in UTC ISO 8601."""
    found = iter_orders(conn, merchant_id, limit=MAX_CSV_ROWS, **filters)
    names = dict(
        conn.execute(
            select(products.c.id, products.c.name).where(products.c.merchant_id == merchant_id)
        ).all()
    )

    def row(order: Order) -> list[object]:
        ship, fulfil, buyer = order.shipping, order.fulfillment, order.customer
        address = ship.address if ship else None
        return [
            order.id,
            _iso(order.created_at),
            _iso(order.paid_at),
            order.status,
            fulfil.status,
            order.product_id,
            names.get(order.product_id, ""),
            order.quantity,
            order.currency,
            order.amount_subtotal,
            order.amount_shipping,
            order.amount_total,
            order.amount_paid,
            buyer.email,
            buyer.name,
            buyer.phone,
            ship.name if ship else "",
            *(
                (address.line1, address.line2, address.city, address.postal_code)
                if address
                else ("", "", "", "")
            ),
            address.state if address else "",
            address.country if address else "",
            ship.rate_id if ship else "",
            ship.rate_name if ship else "",
            fulfil.carrier,
            fulfil.tracking_number,
            fulfil.tracking_url,
            _iso(fulfil.shipped_at),
            _iso(fulfil.delivered_at),
            order.ref,
        ]

    return csv_document(CSV_COLUMNS, (row(order) for order in found))


# -- provider events ------------------------------------------------------------------------------

_APPLY = {
    "paid": lambda conn, e, now: mark_paid(
        conn,
        e.order_id,
        amount=e.amount,
        currency=e.currency,
        payment_id=e.payment_id,
        discount=e.amount_discount,
        customer=e.customer,
        shipping=e.shipping,
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
