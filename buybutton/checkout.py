"""From a clicked token to a hosted payment page: the one core step behind ``POST /v1/checkout``."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import ipaddress
import logging
import re
import time
from collections.abc import Callable, Mapping

from sqlalchemy.exc import IntegrityError

from . import catalog, orders
from .buyers import Recipient, ship_with
from .errors import Conflict, ErrorCode, InvalidRequest, PaymentDeclined, ProviderError
from .idempotency import validate_idempotency_key
from .orders import Order
from .payments.base import (
    CheckoutRequest,
    LocalSessionProvider,
    PaymentProvider,
    ProviderEvent,
    SavedCardProvider,
)
from .social import validate_ref
from .store import Store
from .tokens import TokenClaims, TokenSigner

log = logging.getLogger("buybutton")

#: Builds the (success_url, cancel_url) the provider sends the shopper back to, for an order.
ReturnUrls = Callable[[Order], tuple[str, str]]

#: The widget's checkout id: 16 random bytes (crypto.getRandomValues) in lowercase hex.
CHECKOUT_ID = re.compile(r"[0-9a-f]{32}")

#: What GET /v1/checkouts/<id> may say of a click: the order's state in four words, no more.
CHECKOUT_OUTCOMES = ("pending", "paid", "canceled", "expired")


def validate_checkout_id(checkout_id: object, *, param: str = "checkout_id") -> str:
    """``checkout_id`` if it is a widget checkout id (32 lowercase hex digits), else
    :class:`InvalidRequest` naming ``param``. The id is random: it says nothing of the shopper."""
    if not isinstance(checkout_id, str) or not CHECKOUT_ID.fullmatch(checkout_id):
        raise InvalidRequest(
            f"{param} must be 32 lowercase hexadecimal digits (the widget's checkout id).",
            param=param,
        )
    return checkout_id


def checkout_outcome(store: Store, checkout_id: str, *, now: float | None = None) -> str:
    """How the checkout started by the widget's click ``checkout_id`` stands, one of
    :data:`CHECKOUT_OUTCOMES`. ``pending`` until an order of that click is paid, canceled or
    expired, including while none exists yet (the buy page has not started it) and for an id
    never seen: an unknown id and a fresh one look alike. A refunded order was ``paid``."""
    with store.read() as conn:
        status = orders.checkout_status(conn, checkout_id, now=now)
    if status == "refunded":
        return "paid"
    return status if status in CHECKOUT_OUTCOMES else "pending"


def client_key(secret: str, address: str | None) -> str | None:
    """Who is checking out, for the cap on units held per client: a keyed hash of the shopper's
    network address (kept on the order instead of the address itself). An IPv6 address counts
    as its /64, which one subscriber gets whole and can hop around in at will."""
    if not address:
        return None
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        network = address  # not an IP (a unix socket, a test client): use it as it is
    else:
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        network = str(ipaddress.ip_network(f"{ip}/64", strict=False) if ip.version == 6 else ip)
    return hmac.new(
        secret.encode(), b"buybutton.client-address\n" + network.encode(), hashlib.sha256
    ).hexdigest()[:32]


def start_checkout(
    store: Store,
    signer: TokenSigner,
    provider: PaymentProvider,
    token: object,
    quantity: object,
    *,
    return_urls: ReturnUrls,
    ttl_seconds: int,
    checkout_key: str | None = None,
    provider_options: Mapping[str, object] | None = None,
    ref: object = None,
    client: str | None = None,
    max_held_units: int = 0,
    checkout_id: str | None = None,
    locale: str | None = None,
    now: float | None = None,
) -> Order:
    """Create a pending order for ``token`` and open its payment session.

    ``checkout_key`` makes the call idempotent for the shopper's browser: the same key returns
    the same order, and retries opening its session if a provider failure interrupted the first
    attempt (the provider's own idempotency key, derived from the order, prevents a second one).
    It follows the ``Idempotency-Key`` rule (:func:`buybutton.idempotency.validate_idempotency_key`).
    ``ref`` (a referral tag from a share link, 1–64 printable characters) replaces the token's
    own ref on this order, so sales are credited to whoever shared the link. ``client`` (a
    :func:`client_key`) may hold at most ``max_held_units`` units in pending orders (0: no cap).
    ``locale`` (the shopper's language, ``"fr"``) is kept on the order: their mail is written in it.
    Raises the token errors, what :func:`buybutton.orders.create_order` raises, :class:`~buybutton.errors.SoldOut`, and
    :class:`~buybutton.errors.ProviderError` (the order then stays pending, retryable).
    ``checkout_id``, the widget's id of the click (:func:`validate_checkout_id`), goes on a new
    order so that :func:`checkout_outcome` can tell that button how the checkout ended.
    With a provider whose sessions live in this database (the sandbox), the whole checkout is
    one write transaction; with a remote one (Stripe), the order is committed before the call
    and the session attached after it, so no transaction waits on the network.
    """
    if checkout_id is not None:
        validate_checkout_id(checkout_id)
    if isinstance(provider, LocalSessionProvider):
        try:
            return _checkout_in_one_transaction(
                store,
                signer,
                provider,
                token,
                quantity,
                return_urls=return_urls,
                ttl_seconds=ttl_seconds,
                checkout_key=checkout_key,
                provider_options=provider_options,
                ref=ref,
                client=client,
                max_held_units=max_held_units,
                locale=locale,
                checkout_id=checkout_id,
                now=now,
            )
        except IntegrityError:  # the same checkout key raced us: resume the order that won
            if checkout_key is None:
                raise
    order = _find_or_create_order(
        store,
        signer,
        provider,
        token,
        quantity,
        ttl_seconds=ttl_seconds,
        checkout_key=checkout_key,
        ref=ref,
        client=client,
        max_held_units=max_held_units,
        checkout_id=checkout_id,
        locale=locale,
        now=now,
    )
    stamp = int(now if now is not None else time.time())
    if order.provider_session_id or order.status != "pending":
        return order
    return _open_session(store, provider, order, return_urls, provider_options, stamp)


def _checkout_in_one_transaction(
    store: Store,
    signer: TokenSigner,
    provider: LocalSessionProvider,
    token: object,
    quantity: object,
    *,
    return_urls: ReturnUrls,
    ttl_seconds: int,
    checkout_key: str | None,
    provider_options: Mapping[str, object] | None,
    ref: object,
    client: str | None,
    max_held_units: int,
    locale: str | None,
    checkout_id: str | None,
    now: float | None,
) -> Order:
    claims, key = _claims_and_key(signer, token, checkout_key, ref)
    stamp = int(now if now is not None else time.time())
    with store.transaction() as conn:
        order = orders.find_by_checkout_key(conn, key) if key is not None else None
        if order is None:
            order = orders.create_order(
                conn,
                claims,
                quantity,
                provider=provider.name,
                ttl_seconds=ttl_seconds,
                checkout_key=key,
                client_key=client,
                max_held_units=max_held_units,
                locale=locale,
                checkout_id=checkout_id,
                now=stamp,
            )
        if order.provider_session_id or order.status != "pending":
            return order
        product = catalog.get_product(conn, order.product_id, include_deleted=True)
        request = _request_for(order, product, return_urls, provider_options)
        session = provider.create_session_in(conn, request)
        return orders.attach_session(conn, order.id, session.id, session.url, now=stamp)


def _claims_and_key(
    signer: TokenSigner, token: object, checkout_key: str | None, ref: object
) -> tuple[TokenClaims, str | None]:
    """The token's claims (``ref``, from a share link, replacing the token's own) and the
    shopper's checkout key scoped to the token, so a key only ever finds the order it made for
    this offer."""
    if checkout_key is not None:
        validate_idempotency_key(checkout_key)
    claims = signer.verify_token(token)
    if ref is not None:
        claims = dataclasses.replace(claims, ref=validate_ref(ref))
    if checkout_key is not None:
        checkout_key = hashlib.sha256(f"{checkout_key}\n{token}".encode()).hexdigest()
    return claims, checkout_key


def _find_or_create_order(
    store: Store,
    signer: TokenSigner,
    provider: PaymentProvider,
    token: object,
    quantity: object,
    *,
    ttl_seconds: int,
    checkout_key: str | None,
    ref: object = None,
    client: str | None = None,
    max_held_units: int = 0,
    checkout_id: str | None = None,
    locale: str | None = None,
    now: float | None,
) -> Order:
    claims, checkout_key = _claims_and_key(signer, token, checkout_key, ref)
    stamp = int(now if now is not None else time.time())
    order = None
    if checkout_key is not None:
        with store.read() as conn:
            order = orders.find_by_checkout_key(conn, checkout_key)
    if order is None:
        # Lapsed checkouts give their stock back off the request path (buybutton.expiry).
        try:
            with store.transaction() as conn:
                order = orders.create_order(
                    conn,
                    claims,
                    quantity,
                    provider=provider.name,
                    ttl_seconds=ttl_seconds,
                    checkout_key=checkout_key,
                    client_key=client,
                    max_held_units=max_held_units,
                    checkout_id=checkout_id,
                    locale=locale,
                    now=stamp,
                )
        except IntegrityError:  # the same key raced us: use the order that won
            if checkout_key is None:
                raise
            with store.read() as conn:
                order = orders.find_by_checkout_key(conn, checkout_key)
            if order is None:
                raise
    return order


def _checkout_request(
    store: Store,
    order: Order,
    return_urls: ReturnUrls,
    provider_options: Mapping[str, object] | None,
) -> CheckoutRequest:
    with store.read() as conn:
        product = catalog.get_product(conn, order.product_id, include_deleted=True)
    return _request_for(order, product, return_urls, provider_options)


def _request_for(
    order: Order,
    product: catalog.Product,
    return_urls: ReturnUrls,
    provider_options: Mapping[str, object] | None,
) -> CheckoutRequest:
    success_url, cancel_url = return_urls(order)
    return CheckoutRequest(
        order_id=order.id,
        merchant_id=order.merchant_id,
        product_id=product.id,
        product_name=product.name,
        product_image_url=product.image_url,
        unit_amount=order.unit_amount,
        quantity=order.quantity,
        currency=order.currency,
        success_url=success_url,
        cancel_url=cancel_url,
        expires_at=order.expires_at,
        allow_promotion_codes=product.allow_promotion_codes,
        created_at=order.created_at,
        options=provider_options,
        shipping=product.shipping,
    )


def _open_session(
    store: Store,
    provider: PaymentProvider,
    order: Order,
    return_urls: ReturnUrls,
    provider_options: Mapping[str, object] | None,
    stamp: int,
) -> Order:
    session = provider.create_session(
        _checkout_request(store, order, return_urls, provider_options)
    )
    with store.transaction() as conn:
        return orders.attach_session(conn, order.id, session.id, session.url, now=stamp)


def one_click_checkout(
    store: Store,
    signer: TokenSigner,
    provider: PaymentProvider,
    token: object,
    quantity: object,
    customer_id: str,
    *,
    return_urls: ReturnUrls,
    ttl_seconds: int,
    checkout_key: str | None = None,
    ref: object = None,
    client: str | None = None,
    max_held_units: int = 0,
    checkout_id: str | None = None,
    locale: str | None = None,
    ship_to: Recipient | None = None,
    shipping_rate: object = None,
    now: float | None = None,
) -> Order:
    """Pay for ``token`` with the returning shopper's saved card, in one click.

    For goods that ship, ``ship_to`` (the address the shopper confirmed, kept with their
    provider customer) and ``shipping_rate`` (one of the product's rate ids; its price is the
    product's) are charged with the goods and recorded on the order before the charge. Without
    ``ship_to`` such goods go to the hosted payment page, which asks for an address.

    Creates (or, for the same ``checkout_key``, resumes) a pending order and charges the card of
    ``customer_id``. On success the order is paid at once (the provider's webhook later confirms
    it, a no-op). When the bank asks for authentication, or no card is saved any more, a hosted
    payment session is opened for the same order instead: the returned order is still pending and
    its ``checkout_url`` is where the shopper goes. Raises what :func:`start_checkout` raises, and
    :class:`~buybutton.errors.PaymentDeclined` (the order stays pending, flagged
    ``payment_failed``, and can still be paid on the hosted page). ``checkout_id``: as for
    :func:`start_checkout`.
    """
    if checkout_id is not None:
        validate_checkout_id(checkout_id)
    if not isinstance(provider, SavedCardProvider):
        raise Conflict(
            "This shop's payment provider cannot charge saved cards.",
            code=ErrorCode.ONE_CLICK_UNAVAILABLE,
        )
    order = _find_or_create_order(
        store,
        signer,
        provider,
        token,
        quantity,
        ttl_seconds=ttl_seconds,
        checkout_key=checkout_key,
        ref=ref,
        client=client,
        max_held_units=max_held_units,
        checkout_id=checkout_id,
        locale=locale,
        now=now,
    )
    stamp = int(now if now is not None else time.time())
    if order.provider_session_id or order.status != "pending":
        return order  # a resubmitted click: this order was charged or sent to checkout already
    options = {"customer": customer_id}
    with store.read() as conn:
        product = catalog.get_product(conn, order.product_id, include_deleted=True)
    shipping = ship_with(product, ship_to, shipping_rate) if product.ships and ship_to else None
    card = provider.saved_card(customer_id)
    if card is None or (product.ships and shipping is None):
        return _open_session(store, provider, order, return_urls, options, stamp)
    if shipping is not None:
        with store.transaction() as conn:  # known before the charge, so any webhook agrees
            orders.record_shipping(conn, order.id, shipping, now=stamp)
    request = dataclasses.replace(
        _checkout_request(store, order, return_urls, options), ship_to=shipping
    )
    try:
        payment = provider.pay_with_saved_card(request, card)
    except PaymentDeclined:
        with store.transaction() as conn:
            orders.note_payment_failed(conn, order.id, now=stamp)
        raise
    if payment.status == "requires_action":
        return _open_session(store, provider, order, return_urls, options, stamp)
    with store.transaction() as conn:
        order = orders.attach_session(conn, order.id, payment.id, None, now=stamp)
    if payment.status == "succeeded":
        # The provider answered "succeeded" synchronously: no need to wait for its webhook.
        # No payment page asked who is buying: the provider's customer says, for the receipt.
        try:
            buyer = provider.saved_customer(customer_id)
        except ProviderError as exc:  # the charge went through: record it all the same
            log.warning("could not read customer %s: %s", customer_id, exc.message)
            buyer = None
        orders.apply_provider_event(
            store,
            provider.name,
            ProviderEvent(
                id=f"{payment.id}:succeeded",
                kind="paid",
                type="payment_intent.succeeded",
                order_id=order.id,
                amount=payment.amount,
                currency=payment.currency,
                payment_id=payment.id,
                customer=buyer,
                shipping=shipping,
            ),
            now=stamp,
        )
        with store.read() as conn:
            order = orders.get_order(conn, order.id)
    return order
