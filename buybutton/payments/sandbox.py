"""The offline sandbox provider: a TEST MODE checkout page on our own server.

It accepts Stripe's test card numbers, so people and scripts can rehearse real purchases with no
account and no network: 4242 4242 4242 4242 succeeds, 4000 0000 0000 0002 is declined, anything
else is an invalid card. A successful payment is applied through
:func:`buybutton.orders.apply_provider_event_in`, the path a provider webhook takes, in the same
transaction that marks the session paid.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Connection, Row, select, update
from sqlalchemy.dialects import postgresql, sqlite

from .. import catalog, orders
from ..buyers import Customer, Shipping, collect_buyer
from ..errors import ErrorCode, Gone, InvalidRequest, NotFound, PaymentDeclined
from ..ids import new_id
from ..store import Store
from ..store.schema import sandbox_sessions
from .base import CheckoutRequest, PaymentSession, ProviderEvent, Refund, RequestHeaders

SUCCESS_CARD = "4242424242424242"
DECLINED_CARDS = {
    "4000000000000002": ("card_declined", "Your card was declined."),
    "4000000000009995": ("insufficient_funds", "Your card has insufficient funds."),
    "4000000000000069": ("expired_card", "Your card has expired."),
}


@dataclass(frozen=True, slots=True)
class SandboxSession:
    id: str
    order_id: str
    amount: int
    currency: str
    product_name: str
    status: str
    success_url: str
    cancel_url: str
    expires_at: int


def normalize_card_number(raw: object) -> str:
    """Digits only; spaces and dashes are how people type card numbers."""
    if not isinstance(raw, str):
        raise InvalidRequest(
            "Enter a card number.", code=ErrorCode.INVALID_CARD, param="card_number"
        )
    digits = re.sub(r"[\s-]", "", raw)
    if not digits.isdigit():
        raise InvalidRequest(
            "A card number has digits only.", code=ErrorCode.INVALID_CARD, param="card_number"
        )
    return digits


class SandboxProvider:
    """The :class:`~buybutton.payments.base.PaymentProvider` used when no Stripe key is set."""

    name = "sandbox"

    def __init__(self, store: Store, clock: Callable[[], float] = time.time):
        self._store = store
        self._clock = clock

    @staticmethod
    def checkout_path(session_id: str) -> str:
        return f"/sandbox/checkout/{session_id}"

    def _session(self, row: Row[Any]) -> PaymentSession:
        return PaymentSession(
            id=row.id,
            url=self.checkout_path(row.id),
            status=row.status,
            paid=row.status == "complete",
            order_id=row.order_id,
            amount_total=row.amount,
            currency=row.currency,
            payment_id=row.payment_id,
        )

    def _row(self, conn: Connection, session_id: str) -> Row[Any]:
        row = conn.execute(
            select(sandbox_sessions).where(sandbox_sessions.c.id == session_id)
        ).first()
        if row is None:
            raise NotFound(
                "No such test checkout.", code=ErrorCode.SESSION_NOT_FOUND, param="session"
            )
        return row

    def create_session(self, request: CheckoutRequest) -> PaymentSession:
        with self._store.transaction() as conn:
            return self.create_session_in(conn, request)

    def create_session_in(self, conn: Connection, request: CheckoutRequest) -> PaymentSession:
        """:meth:`create_session` inside the caller's write transaction (the checkout's own):
        the sandbox keeps its sessions in the same database, so the order and its session
        commit together."""
        now = int(self._clock())
        dialect = conn.dialect.name
        insert = (sqlite.insert if dialect == "sqlite" else postgresql.insert)(sandbox_sessions)
        # A retry with the same idempotency key inserts nothing: it answers with the first session.
        conn.execute(
            insert.values(
                id=new_id("cs_test_sbx", 24),
                order_id=request.order_id,
                idempotency_key=request.idempotency_key,
                amount=request.amount,
                currency=request.currency,
                product_name=request.product_name,
                status="open",
                refunded=False,
                success_url=request.success_url,
                cancel_url=request.cancel_url,
                created_at=now,
                expires_at=request.expires_at,
            ).on_conflict_do_nothing()
        )
        row = conn.execute(
            select(sandbox_sessions).where(
                sandbox_sessions.c.idempotency_key == request.idempotency_key
            )
        ).one()
        return self._session(row)

    def retrieve_session(self, session_id: str) -> PaymentSession:
        with self._store.read() as conn:
            return self._session(self._row(conn, session_id))

    def get_checkout(self, session_id: str) -> SandboxSession:
        """What the test checkout page shows."""
        with self._store.read() as conn:
            row = self._row(conn, session_id)
        return SandboxSession(**{name: getattr(row, name) for name in SandboxSession.__slots__})

    def checkout_product(self, checkout: SandboxSession) -> catalog.Product:
        """The product a test checkout sells (its shipping options decide what the page asks)."""
        with self._store.read() as conn:
            order = orders.get_order(conn, checkout.order_id)
            return catalog.get_product(conn, order.product_id, include_deleted=True)

    def pay(
        self,
        session_id: str,
        card_number: object,
        details: Mapping[str, object] | None = None,
        *,
        locale: str | None = "en",
    ) -> str:
        """Charge a test card; returns the URL to send the shopper to.

        ``details``: the rest of the form, as Stripe Checkout collects it: ``email``, and for a
        product that ships ``name``, the address (``address_line1`` …) and ``shipping_rate``
        (see :func:`buybutton.buyers.collect_buyer`); the card is charged the goods plus the
        chosen rate's price, as the product sets it. ``None`` (a script calling the core
        directly): the buyer's details are not collected, and nothing can be shipped.

        Raises :class:`InvalidRequest` (a buyer field's code, then ``invalid_card``),
        :class:`PaymentDeclined`, or :class:`~buybutton.errors.Gone` (``session_expired``)
        when the checkout lapsed.
        """
        checkout = self.get_checkout(session_id)
        if checkout.status == "complete":
            return checkout.success_url  # paid already: a resubmitted form charges nothing
        customer: Customer | None = None
        shipping: Shipping | None = None
        if details is not None:
            customer, shipping = collect_buyer(
                details, self.checkout_product(checkout), locale=locale
            )
        number = normalize_card_number(card_number)
        now = int(self._clock())
        if checkout.status == "expired" or now >= checkout.expires_at:
            self._close(checkout, "expired", now)
            raise Gone(
                "This checkout has expired. Go back and click Buy again.",
                code=ErrorCode.SESSION_EXPIRED,
                param="session",
            )
        if number in DECLINED_CARDS:
            code, message = DECLINED_CARDS[number]
            orders.apply_provider_event(
                self._store,
                self.name,
                ProviderEvent(
                    id=new_id("evt_sbx_failed"),
                    kind="payment_failed",
                    type="payment_intent.payment_failed",
                    order_id=checkout.order_id,
                    session_id=checkout.id,
                ),
                now=now,
            )
            raise PaymentDeclined(message, code=code, param="card_number")
        if number != SUCCESS_CARD:
            raise InvalidRequest(
                "This is a test checkout: use the test card 4242 4242 4242 4242.",
                code=ErrorCode.INVALID_CARD,
                param="card_number",
            )
        payment_id = new_id("pi_sbx", 24)
        # One transaction: the card is accepted and the order paid together, or neither is (a
        # crash in between must not leave a paid session on a pending order).
        with self._store.transaction() as conn:
            closed = conn.execute(
                update(sandbox_sessions)
                .where(sandbox_sessions.c.id == checkout.id, sandbox_sessions.c.status == "open")
                .values(status="complete", payment_id=payment_id)
            ).rowcount
            if closed:
                orders.apply_provider_event_in(
                    conn,
                    self.name,
                    ProviderEvent(
                        id=f"evt_sbx_paid_{checkout.id}",
                        kind="paid",
                        type="checkout.session.completed",
                        order_id=checkout.order_id,
                        session_id=checkout.id,
                        amount=checkout.amount + (shipping.amount if shipping else 0),
                        currency=checkout.currency,
                        payment_id=payment_id,
                        customer=customer,
                        shipping=shipping,
                    ),
                    now=now,
                )
                return checkout.success_url
        # Another request closed it first: paid (a double submit), or not at all.
        with self._store.read() as conn:
            if self._row(conn, checkout.id).status != "complete":
                raise Gone(
                    "This checkout was closed. Go back and click Buy again.",
                    code=ErrorCode.SESSION_EXPIRED,
                    param="session",
                )
        return checkout.success_url

    def cancel(self, session_id: str) -> str:
        """The shopper gave up: close the session, cancel the order, return the cancel URL."""
        checkout = self.get_checkout(session_id)
        if checkout.status == "open":
            self._close(checkout, "canceled", int(self._clock()))
        return checkout.cancel_url

    def _close(
        self, checkout: SandboxSession, kind: Literal["expired", "canceled"], now: int
    ) -> None:
        with self._store.transaction() as conn:  # the session and its order close together
            closed = conn.execute(
                update(sandbox_sessions)
                .where(sandbox_sessions.c.id == checkout.id, sandbox_sessions.c.status == "open")
                .values(status="expired")
            ).rowcount
            if closed:
                orders.apply_provider_event_in(
                    conn,
                    self.name,
                    ProviderEvent(
                        id=f"evt_sbx_{kind}_{checkout.id}",
                        kind=kind,
                        type=f"checkout.session.{kind}",
                        order_id=checkout.order_id,
                        session_id=checkout.id,
                    ),
                    now=now,
                )

    def refund(self, payment_id: str, *, amount: int, idempotency_key: str) -> Refund:
        with self._store.transaction() as conn:
            found = conn.execute(
                update(sandbox_sessions)
                .where(sandbox_sessions.c.payment_id == payment_id)
                .values(refunded=True)
            ).rowcount
        if not found:
            raise NotFound("No such sandbox payment.", code=ErrorCode.PAYMENT_NOT_FOUND)
        return Refund(id=f"re_sbx_{payment_id[7:]}", status="succeeded")

    def parse_webhook(self, payload: bytes, headers: RequestHeaders) -> ProviderEvent | None:
        # The sandbox needs no webhooks: its checkout page applies events directly.
        return None
