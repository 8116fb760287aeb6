"""The hosted buy page: the offer, its checkout form and, with a saved card, its one-click form."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from buybutton import merchants, orders
from buybutton.checkout import CHECKOUT_ID
from buybutton.errors import BuyButtonError, ErrorCode, InvalidRequest
from buybutton.inapp import in_app_browser
from buybutton.money import Money
from buybutton.offers import Offer
from buybutton.social import clean_ref

from ..links import absolute_url
from ..offers import request_offer
from ..security import csp_with_inline_stylesheet, inline_stylesheet
from ..validation import form_quantity, query_int
from .blueprint import bp
from .buyer_form import rate_choices
from .checkout import checkout_order
from .csrf import own_origin, protect_shopper_post
from .i18n import page_text
from .saved_cards import (
    display_customer,
    one_click_confirmation,
    one_click_key,
    remember_consent,
    saved_card_provider,
    shopper_recipient,
    shopper_saved_card,
)


@bp.get("/favicon.ico")
def favicon() -> ResponseReturnValue:
    return redirect(url_for("static", filename="favicon.svg"), code=301)


def widget_links(offer: Offer) -> tuple[str | None, str | None]:
    """The ``?origin=`` (the opener page to tell once paid) and ``?return=`` (the page to link
    back to) of a buy page, each kept only if its origin is one the offer's merchant registered
    (``allowed_origins``) or this server's own; otherwise dropped, quietly."""
    trusted = {own_origin(), *offer.merchant_origins}
    origin, back = request.args.get("origin"), request.args.get("return")
    origin = origin if merchants.origin_of(origin) == origin and origin in trusted else None
    back = back if back and merchants.origin_of(back) in trusted and len(back) <= 2048 else None
    return origin, back


def widget_checkout_id() -> str | None:
    """The ``?checkout_id=`` a ``<buy-button>`` gave its click, which the page's forms carry to
    the order so that the button can learn the outcome; dropped, quietly, unless well formed."""
    checkout_id = request.args.get("checkout_id") or request.form.get("checkout_id")
    return checkout_id if checkout_id and CHECKOUT_ID.fullmatch(checkout_id) else None


def render_buy_page(
    token: str,
    quantity: int,
    *,
    error: BuyButtonError | None = None,
    checkout_key: str | None = None,
    ref: str | None = None,
    check_quantity: bool = False,
) -> tuple[str, int] | tuple[str, int, dict[str, str]]:
    """The buy page; with a saved card, its one-click form. ``error`` (a declined one click) is
    shown with its status, and ``checkout_key`` lets "another card" resume the same order.
    ``check_quantity``: refuse a quantity over the product's ``max_per_order`` (400)."""
    try:
        offer = request_offer(token)
    except BuyButtonError as exc:
        return render_template("unavailable.html", error=exc), exc.status
    max_per_order = offer.product.max_per_order
    if check_quantity and quantity > max_per_order:
        raise InvalidRequest(
            f"quantity must be at most {max_per_order} for this product.",
            code=ErrorCode.QUANTITY_OVER_MAX,
            param="quantity",
        )
    total = offer.price * quantity
    # Shown from the Lax hint too (a popup opened by the merchant's page carries no Strict
    # cookie); the charge itself needs the Strict cookie and this signed confirmation.
    saved_card = shopper_saved_card(for_display=True) if offer.available else None
    shipping = offer.product.shipping
    ship_to = None
    if saved_card and shipping is not None:
        # One click ships to the saved address, shown for the shopper to confirm; without one
        # (or one the shop does not ship to) the hosted page asks for an address instead.
        ship_to = shopper_recipient(display_customer())
        if ship_to is None or ship_to.address.country not in shipping.countries:
            saved_card, ship_to = None, None
    key = one_click_key()
    confirmation = (
        one_click_confirmation(token, quantity, total.amount, total.currency, key, ship_to)
        if saved_card
        else None
    )
    cheapest = min((rate.amount for rate in shipping.rates), default=0) if shipping else None
    text = page_text(offer.locale)
    stock = offer.product.stock
    most = max_per_order if stock is None else max(1, min(max_per_order, stock))
    opener_origin, return_url = widget_links(offer)
    checkout_id = widget_checkout_id()
    # The stepper is a GET form back to this page: it keeps the link's other parameters, each
    # only as this page accepted it (an invalid ref or an unregistered origin stays dropped).
    stepper_values = {
        "locale": offer.locale if request.args.get("locale") else None,
        "ref": ref,
        "origin": opener_origin,
        "return": return_url,
        "checkout_id": checkout_id,
    }
    kept = {name: value for name, value in stepper_values.items() if value}
    css, _ = inline_stylesheet()
    page = render_template(
        "shopper/buy.html",
        offer=offer,
        inline_css=css,
        most=most,
        stepper_kept=kept,
        lang=text.language,
        _=text.gettext,
        ngettext=text.ngettext,
        in_app=in_app_browser(request.user_agent.string),
        token=token,
        quantity=quantity,
        total=total.format(offer.locale),
        shipping_from=(
            Money(cheapest, offer.price.currency).format(offer.locale) if cheapest else None
        ),
        ships=shipping is not None,
        ship_to=ship_to,
        rates=rate_choices(offer.product, total, offer.locale, "en") if ship_to else (),
        opener_origin=opener_origin,
        return_url=return_url,
        checkout_id=checkout_id,
        saved_card=saved_card,
        offer_save_card=saved_card_provider() is not None,
        one_click_key=key,
        confirmation=confirmation,
        error=error,
        checkout_key=checkout_key,
        ref=ref,
    )
    # The styles are in the page (first paint waits for no stylesheet): allowed by their hash.
    return (
        page,
        error.status if error else 200,
        {"Content-Security-Policy": csp_with_inline_stylesheet()},
    )


@bp.get("/buy/<token>")
def buy_page(token: str) -> ResponseReturnValue:
    """Show the offer. A GET never creates an order (link unfurlers and prefetchers follow
    links): the page's script, or its no-script form, POSTs to start the checkout."""
    quantity = query_int("quantity", 1, minimum=1, maximum=orders.MAX_QUANTITY)
    return render_buy_page(
        token, quantity, ref=clean_ref(request.args.get("ref")), check_quantity=True
    )


@bp.post("/buy/<token>")
def buy_without_script(token: str) -> ResponseReturnValue:
    """The no-JavaScript path: start the checkout and go to the payment page."""
    protect_shopper_post()
    save_card = request.form.get("save_card") == "1"
    order = checkout_order(
        token,
        form_quantity(),
        request.form.get("checkout_key") or None,
        save_card=save_card,
        ref=request.form.get("ref") or None,
        checkout_id=request.form.get("checkout_id") or None,
        locale=request.form.get("locale"),
    )
    assert order.checkout_url is not None  # checkout_order returns an order with its session
    response = redirect(absolute_url(order.checkout_url), code=303)
    if save_card:
        remember_consent(response, order.id)
    return response
