"""Public JSON: the product card for widgets, checkout for the buy page, health for operators."""

from __future__ import annotations

import logging
import time

from flask import Blueprint, make_response, request

from buybutton import catalog
from buybutton.checkout import client_key, start_checkout
from buybutton.errors import InvalidRequest, ServiceUnavailable
from buybutton.money import resolve_locale
from buybutton.store import diagnose

from .runtime import absolute_url, public_url, runtime
from .validation import json_body

bp = Blueprint("public", __name__)
log = logging.getLogger("buybutton")


def order_status_url(order_id: str, **query: str) -> str:
    suffix = "?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else ""
    return public_url(f"/orders/{runtime().signer.sign_order_ref(order_id)}{suffix}")


def return_urls(order) -> tuple[str, str]:
    """Where the provider's payment page sends the shopper back: success, then cancel."""
    return (order_status_url(order.id, checkout="success"),
            order_status_url(order.id, checkout="canceled"))


def shopper_locale() -> str:
    """``?locale=`` if given, else the browser's preferred language."""
    return resolve_locale(request.args.get("locale") or request.accept_languages.best, "en")


def product_card(token: str, locale: str) -> dict:
    """What a widget or a share page shows for ``token``; raises the token errors."""
    rt = runtime()
    claims = rt.signer.verify_token(token)
    with rt.store.read() as conn:
        product = catalog.resolve_token(conn, claims)
    price = catalog.Money(claims.amount, claims.currency)
    return {
        "object": "embed",
        "token": token,
        "product": {"id": product.id, "name": product.name, "description": product.description,
                    "image_url": absolute_url(product.image_url)},
        "amount": claims.amount,
        "currency": claims.currency,
        "price_formatted": price.format(locale),
        "locale": locale,
        "available": product.available,
        "sold_out": product.stock == 0,
        "stock": product.stock,
        "max_per_order": product.max_per_order,
        "ref": claims.ref,
        "buy_url": public_url(f"/buy/{token}"),
    }


@bp.get("/v1/embed/<token>")
def embed(token: str):
    card = product_card(token, shopper_locale())
    return card, 200, {"Access-Control-Allow-Origin": "*",
                       "Cache-Control": "public, max-age=30", "Vary": "Accept-Language"}


@bp.after_request
def _cors_errors(response):
    # Widgets on any site read the embed answer, errors included (to show a quiet state).
    if request.path.startswith("/v1/embed/"):
        response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def shopper_client() -> str | None:
    """The shopper's client key: their address as we see it (after the trusted proxies), hashed."""
    return client_key(runtime().settings.secret_keys[-1], request.remote_addr)


def checkout_order(token: object, quantity: object, checkout_key: str | None,
                   save_card: bool = False, ref: object = None):
    """Start (or resume) the checkout of ``token`` for the shopper's browser. ``save_card``: the
    shopper agreed to keep the card for one-click purchases (providers that can, only);
    ``ref``, from a share link's ``?ref=``, credits the order to that referral tag."""
    from .oneclick import saved_card_provider, shopper_customer

    rt = runtime()
    options = None
    if saved_card_provider() is not None:
        # A returning shopper's card goes to the same customer, consent or not this time.
        options = {"save_card": save_card, "customer": shopper_customer()}
    return start_checkout(
        rt.store, rt.signer, rt.provider, token, quantity,
        return_urls=return_urls,
        ttl_seconds=rt.settings.checkout_ttl_seconds, checkout_key=checkout_key,
        provider_options=options, ref=ref, client=shopper_client(),
        max_held_units=rt.settings.max_held_units_per_client)


@bp.post("/v1/checkout")
def checkout():
    from .csrf import check_csrf_token, check_request_origin
    from .oneclick import COOKIE_NAME

    check_request_origin()
    body = json_body()
    save_card = body.get("save_card", False)
    if not isinstance(save_card, bool):
        raise InvalidRequest("save_card must be true or false.", param="save_card")
    if save_card or COOKIE_NAME in request.cookies:
        # Cookies change what happens (the saved-card customer, the consent cookie): only the
        # buy page's own script, with this browser's form token, may rely on them.
        check_csrf_token()
    order = checkout_order(body.get("token"), body.get("quantity", 1),
                           request.headers.get("Idempotency-Key"), save_card=save_card,
                           ref=body.get("ref"))
    response = make_response({"object": "checkout", "order_id": order.id, "status": order.status,
                              "checkout_url": absolute_url(order.checkout_url),
                              "status_url": order_status_url(order.id)}, 201)
    if save_card:
        from .oneclick import remember_consent

        remember_consent(response, order.id)
    return response


@bp.get("/healthz")
def healthz():
    """Ready when the database takes a write (one small row): a read-only, full or unreachable
    database answers 503 with ``database`` saying which (see :class:`DatabaseProblem`)."""
    rt = runtime()
    try:
        rt.store.check_writable(int(time.time()))
    except Exception as exc:  # any database failure means not ready
        problem = diagnose(exc)
        log.warning("healthz: %s", problem.describe(rt.store.url) if problem else repr(exc))
        return ({"status": "unavailable", "database": problem.reason if problem else "error"},
                503, {"Retry-After": str(ServiceUnavailable.retry_after)})
    return {"status": "ok", "database": "ok", "payment_provider": rt.provider.name}
