"""The sandbox provider's TEST MODE checkout page: a plain form, so scripts can pay too.

Like Stripe Checkout it asks for the buyer's email and, for goods that ship, a name, a postal
address and a shipping method (:mod:`.buyer_form`), then the test card. An error re-renders
the page with the message next to its field and everything typed kept.
"""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request
from flask.typing import ResponseReturnValue

from buybutton import merchants
from buybutton.errors import BuyButtonError
from buybutton.money import Money
from buybutton.payments.sandbox import SandboxProvider

from ..links import absolute_url
from ..offers import shopper_locale
from ..runtime import runtime
from .buyer_form import LABELS, countries, error_message, kept_values, page_language, rate_choices
from .csrf import protect_shopper_post
from .i18n import page_text

bp = Blueprint("sandbox", __name__, url_prefix="/sandbox")


def _provider() -> SandboxProvider:
    provider = runtime().provider
    if not isinstance(provider, SandboxProvider):
        abort(404)  # with a real provider configured, the sandbox does not exist
    return provider


def _page(
    session_id: str, error: BuyButtonError | None = None, status: int = 200
) -> tuple[str, int]:
    provider = _provider()
    checkout = provider.get_checkout(session_id)
    product = provider.checkout_product(checkout)
    locale = shopper_locale()
    lang = page_language(locale)
    subtotal = Money(checkout.amount, checkout.currency)
    rates = rate_choices(product, subtotal, locale, lang)
    values = kept_values(request.form) if request.method == "POST" else {}
    chosen = next((r for r in rates if r.id == values.get("shipping_rate")), None)
    chosen = chosen or (rates[0] if rates else None)
    with runtime().store.read() as conn:
        merchant = merchants.get_merchant(conn, product.merchant_id)
    text = page_text(locale)
    return render_template(
        "shopper/sandbox_checkout.html",
        checkout=checkout,
        product=product,
        merchant=merchant,
        image_url=absolute_url(product.image_url),
        lang=lang,
        _=text.gettext,
        ngettext=text.ngettext,
        t=LABELS[lang],
        subtotal=subtotal.format(locale),
        total=chosen.total if chosen else subtotal.format(locale),
        rates=rates,
        chosen_rate=chosen.id if chosen else None,
        chosen_price=chosen.price if chosen else None,
        countries=countries(product, locale),
        values=values,
        error=error,
        error_param=error.param if error else None,
        error_text=error_message(error, lang) if error else None,
    ), status


@bp.get("/checkout/<session_id>")
def checkout_page(session_id: str) -> ResponseReturnValue:
    return _page(session_id)


@bp.post("/checkout/<session_id>")
def pay(session_id: str) -> ResponseReturnValue:
    protect_shopper_post()
    try:
        next_url = _provider().pay(
            session_id, request.form.get("card_number"), request.form, locale=shopper_locale()
        )
    except BuyButtonError as exc:
        return _page(session_id, exc, exc.status)
    return redirect(absolute_url(next_url) or next_url, code=303)


@bp.post("/checkout/<session_id>/cancel")
def cancel(session_id: str) -> ResponseReturnValue:
    protect_shopper_post()
    back = _provider().cancel(session_id)
    return redirect(absolute_url(back) or back, code=303)
