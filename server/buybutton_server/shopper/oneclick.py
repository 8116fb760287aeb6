"""The two one-click routes: pay with the saved card, forget it (see :mod:`.saved_cards`)."""

from __future__ import annotations

from flask import redirect, request, url_for
from flask.typing import ResponseReturnValue

from buybutton.checkout import one_click_checkout
from buybutton.errors import PaymentDeclined
from buybutton.social import clean_ref

from ..links import absolute_url
from ..runtime import runtime
from ..validation import form_quantity
from .blueprint import bp
from .buy import render_buy_page
from .checkout import checkout_locale, order_status_url, return_urls, shopper_client
from .csrf import protect_shopper_post
from .saved_cards import (
    COOKIE_NAME,
    HINT_COOKIE_NAME,
    saved_card_provider,
    shopper_customer,
    shopper_recipient,
    shopper_saved_card,
    verify_confirmation,
)


@bp.post("/buy/<token>/one-click")
def pay_with_saved_card(token: str) -> ResponseReturnValue:
    """Charge the saved card; paid → the order page, authentication needed → hosted checkout.
    Only a same-origin POST with this browser's form token and a confirmation of exactly this
    product, quantity and total charges anything."""
    protect_shopper_post()
    rt, customer = runtime(), shopper_customer()
    quantity = form_quantity()
    ref = clean_ref(request.form.get("ref"))
    if customer is None:
        return redirect(
            url_for("shopper.buy_page", token=token, quantity=quantity, ref=ref), code=303
        )
    ship_to = shopper_recipient(customer) if "ship_to" in request.form else None
    verify_confirmation(token, quantity, request.form.get("checkout_key") or None, ship_to)
    try:
        order = one_click_checkout(
            rt.store,
            rt.signer,
            rt.provider,
            token,
            quantity,
            customer,
            return_urls=return_urls,
            ttl_seconds=rt.settings.checkout_ttl_seconds,
            checkout_key=request.form.get("checkout_key") or None,
            ref=ref,
            client=shopper_client(),
            max_held_units=rt.settings.max_held_units_per_client,
            checkout_id=request.form.get("checkout_id") or None,
            locale=checkout_locale(request.form.get("locale")),
            ship_to=ship_to,
            shipping_rate=request.form.get("shipping_rate"),
        )
    except PaymentDeclined as exc:
        assert isinstance(quantity, int)  # one_click_checkout validated it before charging
        return render_buy_page(
            token, quantity, error=exc, checkout_key=request.form.get("checkout_key"), ref=ref
        )
    if order.status == "pending" and order.checkout_url:
        return redirect(absolute_url(order.checkout_url), code=303)
    return redirect(order_status_url(order.id, checkout="success"), code=303)


@bp.post("/buy/<token>/forget-card")
def forget_card(token: str) -> ResponseReturnValue:
    """Detach the saved card and clear the cookies; back to the buy page."""
    protect_shopper_post()
    card, provider = shopper_saved_card(), saved_card_provider()
    if card is not None and provider is not None:  # a saved card implies its provider
        provider.forget_card(card)
    response = redirect(url_for("shopper.buy_page", token=token), code=303)
    response.delete_cookie(COOKIE_NAME, path="/", httponly=True, samesite="Strict")
    response.delete_cookie(HINT_COOKIE_NAME, path="/", httponly=True, samesite="Lax")
    return response
