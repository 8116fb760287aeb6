"""The payment provider protocol.

A provider turns an order into a hosted payment session, reads sessions back, refunds, and turns
its own callbacks into :class:`ProviderEvent` values that :func:`buybutton.orders.apply_provider_event`
applies. It never touches an order's status itself. The shapes follow Stripe Checkout Sessions,
so the Stripe provider fits without adapters, and the sandbox imitates them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Mapping, Protocol, runtime_checkable

#: What a provider event means for the order it names.
EventKind = Literal["paid", "payment_failed", "expired", "canceled", "refunded"]


@dataclass(frozen=True, slots=True)
class CheckoutRequest:
    """What a provider needs to open a payment session for one order."""

    order_id: str
    merchant_id: str
    product_id: str
    product_name: str
    product_image_url: str | None
    unit_amount: int
    quantity: int
    currency: str
    success_url: str
    cancel_url: str
    expires_at: int
    allow_promotion_codes: bool = False
    #: Provider-specific extras (e.g. the Stripe customer of a returning shopper).
    options: Mapping[str, object] | None = None

    @property
    def amount(self) -> int:
        return self.unit_amount * self.quantity

    @property
    def idempotency_key(self) -> str:
        """Derived from the order: a retried request can never open a second session."""
        return f"buybutton-checkout-{self.order_id}"


@dataclass(frozen=True, slots=True)
class PaymentSession:
    """A provider's payment session as buybutton sees it."""

    id: str
    url: str | None
    status: Literal["open", "complete", "expired"]
    paid: bool
    order_id: str | None
    amount_total: int | None
    currency: str | None
    payment_id: str | None = None


@dataclass(frozen=True, slots=True)
class ProviderEvent:
    """A provider's callback, in the domain's terms. ``id`` makes replays no-ops."""

    id: str
    kind: EventKind
    type: str  # the provider's own event type, kept for the record
    order_id: str | None
    session_id: str | None = None
    amount: int | None = None
    currency: str | None = None
    payment_id: str | None = None


@dataclass(frozen=True, slots=True)
class Refund:
    id: str
    status: Literal["succeeded", "pending", "failed"]


@runtime_checkable
class PaymentProvider(Protocol):
    """What every payment provider offers. Errors surface as :class:`buybutton.errors.ProviderError`."""

    name: str

    def create_session(self, request: CheckoutRequest) -> PaymentSession:
        """Open a hosted payment session; idempotent on ``request.idempotency_key``."""

    def retrieve_session(self, session_id: str) -> PaymentSession:
        """Read a session back (reconciliation, the success page)."""

    def refund(self, payment_id: str, *, amount: int, idempotency_key: str) -> Refund:
        """Refund ``amount`` of a captured payment; idempotent on ``idempotency_key``."""

    def parse_webhook(self, payload: bytes, headers: Mapping[str, str]) -> ProviderEvent | None:
        """Verify and translate a provider callback; ``None`` for event types we ignore.
        Raises :class:`buybutton.errors.InvalidRequest` for a bad signature."""
