"""The order status page (``/orders/<signed ref>``): where the provider sends the shopper back."""

from __future__ import annotations

import logging

from flask import abort, make_response, render_template, request
from flask.typing import ResponseReturnValue

from buybutton import catalog, merchants, orders
from buybutton.errors import BuyButtonError
from buybutton.reconcile import claim_provider_read, sync_order

from ..runtime import runtime
from ..social.share_links import personal_share_link
from .blueprint import bp
from .downloads import order_delivery
from .i18n import page_text
from .order_view import order_view
from .saved_cards import consented_order, remember_customer

log = logging.getLogger("buybutton")


@bp.get("/orders/<ref>")
def order_page(ref: str) -> ResponseReturnValue:
    rt = runtime()
    order_id = rt.signer.verify_order_ref(ref)
    if order_id is None:
        abort(404, "No such order.")
    with rt.store.read() as conn:
        order = orders.get_order(conn, order_id)
        product = catalog.get_product(conn, order.product_id, include_deleted=True)
        merchant = merchants.get_merchant(conn, order.merchant_id)
    checkout, session = request.args.get("checkout"), None
    consented = consented_order() == order.id
    if (
        checkout == "success"
        and (order.status != "paid" or consented)
        and claim_provider_read(
            rt.store, order.id, interval=rt.settings.order_sync_interval_seconds
        )
    ):
        # Back from the provider's page: ask it now rather than wait for its webhook (and, if this
        # browser agreed to save its card, learn the customer it was saved to). At most once per
        # order per interval: anyone holding the link may reload it.
        try:
            order, session = sync_order(rt.store, rt.provider, order)
        except BuyButtonError as exc:
            log.warning("could not read the session of order %s: %s", order.id, exc.message)
    # ?locale= (a link that names it), else the language of the checkout, else the browser's.
    text = page_text(request.args.get("locale") or order.locale or request.accept_languages.best)
    with rt.store.read() as conn:
        delivery = order_delivery(conn, order.id, text)
    response = make_response(
        render_template(
            "shopper/order.html",
            order=order,
            product=product,
            view=order_view(order, merchant, text, checkout=checkout),
            lang=text.language,
            _=text.gettext,
            ngettext=text.ngettext,
            ref=ref,
            checkout=checkout,
            share_link=personal_share_link(order, product),
            delivery=delivery,
        )
    )
    if consented and session is not None and session.customer_id:
        remember_customer(response, session.customer_id)
    return response
