"""Shopper pages: the hosted buy page and the order status page."""

from __future__ import annotations

import json

from flask import Blueprint, abort, redirect, render_template, request

from buybutton import catalog, orders
from buybutton.errors import BuyButtonError
from buybutton.money import Money
from buybutton.offers import issue_offer

from .public import checkout_order, product_card, shopper_locale
from .runtime import absolute_url, public_url, runtime
from .validation import query_int
from .widget import widget_url

bp = Blueprint("shop", __name__)


@bp.get("/buy/<token>")
def buy_page(token: str):
    """Show the offer. A GET never creates an order (link unfurlers and prefetchers follow
    links): the page's script, or its no-script form, POSTs to start the checkout."""
    quantity = query_int("quantity", 1, minimum=1, maximum=orders.MAX_QUANTITY)
    try:
        card = product_card(token, shopper_locale())
    except BuyButtonError as exc:
        return render_template("unavailable.html", error=exc), exc.status
    total = Money(card["amount"], card["currency"]) * quantity
    return render_template("buy.html", card=card, token=token, quantity=quantity,
                           total=total.format(card["locale"]))


@bp.post("/buy/<token>")
def buy_without_script(token: str):
    """The no-JavaScript path: start the checkout and go to the payment page."""
    quantity = request.form.get("quantity", "1")
    order = checkout_order(token, int(quantity) if quantity.isdigit() else quantity,
                           request.form.get("checkout_key") or None)
    return redirect(absolute_url(order.checkout_url), code=303)


@bp.get("/orders/<ref>")
def order_page(ref: str):
    rt = runtime()
    order_id = rt.signer.verify_order_ref(ref)
    if order_id is None:
        abort(404, "No such order.")
    with rt.store.read() as conn:
        order = orders.get_order(conn, order_id)
        product = catalog.get_product(conn, order.product_id, include_deleted=True)
    locale = shopper_locale()
    return render_template(
        "order.html", order=order, product=product, ref=ref,
        total=Money(order.amount, order.currency).format(locale),
        checkout=request.args.get("checkout"))


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
