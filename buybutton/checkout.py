"""From a clicked token to a hosted payment page: the one core step behind ``POST /v1/checkout``."""

from __future__ import annotations

import dataclasses
import hashlib
import time
from typing import Callable

from sqlalchemy.exc import IntegrityError

from . import catalog, orders
from .errors import InvalidRequest
from .orders import Order
from .payments.base import CheckoutRequest, PaymentProvider
from .social import validate_ref
from .store import Store
from .tokens import TokenSigner

#: Builds the (success_url, cancel_url) the provider sends the shopper back to, for an order.
ReturnUrls = Callable[[Order], tuple[str, str]]


def start_checkout(store: Store, signer: TokenSigner, provider: PaymentProvider, token: object,
                   quantity: object, *, return_urls: ReturnUrls, ttl_seconds: int,
                   checkout_key: str | None = None, provider_options: dict | None = None,
                   ref: object = None, now: float | None = None) -> Order:
    """Create a pending order for ``token`` and open its payment session.

    ``checkout_key`` makes the call idempotent for the shopper's browser: the same key returns
    the same order, and retries opening its session if a provider failure interrupted the first
    attempt (the provider's own idempotency key, derived from the order, prevents a second one).
    ``ref`` (a referral tag from a share link, 1–64 printable characters) replaces the token's
    own ref on this order, so sales are credited to whoever shared the link.
    Raises the token errors, :class:`~buybutton.errors.SoldOut`, and
    :class:`~buybutton.errors.ProviderError` (the order then stays pending, retryable).
    """
    if checkout_key is not None and (not isinstance(checkout_key, str) or not 8 <= len(checkout_key) <= 255):
        raise InvalidRequest("The Idempotency-Key must be 8 to 255 characters.",
                             param="Idempotency-Key")
    claims = signer.verify_token(token)
    if ref is not None:
        claims = dataclasses.replace(claims, ref=validate_ref(ref))
    if checkout_key is not None:
        # Scoped to the token, so a key can only ever find the order it made for this offer.
        checkout_key = hashlib.sha256(f"{checkout_key}\n{token}".encode()).hexdigest()
    stamp = int(now if now is not None else time.time())
    order = None
    if checkout_key is not None:
        with store.read() as conn:
            order = orders.find_by_checkout_key(conn, checkout_key)
    if order is None:
        # Give back stock held by this product's lapsed checkouts before reserving more.
        orders.expire_stale_orders(store, product_id=claims.product_id, now=stamp)
        try:
            with store.transaction() as conn:
                order = orders.create_order(conn, claims, quantity, provider=provider.name,
                                            ttl_seconds=ttl_seconds, checkout_key=checkout_key,
                                            now=stamp)
        except IntegrityError:  # the same key raced us: use the order that won
            with store.read() as conn:
                order = orders.find_by_checkout_key(conn, checkout_key)
            if order is None:
                raise
    if order.provider_session_id or order.status != "pending":
        return order
    with store.read() as conn:
        product = catalog.get_product(conn, order.product_id, include_deleted=True)
    success_url, cancel_url = return_urls(order)
    session = provider.create_session(CheckoutRequest(
        order_id=order.id, merchant_id=order.merchant_id, product_id=product.id,
        product_name=product.name, product_image_url=product.image_url,
        unit_amount=order.unit_amount, quantity=order.quantity, currency=order.currency,
        success_url=success_url, cancel_url=cancel_url, expires_at=order.expires_at,
        allow_promotion_codes=product.allow_promotion_codes, options=provider_options))
    with store.transaction() as conn:
        return orders.attach_session(conn, order.id, session.id, session.url, now=stamp)
