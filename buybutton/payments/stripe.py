"""The Stripe payment provider, on the official ``stripe`` library (a ``StripeClient``, no globals).

- Orders are paid through Checkout Sessions (mode ``payment``), created with an Idempotency-Key
  derived from the order, so a retried request never opens a second session.
- A shopper who consents saves the card (a Stripe customer + ``setup_future_usage``); next time
  a PaymentIntent confirmed with that card pays in one click, falling back to the hosted
  Checkout when the bank asks for authentication.
- Webhooks are verified with ``construct_event`` and translated into :class:`ProviderEvent` values;
  nothing here changes an order (``buybutton.orders`` does).
- Every Stripe failure becomes one of our errors: :class:`PaymentDeclined` (402) for a card the
  bank refused, :class:`ProviderError` (502, or 503 when Stripe is unreachable) for the rest.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, cast
from urllib.parse import urljoin

import stripe
from stripe.params import PaymentIntentCreateParams
from stripe.params.checkout import SessionCreateParams

from ..addresses import PostalAddress
from ..buyers import Customer, Recipient, Shipping
from ..config import Settings
from ..errors import ErrorCode, InvalidRequest, PaymentDeclined, ProviderError, ProviderUnavailable
from .base import (
    CheckoutRequest,
    PaymentSession,
    ProviderEvent,
    Refund,
    RefundStatus,
    RequestHeaders,
    SavedCard,
    SavedCardPayment,
    SessionStatus,
)

log = logging.getLogger("buybutton.stripe")

#: Seconds a request to Stripe may take before the library gives up (and retries, if allowed).
DEFAULT_TIMEOUT = 20
DEFAULT_MAX_NETWORK_RETRIES = 2
WEBHOOK_TOLERANCE = 300
#: Stripe wants a Checkout Session to stay open at least 30 minutes from its creation; a minute
#: more absorbs clock skew and a session opened on a retry, after its order was created.
STRIPE_MIN_SESSION_SECONDS = 30 * 60
MIN_SESSION_SECONDS = STRIPE_MIN_SESSION_SECONDS + 60

_SESSION_STATUSES: dict[str, SessionStatus] = {
    "open": "open",
    "complete": "complete",
    "expired": "expired",
}
#: A one-click PaymentIntent seen as a Checkout Session.
_INTENT_STATUSES: dict[str, SessionStatus] = {"succeeded": "complete", "canceled": "expired"}
_REFUND_STATUSES: dict[str, RefundStatus] = {
    "succeeded": "succeeded",
    "pending": "pending",
    "requires_action": "pending",
    "failed": "failed",
    "canceled": "failed",
}


@contextmanager
def stripe_errors() -> Iterator[None]:
    """Translate the library's errors into ours at the boundary, keeping Stripe's request id in
    the log (it is what Stripe support asks for) and never charging anything twice."""
    try:
        yield
    except stripe.CardError as exc:
        decline_code = getattr(exc.error, "decline_code", None) if exc.error else None
        code: str = decline_code or exc.code or ErrorCode.CARD_DECLINED
        raise PaymentDeclined(
            exc.user_message or "Your card was declined.", code=code, param="payment_method"
        ) from exc
    except (stripe.APIConnectionError, stripe.RateLimitError) as exc:
        log.warning("stripe unreachable: %s (request %s)", exc.user_message, exc.request_id)
        raise ProviderUnavailable(
            "The payment provider cannot be reached right now; nothing was "
            "charged. Please try again in a moment."
        ) from exc
    except stripe.AuthenticationError as exc:
        log.error("stripe rejected our API key (request %s)", exc.request_id)
        raise ProviderError(
            "The shop's payment set-up is incomplete; nothing was charged.",
            code=ErrorCode.PAYMENT_PROVIDER_MISCONFIGURED,
        ) from exc
    except stripe.InvalidRequestError as exc:
        log.error(
            "stripe refused a request: %s (param %s, request %s)",
            exc.user_message,
            exc.param,
            exc.request_id,
        )
        raise ProviderError(
            f"The payment provider refused the checkout: {exc.user_message} Nothing was charged.",
            code=ErrorCode.PAYMENT_PROVIDER_ERROR,
            param=exc.param,
        ) from exc
    except stripe.StripeError as exc:
        log.error(
            "stripe error %s: %s (request %s)", exc.http_status, exc.user_message, exc.request_id
        )
        raise ProviderError(
            "The payment provider failed; nothing was charged. Please try again."
        ) from exc


def _id(value: Any) -> str | None:
    """An id from a field Stripe sends either as an id or as an expanded object."""
    if value is None or isinstance(value, str):
        return value
    found = value.get("id")
    return str(found) if found is not None else None


def _discount(session: Mapping[str, Any]) -> int:
    return int((session.get("total_details") or {}).get("amount_discount") or 0)


def _text(value: Any, max_length: int) -> str:
    return value.strip()[:max_length] if isinstance(value, str) else ""


def session_customer(session: Mapping[str, Any]) -> Customer | None:
    """The buyer a completed Checkout Session collected (``customer_details``), or ``None``."""
    details = session.get("customer_details") or {}
    email = details.get("email") or session.get("customer_email")
    if not (email or details.get("name")):
        return None
    return Customer(
        email=_text(email, 254) or None,
        name=_text(details.get("name"), 200) or None,
        phone=_text(details.get("phone"), 40) or None,
    )


def session_shipping(session: Mapping[str, Any]) -> Shipping | None:
    """Where a completed Checkout Session ships and what shipping cost, or ``None``.

    API versions from 2025-03-31 report the address in ``collected_information.shipping_details``;
    older ones in ``shipping_details`` (and before that ``shipping``): all three are read. The
    chosen rate comes back as Stripe's own ``shr_…`` id, so the rate is named by the order's
    product afterwards (:func:`buybutton.orders.mark_paid`), from ``shipping_cost``'s amount."""
    collected = session.get("collected_information") or {}
    details = (
        collected.get("shipping_details")
        or session.get("shipping_details")
        or session.get("shipping")
    )
    if not details or not (details.get("address") or {}).get("country"):
        return None
    address = details["address"]
    cost = session.get("shipping_cost") or {}
    return Shipping(
        name=_text(details.get("name"), 200),
        address=PostalAddress(
            line1=_text(address.get("line1"), 200),
            line2=_text(address.get("line2"), 200),
            city=_text(address.get("city"), 100),
            postal_code=_text(address.get("postal_code"), 20),
            state=_text(address.get("state"), 100),
            country=_text(address.get("country"), 2).upper(),
        ),
        rate_id=None,
        rate_name=None,
        amount=int(cost.get("amount_total") or 0),
    )


def shipping_params(request: CheckoutRequest) -> dict[str, Any]:
    """The Checkout Session parameters that make Stripe collect the address and offer the
    product's rates (``shipping_address_collection``, ``shipping_options``)."""
    options = request.shipping
    if options is None:
        return {}
    rates = []
    for rate in options.rates:
        data: dict[str, Any] = {
            "type": "fixed_amount",
            "display_name": rate.name,
            "fixed_amount": {"amount": rate.amount, "currency": request.currency},
            "metadata": {"rate_id": rate.id},
        }
        if rate.delivery_estimate is not None:
            data["delivery_estimate"] = {
                "minimum": {"unit": "business_day", "value": rate.delivery_estimate.min_days},
                "maximum": {"unit": "business_day", "value": rate.delivery_estimate.max_days},
            }
        rates.append({"shipping_rate_data": data})
    return {
        "shipping_address_collection": {"allowed_countries": list(options.countries)},
        "shipping_options": rates,
    }


def _order_id(obj: Mapping[str, Any]) -> str | None:
    metadata = obj.get("metadata") or {}
    return obj.get("client_reference_id") or metadata.get("order_id") or None


class StripeProvider:
    """The :class:`~buybutton.payments.base.PaymentProvider` (and
    :class:`~buybutton.payments.base.SavedCardProvider`) backed by Stripe."""

    name = "stripe"

    def __init__(
        self,
        client: stripe.StripeClient,
        *,
        webhook_secret: str | None = None,
        webhook_tolerance: int = WEBHOOK_TOLERANCE,
        clock: Callable[[], float] = time.time,
    ):
        self.client = client
        self._webhook_secret = webhook_secret
        self._tolerance = webhook_tolerance
        self._clock = clock

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        max_network_retries: int = DEFAULT_MAX_NETWORK_RETRIES,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> StripeProvider:
        """Build the provider from ``STRIPE_SECRET_KEY``, ``STRIPE_WEBHOOK_SECRET`` and the
        optional ``STRIPE_API_BASE`` (a local fake Stripe in tests and development)."""
        if not settings.stripe_secret_key:
            raise ProviderError(
                "STRIPE_SECRET_KEY is not set.", code=ErrorCode.PAYMENT_PROVIDER_MISCONFIGURED
            )
        options: dict[str, Any] = {}
        if settings.stripe_api_base:
            options["base_addresses"] = {"api": settings.stripe_api_base.rstrip("/")}
        client = stripe.StripeClient(
            settings.stripe_secret_key,
            max_network_retries=max_network_retries,
            http_client=stripe.RequestsClient(timeout=timeout),
            **options,
        )
        return cls(client, webhook_secret=settings.stripe_webhook_secret)

    # -- Checkout Sessions ---------------------------------------------------------------------

    def checkout_session_params(self, request: CheckoutRequest) -> dict[str, Any]:
        """The ``POST /v1/checkout/sessions`` parameters for ``request``."""
        options = dict(request.options or {})
        product_data: dict[str, Any] = {
            "name": request.product_name,
            "metadata": {"product_id": request.product_id},
        }
        if request.product_image_url:
            # A path is on our own server, like success_url; Stripe shows only public https images.
            image = urljoin(request.success_url, request.product_image_url)
            if image.startswith("https://"):
                product_data["images"] = [image]
        ids = {"order_id": request.order_id, "merchant_id": request.merchant_id}
        params: dict[str, Any] = {
            "mode": "payment",
            "line_items": [
                {
                    "price_data": {
                        "currency": request.currency,
                        "unit_amount": request.unit_amount,
                        "product_data": product_data,
                    },
                    "quantity": request.quantity,
                }
            ],
            "client_reference_id": request.order_id,
            "metadata": {**ids, "product_id": request.product_id},
            # Copied to the PaymentIntent so payment_intent.* and charge.* events name the order.
            "payment_intent_data": {"metadata": {**ids, "buybutton_flow": "checkout"}},
            "success_url": request.success_url,
            "cancel_url": request.cancel_url,
            "expires_at": self._session_expiry(request),
        }
        if request.allow_promotion_codes:
            params["allow_promotion_codes"] = True
        params.update(shipping_params(request))
        customer = options.get("customer")
        if customer:
            params["customer"] = customer  # Stripe prefills its saved email and address
            if request.shipping is not None:
                # Keep the address given now with the customer, for the next one click.
                params["customer_update"] = {"shipping": "auto"}
        elif request.customer_email:
            params["customer_email"] = request.customer_email
        if options.get("save_card"):
            # The shopper ticked "save my card": keep it for on-session one-click purchases.
            params["payment_intent_data"]["setup_future_usage"] = "on_session"
            params["metadata"]["save_card"] = "true"
        if not customer and (options.get("save_card") or request.shipping is not None):
            # A Customer keeps the card, and the address for the next one-click purchase.
            params["customer_creation"] = "always"
        return params

    def _session_expiry(self, request: CheckoutRequest) -> int:
        """The order's own expiry, unless that is sooner than Stripe accepts: a payment after
        the order lapsed still pays it (the state machine re-reserves or flags it).

        Counted from the order's creation, not from now, so a retry of the request (the shopper's
        "try again" after a timeout) sends the same parameters under the same idempotency key:
        Stripe refuses a reused key with other parameters. Only a retry too late for that value
        falls back to now (the first attempt then never reached Stripe, or nothing could help).
        """
        now = int(self._clock())
        base = request.created_at if request.created_at is not None else now
        expires_at = max(request.expires_at, base + MIN_SESSION_SECONDS)
        if expires_at < now + STRIPE_MIN_SESSION_SECONDS:
            expires_at = now + MIN_SESSION_SECONDS
        return expires_at

    def create_session(self, request: CheckoutRequest) -> PaymentSession:
        with stripe_errors():
            session = self.client.v1.checkout.sessions.create(
                # The tests check these parameters against the shapes Stripe accepts.
                params=cast("SessionCreateParams", self.checkout_session_params(request)),
                options={"idempotency_key": request.idempotency_key},
            )
        return self._session(session.to_dict())

    def retrieve_session(self, session_id: str) -> PaymentSession:
        """A Checkout Session (``cs_…``), or a one-click PaymentIntent (``pi_…``) seen the same way."""
        with stripe_errors():
            if session_id.startswith("pi_"):
                return self._intent_session(
                    self.client.v1.payment_intents.retrieve(session_id).to_dict()
                )
            return self._session(self.client.v1.checkout.sessions.retrieve(session_id).to_dict())

    @staticmethod
    def _session(session: Mapping[str, Any]) -> PaymentSession:
        metadata = session.get("metadata") or {}
        saved = metadata.get("save_card") == "true" and session.get("payment_status") == "paid"
        return PaymentSession(
            id=session["id"],
            url=session.get("url"),
            status=_SESSION_STATUSES.get(session.get("status") or "open", "open"),
            paid=session.get("payment_status") == "paid",
            order_id=_order_id(session),
            amount_total=session.get("amount_total"),
            currency=session.get("currency"),
            payment_id=_id(session.get("payment_intent")),
            customer_id=_id(session.get("customer")) if saved else None,
            amount_discount=_discount(session),
            customer=session_customer(session),
            shipping=session_shipping(session),
        )

    @staticmethod
    def _intent_session(intent: Mapping[str, Any]) -> PaymentSession:
        status = intent.get("status")
        return PaymentSession(
            id=intent["id"],
            url=None,
            status=_INTENT_STATUSES.get(status or "", "open"),
            paid=status == "succeeded",
            order_id=_order_id(intent),
            amount_total=intent.get("amount_received") or intent.get("amount"),
            currency=intent.get("currency"),
            payment_id=intent["id"],
        )

    # -- refunds -------------------------------------------------------------------------------

    def refund(self, payment_id: str, *, amount: int, idempotency_key: str) -> Refund:
        with stripe_errors():
            refund = self.client.v1.refunds.create(
                params={"payment_intent": payment_id, "amount": amount},
                options={"idempotency_key": idempotency_key},
            ).to_dict()
        return Refund(
            id=refund["id"], status=_REFUND_STATUSES.get(refund.get("status") or "", "pending")
        )

    # -- saved cards (one click) ---------------------------------------------------------------

    def saved_card(self, customer_id: str) -> SavedCard | None:
        with stripe_errors():
            try:
                cards = self.client.v1.payment_methods.list(
                    params={"customer": customer_id, "type": "card", "limit": 1}
                )
            except stripe.InvalidRequestError as exc:
                if exc.http_status == 404:  # the customer was deleted: nothing saved any more
                    return None
                raise
        for method in cards.to_dict()["data"]:
            card = method.get("card") or {}
            return SavedCard(
                customer_id=customer_id,
                payment_method_id=method["id"],
                brand=card.get("brand") or "card",
                last4=card.get("last4") or "????",
            )
        return None

    def pay_with_saved_card(self, request: CheckoutRequest, card: SavedCard) -> SavedCardPayment:
        params: dict[str, object] = {
            "amount": request.amount,
            "currency": request.currency,
            "customer": card.customer_id,
            "payment_method": card.payment_method_id,
            "payment_method_types": ["card"],
            "confirm": True,
            "metadata": {"order_id": request.order_id, "merchant_id": request.merchant_id},
        }
        if request.ship_to is not None:
            address = request.ship_to.address
            params["shipping"] = {
                "name": request.ship_to.name,
                "address": {
                    key: value
                    for key, value in (
                        ("line1", address.line1),
                        ("line2", address.line2),
                        ("city", address.city),
                        ("postal_code", address.postal_code),
                        ("state", address.state),
                        ("country", address.country),
                    )
                    if value
                },
            }
        with stripe_errors():
            intent = self.client.v1.payment_intents.create(
                # A cast: the API accepts payment_method_types, which stripe-python's
                # PaymentIntentCreateParams no longer lists.
                params=cast("PaymentIntentCreateParams", params),
                options={"idempotency_key": f"buybutton-oneclick-{request.order_id}"},
            ).to_dict()
        status = intent.get("status")
        if status == "requires_action":
            # Authentication needs Stripe's own page: drop this attempt so it can never be
            # completed later, and let the caller send the shopper to the hosted checkout.
            try:
                with stripe_errors():
                    self.client.v1.payment_intents.cancel(intent["id"])
            except ProviderError:
                log.warning(
                    "could not cancel payment intent %s; it stays unconfirmed", intent["id"]
                )
        elif status not in ("succeeded", "processing"):
            raise PaymentDeclined(
                "Your saved card could not be charged. Please use another card.",
                code=ErrorCode.PAYMENT_NOT_COMPLETED,
                param="payment_method",
            )
        return SavedCardPayment(
            id=intent["id"],
            status=status,
            amount=intent.get("amount_received") or intent["amount"],
            currency=intent["currency"],
        )

    def saved_recipient(self, customer_id: str) -> Recipient | None:
        """The customer's ``shipping`` (Checkout keeps it there for goods that ship)."""
        with stripe_errors():
            try:
                customer = self.client.v1.customers.retrieve(customer_id).to_dict()
            except stripe.InvalidRequestError as exc:
                if exc.http_status == 404:
                    return None
                raise
        found = session_shipping({"shipping_details": customer.get("shipping")})
        return Recipient(name=found.name, address=found.address) if found else None

    def saved_customer(self, customer_id: str) -> Customer | None:
        """The customer's ``email``, ``name`` and ``phone`` (Checkout keeps what it collected)."""
        with stripe_errors():
            try:
                customer = self.client.v1.customers.retrieve(customer_id).to_dict()
            except stripe.InvalidRequestError as exc:
                if exc.http_status == 404:
                    return None
                raise
        found = Customer(
            email=customer.get("email") or None,
            name=customer.get("name") or None,
            phone=customer.get("phone") or None,
        )
        return found if found.email or found.name or found.phone else None

    def forget_card(self, card: SavedCard) -> None:
        with stripe_errors():
            try:
                self.client.v1.payment_methods.detach(card.payment_method_id)
            except stripe.InvalidRequestError as exc:
                if exc.http_status != 404:  # already gone is what the shopper wanted
                    raise

    # -- webhooks ------------------------------------------------------------------------------

    def parse_webhook(self, payload: bytes, headers: RequestHeaders) -> ProviderEvent | None:
        """Verify a Stripe webhook (signature and a 300 s tolerance) and translate it.

        Raises :class:`InvalidRequest` (``invalid_signature``) for a missing, wrong or stale
        signature or an unreadable body; returns ``None`` for event types we do not act on.
        """
        if not self._webhook_secret:
            raise ProviderUnavailable(
                "STRIPE_WEBHOOK_SECRET is not set: webhooks cannot be verified.",
                code=ErrorCode.WEBHOOK_NOT_CONFIGURED,
            )
        signature = next((v for k, v in headers.items() if k.lower() == "stripe-signature"), None)
        try:
            event = stripe.Webhook.construct_event(
                payload, signature, self._webhook_secret, tolerance=self._tolerance
            )
        except stripe.SignatureVerificationError as exc:
            raise InvalidRequest(
                f"Webhook signature check failed: {exc.user_message}",
                code=ErrorCode.INVALID_SIGNATURE,
                param="Stripe-Signature",
            ) from exc
        except ValueError as exc:
            raise InvalidRequest(
                "The webhook body is not a Stripe event.", code=ErrorCode.INVALID_PAYLOAD
            ) from exc
        return event_to_provider_event(event.to_dict())


def event_to_provider_event(event: Mapping[str, Any]) -> ProviderEvent | None:
    """What a (verified) Stripe event means for an order, or ``None`` when it means nothing."""
    kind_by_type = {
        "checkout.session.completed": "paid",
        "checkout.session.async_payment_succeeded": "paid",
        "checkout.session.async_payment_failed": "payment_failed",
        "checkout.session.expired": "expired",
        "payment_intent.succeeded": "paid",
        "payment_intent.payment_failed": "payment_failed",
        "charge.refunded": "refunded",
    }
    type_ = event.get("type")
    if type_ not in kind_by_type:
        return None
    obj = (event.get("data") or {}).get("object") or {}
    kind = kind_by_type[type_]
    common = {"id": event["id"], "kind": kind, "type": type_, "order_id": _order_id(obj)}
    if type_.startswith("checkout.session."):
        if type_ == "checkout.session.completed" and obj.get("payment_status") != "paid":
            return None  # a delayed payment method: wait for async_payment_succeeded/failed
        return ProviderEvent(
            **common,
            session_id=obj.get("id"),
            amount=obj.get("amount_total"),
            currency=obj.get("currency"),
            payment_id=_id(obj.get("payment_intent")),
            amount_discount=_discount(obj),
            customer=session_customer(obj),
            shipping=session_shipping(obj),
        )
    if (
        type_ == "payment_intent.succeeded"
        and (obj.get("metadata") or {}).get("buybutton_flow") == "checkout"
    ):
        # A Checkout Session's payment: its session events report it, promotion code included;
        # on its own this event would look short-paid whenever a code was used.
        return None
    if type_.startswith("payment_intent."):
        return ProviderEvent(
            **common,
            amount=obj.get("amount_received") if kind == "paid" else None,
            currency=obj.get("currency"),
            payment_id=obj.get("id"),
        )
    # charge.refunded also reports partial refunds; only a full refund refunds the order.
    if not obj.get("refunded"):
        return None
    return ProviderEvent(**common, payment_id=_id(obj.get("payment_intent")))


__all__ = ["StripeProvider", "ProviderUnavailable", "event_to_provider_event", "stripe_errors"]
