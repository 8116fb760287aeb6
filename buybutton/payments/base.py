"""The payment provider protocol.

A provider turns an order into a hosted payment session, reads sessions back, refunds, and turns
its own callbacks into :class:`ProviderEvent` values that :func:`buybutton.orders.apply_provider_event`
applies. It never touches an order's status itself. The shapes follow Stripe Checkout Sessions,
so the Stripe provider fits without adapters, and the sandbox imitates them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

from sqlalchemy import Connection

from ..buyers import Customer, Recipient, Shipping
from ..catalog import ShippingOptions

#: What a provider event means for the order it names.
EventKind = Literal["paid", "payment_failed", "expired", "canceled", "refunded"]


class RequestHeaders(Protocol):
    """A request's headers as a provider reads them: a Mapping, or werkzeug's ``Headers``."""

    def items(self) -> Iterable[tuple[str, str]]: ...


SessionStatus = Literal["open", "complete", "expired"]
RefundStatus = Literal["succeeded", "pending", "failed"]


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
    #: When the order was created: a provider derives time-dependent parameters from it rather
    #: than from its clock, so a retried request repeats the first one exactly.
    created_at: int | None = None
    #: Provider-specific extras (e.g. the Stripe customer of a returning shopper).
    options: Mapping[str, object] | None = None
    #: Where and how the product ships (the payment page collects an address and a rate);
    #: ``None``: it does not ship (the page still asks for the buyer's email).
    shipping: ShippingOptions | None = None
    #: The buyer's email when already known (a returning shopper), to prefill.
    customer_email: str | None = None
    #: Where a one-click purchase ships, its rate and cost (the Checkout page collects its own).
    ship_to: Shipping | None = None

    @property
    def amount(self) -> int:
        """The goods, plus shipping when the request already knows it (one click)."""
        return self.unit_amount * self.quantity + (self.ship_to.amount if self.ship_to else 0)

    @property
    def idempotency_key(self) -> str:
        """Derived from the order: a retried request can never open a second session."""
        return f"buybutton-checkout-{self.order_id}"


@dataclass(frozen=True, slots=True)
class PaymentSession:
    """A provider's payment session as buybutton sees it."""

    id: str
    url: str | None
    status: SessionStatus
    paid: bool
    order_id: str | None
    amount_total: int | None
    currency: str | None
    payment_id: str | None = None
    #: The provider's customer whose card this payment saved (with the shopper's consent), if any.
    customer_id: str | None = None
    #: What a promotion code took off the order's amount (``amount_total`` is after it).
    amount_discount: int = 0
    #: The buyer and the shipping the payment page collected, once it is complete.
    customer: Customer | None = None
    shipping: Shipping | None = None


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
    #: What a promotion code took off: ``amount`` is the order's amount less this.
    amount_discount: int = 0
    #: The buyer and the shipping (address, rate, cost) the payment page collected.
    customer: Customer | None = None
    shipping: Shipping | None = None


@dataclass(frozen=True, slots=True)
class Refund:
    id: str
    status: RefundStatus


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

    def parse_webhook(self, payload: bytes, headers: RequestHeaders) -> ProviderEvent | None:
        """Verify and translate a provider callback; ``None`` for event types we ignore.
        Raises :class:`buybutton.errors.InvalidRequest` for a bad signature."""


@dataclass(frozen=True, slots=True)
class SavedCard:
    """A returning shopper's saved card, as the buy page shows it ("Visa •••4242")."""

    customer_id: str
    payment_method_id: str
    brand: str
    last4: str

    @property
    def label(self) -> str:
        return f"{self.brand.replace('_', ' ').title()} •••{self.last4}"


@dataclass(frozen=True, slots=True)
class SavedCardPayment:
    """The outcome of charging a saved card. ``requires_action``: the bank wants the shopper to
    authenticate, which only the hosted checkout can do; the attempt was canceled."""

    id: str
    status: Literal["succeeded", "processing", "requires_action"]
    amount: int
    currency: str


@runtime_checkable
class LocalSessionProvider(Protocol):
    """A provider whose sessions live in buybutton's own database (the sandbox): a checkout
    creates the order and its session in one write transaction."""

    name: str

    def create_session_in(self, conn: Connection, request: CheckoutRequest) -> PaymentSession:
        """:meth:`PaymentProvider.create_session` inside the caller's write transaction."""


@runtime_checkable
class SavedCardProvider(Protocol):
    """What a provider offers on top of :class:`PaymentProvider` for one-click purchases.
    Declines raise :class:`buybutton.errors.PaymentDeclined`; failures ``ProviderError``."""

    def saved_card(self, customer_id: str) -> SavedCard | None:
        """The customer's most recent saved card, or ``None`` (no such customer, no card)."""

    def pay_with_saved_card(self, request: CheckoutRequest, card: SavedCard) -> SavedCardPayment:
        """Charge ``card`` for the order of ``request`` with the shopper present; idempotent per
        order."""

    def forget_card(self, card: SavedCard) -> None:
        """Detach the card from its customer: it can never be charged through us again."""

    def saved_recipient(self, customer_id: str) -> Recipient | None:
        """The shipping name and address kept with the customer, or ``None``."""

    def saved_customer(self, customer_id: str) -> Customer | None:
        """Who the customer is (email, name, phone, as the provider keeps them), or ``None``:
        a one-click order records it, so its receipt has somewhere to go."""
