"""Checkout: ``POST /v1/checkout`` (the buy page's script) and what every way of starting one
shares (the return URLs, the shopper's client key)."""

from __future__ import annotations

from flask import make_response, request
from flask.typing import ResponseReturnValue

from buybutton.checkout import (
    checkout_outcome,
    client_key,
    start_checkout,
    validate_checkout_id,
)
from buybutton.errors import InvalidRequest
from buybutton.money import resolve_locale
from buybutton.orders import Order

from ..errors import answers_json
from ..links import absolute_url, request_links
from ..offers import shopper_locale
from ..runtime import runtime
from ..validation import json_body
from .blueprint import bp
from .csrf import check_csrf_token, check_request_origin
from .saved_cards import COOKIE_NAME, remember_consent, saved_card_provider, shopper_customer


def order_status_url(order_id: str, **query: str) -> str:
    """The order's status page (its reference signed, so the link is the only way to it)."""
    return request_links().order_url(runtime().signer.sign_order_ref(order_id), **query)


def return_urls(order: Order) -> tuple[str, str]:
    """Where the provider's payment page sends the shopper back: success, then cancel."""
    return (
        order_status_url(order.id, checkout="success"),
        order_status_url(order.id, checkout="canceled"),
    )


def shopper_client() -> str | None:
    """The shopper's client key: their address as we see it (after the trusted proxies), hashed."""
    return client_key(runtime().settings.secret_keys[-1], request.remote_addr)


def checkout_locale(value: object) -> str:
    """The shopper's language for a checkout: the ``locale`` the buy page was shown in (the
    widget's ``lang``, or ``?locale=``) when it posts one Babel knows, else the browser's
    preferred language. Kept on the order: the shopper's mail is written in it."""
    if isinstance(value, str) and len(value) <= 35:
        return resolve_locale(value, shopper_locale())
    return shopper_locale()


def checkout_order(
    token: object,
    quantity: object,
    checkout_key: str | None,
    save_card: bool = False,
    ref: object = None,
    locale: object = None,
    checkout_id: str | None = None,
) -> Order:
    """Start (or resume) the checkout of ``token`` for the shopper's browser. ``save_card``: the
    shopper agreed to keep the card for one-click purchases (providers that can, only);
    ``ref``, from a share link's ``?ref=``, credits the order to that referral tag; ``locale``:
    see :func:`checkout_locale`; ``checkout_id``, the widget's id of the click, lets that button
    learn the outcome."""
    rt = runtime()
    options = None
    if saved_card_provider() is not None:
        # A returning shopper's card goes to the same customer, consent or not this time.
        options = {"save_card": save_card, "customer": shopper_customer()}
    return start_checkout(
        rt.store,
        rt.signer,
        rt.provider,
        token,
        quantity,
        return_urls=return_urls,
        ttl_seconds=rt.settings.checkout_ttl_seconds,
        checkout_key=checkout_key,
        provider_options=options,
        ref=ref,
        client=shopper_client(),
        max_held_units=rt.settings.max_held_units_per_client,
        checkout_id=checkout_id,
        locale=checkout_locale(locale),
    )


@bp.post("/v1/checkout")
@answers_json
def checkout() -> ResponseReturnValue:
    check_request_origin()
    body = json_body()
    save_card = body.get("save_card", False)
    if not isinstance(save_card, bool):
        raise InvalidRequest("save_card must be true or false.", param="save_card")
    if save_card or COOKIE_NAME in request.cookies:
        # Cookies change what happens (the saved-card customer, the consent cookie): only the
        # buy page's own script, with this browser's form token, may rely on them.
        check_csrf_token()
    order = checkout_order(
        body.get("token"),
        body.get("quantity", 1),
        request.headers.get("Idempotency-Key"),
        save_card=save_card,
        ref=body.get("ref"),
        checkout_id=body.get("checkout_id"),
        locale=body.get("locale"),
    )
    response = make_response(
        {
            "object": "checkout",
            "order_id": order.id,
            "status": order.status,
            "checkout_url": absolute_url(order.checkout_url),
            "status_url": order_status_url(order.id),
        },
        201,
    )
    if save_card:
        remember_consent(response, order.id)
    return response


@bp.get("/v1/checkouts/<checkout_id>")
@answers_json
def checkout_outcome_of(checkout_id: str) -> ResponseReturnValue:
    """How the checkout a widget's click opened stands: pending, paid, canceled or expired, and
    nothing else (no amount, no order, nothing of the shopper). Any page may ask (CORS open,
    no cookies); never cached, since the answer changes while the shopper pays."""
    rt = runtime()
    status = checkout_outcome(rt.store, validate_checkout_id(checkout_id), now=rt.clock())
    return (
        {"object": "checkout_outcome", "status": status},
        200,
        {"Access-Control-Allow-Origin": "*", "Cache-Control": "no-store"},
    )
