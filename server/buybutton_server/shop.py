"""Shopper pages: the hosted buy page and the order status page."""

from __future__ import annotations

import json
import logging

from flask import Blueprint, abort, make_response, redirect, render_template, request, url_for

from buybutton import catalog, merchants, orders
from buybutton.errors import BuyButtonError, InvalidRequest
from buybutton.money import Money
from buybutton.offers import issue_offer
from buybutton.reconcile import claim_provider_read, sync_order
from buybutton.social import clean_ref

from .csrf import own_origin, protect_shopper_post
from .oneclick import (consented_order, one_click_confirmation, one_click_key, remember_consent,
                       remember_customer, saved_card_provider, shopper_saved_card)
from .public import checkout_order, product_card, shopper_locale
from .runtime import absolute_url, public_url, runtime
from .social import personal_share_link
from .validation import form_quantity, query_int
from .widget import widget_url

log = logging.getLogger("buybutton")

bp = Blueprint("shop", __name__)


@bp.get("/favicon.ico")
def favicon():
    return redirect(url_for("static", filename="favicon.svg"), code=301)


def widget_links(product_id: str) -> tuple[str | None, str | None]:
    """The ``?origin=`` (the opener page to tell once paid) and ``?return=`` (the page to link
    back to) of a buy page, each kept only if its origin is one the offer's merchant registered
    (``allowed_origins``) or this server's own; otherwise dropped, quietly."""
    with runtime().store.read() as conn:
        product = catalog.get_product(conn, product_id, include_deleted=True)
        merchant = merchants.get_merchant(conn, product.merchant_id)
    trusted = {own_origin(), *(merchant.allowed_origins if merchant else ())}
    origin, back = request.args.get("origin"), request.args.get("return")
    origin = origin if merchants.origin_of(origin) == origin and origin in trusted else None
    back = back if back and merchants.origin_of(back) in trusted and len(back) <= 2048 else None
    return origin, back


def render_buy_page(token: str, quantity: int, *, error: BuyButtonError | None = None,
                    checkout_key: str | None = None, ref: str | None = None,
                    check_quantity: bool = False):
    """The buy page; with a saved card, its one-click form. ``error`` (a declined one click) is
    shown with its status, and ``checkout_key`` lets "another card" resume the same order.
    ``check_quantity``: refuse a quantity over the product's ``max_per_order`` (400)."""
    try:
        card = product_card(token, shopper_locale())
    except BuyButtonError as exc:
        return render_template("unavailable.html", error=exc), exc.status
    if check_quantity and quantity > card["max_per_order"]:
        raise InvalidRequest(f"quantity must be at most {card['max_per_order']} for this product.",
                             code="quantity_over_max", param="quantity")
    total = Money(card["amount"], card["currency"]) * quantity
    # Shown from the Lax hint too (a popup opened by the merchant's page carries no Strict
    # cookie); the charge itself needs the Strict cookie and this signed confirmation.
    saved_card = shopper_saved_card(for_display=True) if card["available"] else None
    key = one_click_key()
    confirmation = (one_click_confirmation(token, quantity, total.amount, total.currency, key)
                    if saved_card else None)
    opener_origin, return_url = widget_links(card["product"]["id"])
    return render_template(
        "buy.html", card=card, token=token, quantity=quantity, total=total.format(card["locale"]),
        opener_origin=opener_origin, return_url=return_url, saved_card=saved_card,
        offer_save_card=saved_card_provider() is not None,
        one_click_key=key, confirmation=confirmation,
        error=error, checkout_key=checkout_key, ref=ref), error.status if error else 200


@bp.get("/buy/<token>")
def buy_page(token: str):
    """Show the offer. A GET never creates an order (link unfurlers and prefetchers follow
    links): the page's script, or its no-script form, POSTs to start the checkout."""
    quantity = query_int("quantity", 1, minimum=1, maximum=orders.MAX_QUANTITY)
    return render_buy_page(token, quantity, ref=clean_ref(request.args.get("ref")),
                           check_quantity=True)


@bp.post("/buy/<token>")
def buy_without_script(token: str):
    """The no-JavaScript path: start the checkout and go to the payment page."""
    protect_shopper_post()
    save_card = request.form.get("save_card") == "1"
    order = checkout_order(token, form_quantity(),
                           request.form.get("checkout_key") or None, save_card=save_card,
                           ref=request.form.get("ref") or None)
    response = redirect(absolute_url(order.checkout_url), code=303)
    if save_card:
        remember_consent(response, order.id)
    return response


@bp.get("/orders/<ref>")
def order_page(ref: str):
    rt = runtime()
    order_id = rt.signer.verify_order_ref(ref)
    if order_id is None:
        abort(404, "No such order.")
    with rt.store.read() as conn:
        order = orders.get_order(conn, order_id)
        product = catalog.get_product(conn, order.product_id, include_deleted=True)
    checkout, session = request.args.get("checkout"), None
    consented = consented_order() == order.id
    if checkout == "success" and (order.status != "paid" or consented) and claim_provider_read(
            rt.store, order.id, interval=rt.settings.order_sync_interval_seconds):
        # Back from the provider's page: ask it now rather than wait for its webhook (and, if this
        # browser agreed to save its card, learn the customer it was saved to). At most once per
        # order per interval: anyone holding the link may reload it.
        try:
            order, session = sync_order(rt.store, rt.provider, order)
        except BuyButtonError as exc:
            log.warning("could not read the session of order %s: %s", order.id, exc.message)
    locale = shopper_locale()
    response = make_response(render_template(
        "order.html", order=order, product=product, ref=ref,
        total=Money(order.amount, order.currency).format(locale), checkout=checkout,
        share_link=personal_share_link(order, product)))
    if consented and session is not None and session.customer_id:
        remember_customer(response, session.customer_id)
    return response


@bp.get("/demo")
def demo_shop():
    """The storefront ``buybutton demo`` seeds: its products, each with a buy button."""
    rt = runtime()
    state_file = rt.settings.home / "demo.json"
    if not state_file.exists():
        abort(404, "No demo shop here: run 'buybutton demo' to seed one.")
    state = json.loads(state_file.read_text())
    locale = shopper_locale()
    items = []
    with rt.store.read() as conn:
        for product_id in state["product_ids"]:
            product = catalog.get_product(conn, product_id, include_deleted=True)
            if not product.active or product.deleted_at is not None:
                continue
            offer = issue_offer(rt.signer, product, base_url=public_url(), ref="demo")
            items.append({"product": product, "offer": offer,
                          "image_url": absolute_url(product.image_url),
                          "price": product.price.format(locale)})
    return render_template("demo.html", items=items, widget_url=widget_url())
