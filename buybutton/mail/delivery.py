"""Sending queued mail: the worker that claims due messages, renders and sends them, and retries.

A :class:`MailDeliverer` claims due ``mail_deliveries`` rows under a lease (``SELECT … FOR
UPDATE SKIP LOCKED`` on PostgreSQL, so many workers claim disjoint rows), renders each message
from the order as it is now (in the language recorded on the row), hands it to the transport
(SMTP, or ``.eml`` files) and records the outcome, only while it still holds the lease:

- accepted: ``sent``, with its Message-ID and time;
- a passing failure (a 4xx reply, a server down, a timeout, a full disk): tried again after the
  :class:`~buybutton.webhooks.RetryPolicy`'s wait, until the attempts run out (then ``failed``);
- a lasting one (a 5xx reply such as an unknown recipient, an address that cannot be written):
  ``failed`` at once, with the reason in ``last_error``.

A worker that dies mid-claim leaves its rows leased; they are due again when the lease runs out.
The one window in which a message can go out twice is a crash after the server accepted it and
before the outcome was committed: the second copy carries the same ``Message-ID``
(``<mail id@sender domain>``, fixed per row), which mail clients use to show one message.

The worker lives here, above :mod:`buybutton.orders` (it reads orders to render them), and is not
imported by :mod:`buybutton.mail` (which the order state machine imports to queue mail).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import random as _random
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from sqlalchemy import Connection, or_, select, update

from .. import catalog, digital, merchants, orders
from ..config import Settings, parse_address
from ..errors import (
    ConfigError,
    Conflict,
    ErrorCode,
    InvalidRequest,
    MailDeliveryError,
    NotFound,
)
from ..money import Money
from ..store import Store
from ..store.schema import mail_deliveries
from ..webhooks import RetryPolicy
from .messages import (
    OrderSummary,
    Shipment,
    ShippingAddress,
    Shop,
    build_new_order,
    build_receipt,
    build_refunded,
    build_shipped,
)
from .outbox import MERCHANT_KINDS, MailDelivery, delivery_from_row, queue_mail
from .transport import MailTransport, make_transport

log = logging.getLogger("buybutton.mail")

#: The shopper's order page for an order id (the signed ``/orders/REF`` link), or ``None`` when
#: the server's public address is unknown (the message then has no link).
OrderUrl = Callable[[str], str | None]
#: What a paid order delivers (its download link, its licence key: see
#: :func:`buybutton.digital.order_delivery`), or ``None``; ``None`` too without a public URL.
OrderDelivery = Callable[[Connection, str], "digital.Delivery | None"]


def no_delivery(conn: Connection, order_id: str) -> digital.Delivery | None:
    """The :data:`OrderDelivery` of a server whose links are unknown: no download link."""
    return None


#: The longest address a message goes to (RFC 5321's limit on a path).
MAX_ADDRESS_LENGTH = 254

#: Twelve attempts over about 20 hours (1 min, 2 min, 4 min, … 4.3 h, 6 h, 6 h), each ±20 %.
DEFAULT_POLICY = RetryPolicy(max_attempts=12, base_seconds=60, cap_seconds=6 * 3600)


def mail_policy(settings: Settings) -> RetryPolicy:
    """The retry policy ``BUYBUTTON_MAIL_RETRY_SCHEDULE`` sets (else :data:`DEFAULT_POLICY`)."""
    if settings.mail_retry_schedule:
        return RetryPolicy.from_waits(settings.mail_retry_schedule)
    return DEFAULT_POLICY


# -- rendering -----------------------------------------------------------------------------------


def _shop(merchant: merchants.Merchant | None) -> Shop:
    if merchant is None:
        return Shop(name="")
    policy = merchant.return_policy
    return Shop(
        name=merchant.name,
        support_email=merchant.support_email,
        return_policy=policy.text if policy and policy.text else None,
        return_days=policy.days if policy else None,
    )


def _summary(order: orders.Order, item: str, url: str | None) -> OrderSummary:
    shipping = order.shipping
    address = None
    if shipping is not None:
        address = ShippingAddress(
            name=shipping.name,
            line1=shipping.address.line1,
            line2=shipping.address.line2,
            postal_code=shipping.address.postal_code,
            city=shipping.address.city,
            region=shipping.address.state,
            country=shipping.address.country,
        )
    return OrderSummary(
        id=order.id,
        item=item,
        quantity=order.quantity,
        unit_price=Money(order.unit_amount, order.currency),
        buyer_email=order.customer.email or "",
        buyer_name=order.customer.name,
        shipping=Money(order.amount_shipping, order.currency) if shipping is not None else None,
        shipping_rate=shipping.rate_name if shipping is not None else None,
        shipping_address=address,
        url=url,
    )


def render_mail(
    conn: Connection,
    delivery: MailDelivery,
    *,
    sender: str,
    order_url: OrderUrl,
    order_delivery: OrderDelivery = no_delivery,
) -> EmailMessage:
    """The message ``delivery`` stands for, rendered from its order as it is now, with the
    row's fixed Message-ID; a receipt carries the order's download link (while it works) and
    licence key, from ``order_delivery``. Raises :class:`InvalidRequest` when it cannot be
    written (an address or a link that is not usable)."""
    order = orders.get_order(conn, delivery.order_id)
    product = catalog.get_product(conn, order.product_id, include_deleted=True)
    merchant = merchants.get_merchant(conn, order.merchant_id)
    shop = _shop(merchant)
    summary = _summary(order, product.name, order_url(order.id))
    if delivery.kind not in MERCHANT_KINDS:
        # To the address queued (the buyer's at the time, or the one a resend named).
        summary = dataclasses.replace(summary, buyer_email=delivery.to_address)
    locale = delivery.locale
    if delivery.kind == "receipt":
        delivers = order_delivery(conn, order.id)
        if delivers is not None:
            summary = dataclasses.replace(
                summary,
                download_url=delivers.download_url if delivers.available else None,
                license_key=delivers.license_key,
            )
        message = build_receipt(shop, summary, sender=sender, locale=locale)
    elif delivery.kind == "new_order":
        message = build_new_order(
            shop, summary, to=delivery.to_address, sender=sender, locale=locale
        )
    elif delivery.kind == "refunded":
        refund = order.amount if order.amount_paid is None else order.amount_paid
        message = build_refunded(
            shop, summary, Money(refund, order.currency), sender=sender, locale=locale
        )
    else:
        fulfillment = order.fulfillment
        shipment = Shipment(
            carrier=fulfillment.carrier or "",
            tracking_number=fulfillment.tracking_number,
            tracking_url=fulfillment.tracking_url,
        )
        message = build_shipped(shop, summary, shipment, sender=sender, locale=locale)
    sender_domain = parse_address(sender, name="BUYBUTTON_MAIL_FROM").domain
    del message["Message-ID"]
    # The same on every attempt: a copy sent twice (a crash after the server took it) is one
    # message to the reader's mail client.
    message["Message-ID"] = f"<{delivery.id}@{sender_domain}>"
    return message


# -- the worker ------------------------------------------------------------------------------------


@dataclass
class MailReport:
    """What one pass of a mail worker did."""

    claimed: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0

    def add(self, other: MailReport) -> None:
        for name in ("claimed", "sent", "retrying", "failed"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass(frozen=True)
class _Outcome:
    message_id: str | None = None
    error: str | None = None
    retryable: bool = False


class MailDeliverer:
    """Sends due mail from ``store`` through ``transport``, from ``sender``. Many may run at
    once, in threads or processes on any machines sharing the database.

    It claims up to ``batch_size`` due messages at a time under a lease of ``lease_seconds``
    (by default long enough for every message of a claim to meet the SMTP timeout at each of its
    steps), sends them one after another and records each outcome. ``clock`` and ``random``
    (a float in [0, 1), for the jitter) are injectable so tests never sleep.
    """

    def __init__(
        self,
        store: Store,
        transport: MailTransport,
        *,
        sender: str,
        order_url: OrderUrl = lambda order_id: None,
        order_delivery: OrderDelivery = no_delivery,
        policy: RetryPolicy = DEFAULT_POLICY,
        clock: Callable[[], float] = time.time,
        random: Callable[[], float] = _random.random,
        batch_size: int = 10,
        lease_seconds: int | None = None,
        send_timeout: float = 30.0,
    ):
        if batch_size < 1:
            raise ConfigError(
                f"The mail deliverer's batch_size must be at least 1, not {batch_size}.",
                param="batch_size",
            )
        self.store = store
        self.transport = transport
        self.sender = sender
        self.order_url = order_url
        self.order_delivery = order_delivery
        self.policy = policy
        self.clock = clock
        self.random = random
        self.batch_size = batch_size
        # A message takes a handful of SMTP steps, each bounded by the timeout.
        self.lease_seconds = lease_seconds or int(60 + batch_size * 6 * send_timeout)

    def _claimable(self, now: int) -> Any:
        return (
            (mail_deliveries.c.status == "pending")
            & (mail_deliveries.c.next_attempt_at <= now)
            & or_(
                mail_deliveries.c.lease_expires_at.is_(None),
                mail_deliveries.c.lease_expires_at <= now,
            )
        )

    def _claim(self) -> tuple[str, list[MailDelivery]]:
        """Lease the next due messages: ``(lease token, deliveries)``."""
        now = int(self.clock())
        token = secrets.token_hex(16)
        with self.store.read() as conn:
            # Most passes find nothing due: a read costs no write lock (SQLite has one).
            if (
                conn.execute(
                    select(mail_deliveries.c.pk).where(self._claimable(now)).limit(1)
                ).first()
                is None
            ):
                return token, []
        with self.store.transaction() as conn:
            pks = (
                conn.execute(
                    select(mail_deliveries.c.pk)
                    .where(self._claimable(now))
                    .order_by(mail_deliveries.c.next_attempt_at, mail_deliveries.c.pk)
                    .limit(self.batch_size)
                    .with_for_update(skip_locked=True)
                )
                .scalars()
                .all()
            )
            if not pks:
                return token, []
            conn.execute(
                update(mail_deliveries)
                .where(mail_deliveries.c.pk.in_(pks))
                .values(lease_token=token, lease_expires_at=now + self.lease_seconds)
            )
            rows = conn.execute(
                select(mail_deliveries)
                .where(mail_deliveries.c.pk.in_(pks))
                .order_by(mail_deliveries.c.next_attempt_at, mail_deliveries.c.pk)
            ).all()
        return token, [delivery_from_row(r) for r in rows]

    def _still_ours(self, delivery: MailDelivery, token: str) -> bool:
        """Right before sending: the row is still pending and leased to this claim (a claim
        that outlived its lease may have been taken over; then the new holder sends it)."""
        with self.store.read() as conn:
            row = conn.execute(
                select(mail_deliveries.c.status, mail_deliveries.c.lease_token).where(
                    mail_deliveries.c.id == delivery.id
                )
            ).one()
        return bool(row.status == "pending" and row.lease_token == token)

    def _attempt(self, delivery: MailDelivery) -> _Outcome:
        try:
            with self.store.read() as conn:
                message = render_mail(
                    conn,
                    delivery,
                    sender=self.sender,
                    order_url=self.order_url,
                    order_delivery=self.order_delivery,
                )
        except (InvalidRequest, NotFound) as exc:
            return _Outcome(error=f"Cannot write this message: {exc.message}")
        except Exception as exc:  # noqa: BLE001 - a fault here must not stop the other messages
            log.exception("mail %s: rendering failed", delivery.id)
            return _Outcome(error=f"Rendering failed: {type(exc).__name__}", retryable=True)
        try:
            return _Outcome(message_id=self.transport.send(message))
        except MailDeliveryError as exc:
            return _Outcome(error=exc.message, retryable=exc.retryable)

    def _record(
        self, delivery: MailDelivery, token: str, outcome: _Outcome, report: MailReport
    ) -> None:
        now = int(self.clock())
        attempts = delivery.attempts + 1
        values: dict[str, Any] = {
            "lease_token": None,
            "lease_expires_at": None,
            "attempts": attempts,
            "last_attempt_at": now,
            "last_error": outcome.error[:500] if outcome.error else None,
        }
        if outcome.message_id is not None:
            values.update(status="sent", message_id=outcome.message_id[:255], sent_at=now)
            kind = "sent"
        elif outcome.retryable and attempts < self.policy.max_attempts:
            values.update(next_attempt_at=now + self.policy.delay(attempts, self.random()))
            kind = "retrying"
        else:
            values.update(status="failed")
            kind = "failed"
        with self.store.transaction() as conn:
            result = conn.execute(
                update(mail_deliveries)
                .where(
                    mail_deliveries.c.id == delivery.id,
                    mail_deliveries.c.lease_token == token,
                    mail_deliveries.c.status == "pending",
                )
                .values(**values)
            )
        if result.rowcount == 1:
            setattr(report, kind, getattr(report, kind) + 1)
        if kind == "sent":
            log.info("mail %s (%s of %s) sent", delivery.id, delivery.kind, delivery.order_id)
        else:
            log.warning(
                "mail %s (%s of %s), attempt %d: %s%s",
                delivery.id,
                delivery.kind,
                delivery.order_id,
                attempts,
                outcome.error,
                "; will retry" if kind == "retrying" else "; given up",
            )

    def _release(self, deliveries: list[MailDelivery], token: str) -> None:
        """Give back claimed messages not attempted (the worker is stopping)."""
        with self.store.transaction() as conn:
            conn.execute(
                update(mail_deliveries)
                .where(
                    mail_deliveries.c.id.in_([d.id for d in deliveries]),
                    mail_deliveries.c.lease_token == token,
                )
                .values(lease_token=None, lease_expires_at=None)
            )

    def deliver_due(self, stop: threading.Event | None = None) -> MailReport:
        """Claim the next due messages, send each once and record the outcomes."""
        token, claimed = self._claim()
        report = MailReport(claimed=len(claimed))
        for index, delivery in enumerate(claimed):
            if stop is not None and stop.is_set():
                self._release(claimed[index:], token)
                break
            if not self._still_ours(delivery, token):
                continue
            self._record(delivery, token, self._attempt(delivery), report)
        return report

    def deliver_all_due(self) -> MailReport:
        """Deliver until nothing is due now (a failure is due again only later)."""
        total = MailReport()
        while True:
            report = self.deliver_due()
            total.add(report)
            if report.claimed == 0:
                return total

    def run(self, stop: threading.Event, *, idle_seconds: float = 1.0) -> None:
        """Deliver until ``stop`` is set, waiting ``idle_seconds`` when nothing is due. A
        database error is logged and retried after the wait: the worker outlives outages."""
        while not stop.is_set():
            try:
                report = self.deliver_due(stop)
            except Exception:  # noqa: BLE001 - keep the worker alive; the rows stay due
                log.exception("mail delivery failed")
                report = MailReport()
            if report.claimed == 0:
                stop.wait(idle_seconds)


def mail_deliverer(
    store: Store, settings: Settings, *, order_url: OrderUrl = lambda order_id: None, **options: Any
) -> MailDeliverer:
    """The :class:`MailDeliverer` the settings describe: their transport (SMTP or ``.eml``
    files), sender, retry policy and SMTP timeout; ``options`` override its keyword arguments."""
    kwargs: dict[str, Any] = {
        "sender": settings.mail_from,
        "policy": mail_policy(settings),
        "send_timeout": settings.smtp.timeout if settings.smtp else 30.0,
        **options,
    }
    return MailDeliverer(store, make_transport(settings), order_url=order_url, **kwargs)


def start_mail_thread(
    deliverer: MailDeliverer, *, idle_seconds: float = 1.0
) -> tuple[threading.Thread, threading.Event]:
    """Run ``deliverer`` in a daemon thread (``buybutton serve`` / ``demo``); returns the thread
    and the event that stops it."""
    stop = threading.Event()
    store = deliverer.store
    # A server that forks (gunicorn) must not let its children reuse this thread's connections.
    os.register_at_fork(after_in_child=lambda: store.engine.dispose(close=False))
    thread = threading.Thread(
        target=deliverer.run,
        args=(stop,),
        kwargs={"idle_seconds": idle_seconds},
        name="buybutton-mail",
        daemon=True,
    )
    thread.start()
    return thread, stop


# -- resending -------------------------------------------------------------------------------------


def resend_receipt(
    store: Store,
    order_id: str,
    *,
    merchant_id: str | None = None,
    to: str | None = None,
    now: float | None = None,
) -> MailDelivery:
    """Queue the shopper's receipt of a paid order again (the dashboard's "Resend receipt", the
    CLI's ``buybutton mail resend``), to ``to`` or the buyer's address; it goes out with the next
    pass of the mail worker. While an earlier resend of it is still waiting to go out, that one
    is returned instead of queuing another.

    Raises :class:`NotFound` (``order_not_found``, also for another merchant's order),
    :class:`Conflict` (``order_not_paid``) unless the order is paid, and (``no_buyer_email``)
    when the order has no buyer address and ``to`` is not given; :class:`InvalidRequest`
    (``param="to"``) for an unusable ``to``.
    """
    stamp = int(now if now is not None else time.time())
    if to is not None:
        try:
            to = parse_address(to, name="to").addr_spec
        except ConfigError as exc:
            raise InvalidRequest(exc.message, param="to") from None
        if len(to) > MAX_ADDRESS_LENGTH:
            raise InvalidRequest(f"to must be at most {MAX_ADDRESS_LENGTH} characters.", param="to")
    with store.transaction() as conn:
        order = orders.get_order(conn, order_id, merchant_id=merchant_id)
        if order.status != "paid":
            raise Conflict(
                f"Only a paid order has a receipt; this one is {order.status}.",
                code=ErrorCode.ORDER_NOT_PAID,
                param="id",
            )
        address = to or order.customer.email
        if address is None:
            raise Conflict(
                "This order has no buyer email address to send its receipt to.",
                code=ErrorCode.NO_BUYER_EMAIL,
                param="to",
            )
        waiting = conn.execute(
            select(mail_deliveries).where(
                mail_deliveries.c.order_id == order.id,
                mail_deliveries.c.kind == "receipt",
                mail_deliveries.c.event_id.is_(None),
                mail_deliveries.c.status == "pending",
                mail_deliveries.c.to_address == address,
            )
        ).first()
        if waiting is not None:
            return delivery_from_row(waiting)
        queued = queue_mail(
            conn,
            order_id=order.id,
            kind="receipt",
            to=address,
            locale=order.locale,
            event_id=None,
            now=stamp,
        )
    assert queued is not None  # no event: always queued
    return queued


__all__ = [
    "DEFAULT_POLICY",
    "MERCHANT_KINDS",
    "MailDeliverer",
    "MailReport",
    "OrderDelivery",
    "OrderUrl",
    "no_delivery",
    "mail_deliverer",
    "mail_policy",
    "render_mail",
    "resend_receipt",
    "start_mail_thread",
]
