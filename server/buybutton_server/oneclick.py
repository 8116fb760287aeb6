"""One click for returning shoppers: the saved-card cookie and its two routes.

After a purchase in which the shopper agreed to save the card, the success page sets a
first-party cookie on our own domain naming the provider's customer: signed (itsdangerous, salt
``buybutton.saved-card``), HttpOnly (no script, ours or a merchant's, can read it), SameSite=Lax.
The merchant's page never sees it: the widget talks to us only through the buy page's window.
The buy page then offers "Pay €12.00 with Visa •••4242"; "Forget my card" detaches the card and
clears the cookie.
"""

from __future__ import annotations

import logging
import secrets

from flask import Blueprint, redirect, request, url_for
from itsdangerous import BadData, URLSafeTimedSerializer

from buybutton.checkout import one_click_checkout
from buybutton.errors import PaymentDeclined, ProviderError
from buybutton.payments import SavedCard, SavedCardProvider
from buybutton.social import clean_ref

from .public import order_status_url, return_urls, shopper_client
from .runtime import absolute_url, runtime
from .validation import form_quantity

log = logging.getLogger("buybutton")

bp = Blueprint("oneclick", __name__)

COOKIE_NAME = "bb_saved_card"
COOKIE_SALT = "buybutton.saved-card"
COOKIE_MAX_AGE = 365 * 86400
# Set when the shopper ticks "save my card", naming that checkout's order: only the browser that
# gave consent gets the saved-card cookie on the success page, not anyone the order link reaches.
CONSENT_COOKIE_NAME = "bb_save_card_consent"
CONSENT_SALT = "buybutton.saved-card-consent"
CONSENT_MAX_AGE = 2 * 86400


def _serializer(salt: str = COOKIE_SALT) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(list(runtime().settings.secret_keys), salt=salt)


def _secure() -> bool:
    return request.is_secure or (runtime().settings.public_url or "").startswith("https:")


def saved_card_provider() -> SavedCardProvider | None:
    provider = runtime().provider
    return provider if isinstance(provider, SavedCardProvider) else None


def shopper_customer() -> str | None:
    """The provider customer named by this browser's saved-card cookie, if valid."""
    raw = request.cookies.get(COOKIE_NAME)
    if not raw:
        return None
    try:
        data = _serializer().loads(raw, max_age=COOKIE_MAX_AGE)
    except BadData:
        return None
    customer = data.get("customer") if isinstance(data, dict) else None
    return customer if isinstance(customer, str) else None


def shopper_saved_card() -> SavedCard | None:
    """The card this browser may pay with in one click; ``None`` if none, or if the provider
    cannot tell right now (the shopper then simply pays on the hosted page)."""
    provider, customer = saved_card_provider(), shopper_customer()
    if provider is None or customer is None:
        return None
    try:
        return provider.saved_card(customer)
    except ProviderError as exc:
        log.warning("saved card lookup failed: %s", exc.message)
        return None


def remember_customer(response, customer_id: str) -> None:
    """Set the saved-card cookie (and drop the consent cookie that led to it)."""
    response.set_cookie(COOKIE_NAME, _serializer().dumps({"customer": customer_id}),
                        max_age=COOKIE_MAX_AGE, httponly=True, secure=_secure(), samesite="Lax",
                        path="/")
    response.delete_cookie(CONSENT_COOKIE_NAME, path="/", httponly=True, samesite="Lax")


def remember_consent(response, order_id: str) -> None:
    """This browser agreed to save its card when paying ``order_id``."""
    response.set_cookie(CONSENT_COOKIE_NAME, _serializer(CONSENT_SALT).dumps({"order": order_id}),
                        max_age=CONSENT_MAX_AGE, httponly=True, secure=_secure(), samesite="Lax",
                        path="/")


def consented_order() -> str | None:
    """The order this browser agreed to save its card with, if any."""
    raw = request.cookies.get(CONSENT_COOKIE_NAME)
    try:
        data = _serializer(CONSENT_SALT).loads(raw, max_age=CONSENT_MAX_AGE) if raw else None
    except BadData:
        return None
    return data.get("order") if isinstance(data, dict) else None


def one_click_key() -> str:
    """A fresh key for one rendering of the one-click form: submitting it twice (a double click,
    a resent form) resumes the same order instead of charging twice."""
    return secrets.token_urlsafe(24)


@bp.post("/buy/<token>/one-click")
def pay_with_saved_card(token: str):
    """Charge the saved card; paid → the order page, authentication needed → hosted checkout."""
    rt, customer = runtime(), shopper_customer()
    quantity = form_quantity()
    ref = clean_ref(request.form.get("ref"))
    if customer is None:
        return redirect(url_for("shop.buy_page", token=token, quantity=quantity, ref=ref), code=303)
    try:
        order = one_click_checkout(
            rt.store, rt.signer, rt.provider, token, quantity, customer,
            return_urls=return_urls,
            ttl_seconds=rt.settings.checkout_ttl_seconds,
            checkout_key=request.form.get("checkout_key") or None, ref=ref,
            client=shopper_client(), max_held_units=rt.settings.max_held_units_per_client)
    except PaymentDeclined as exc:
        from .shop import render_buy_page

        return render_buy_page(token, quantity, error=exc,
                               checkout_key=request.form.get("checkout_key"), ref=ref)
    if order.status == "pending" and order.checkout_url:
        return redirect(absolute_url(order.checkout_url), code=303)
    return redirect(order_status_url(order.id, checkout="success"), code=303)


@bp.post("/buy/<token>/forget-card")
def forget_card(token: str):
    """Detach the saved card and clear the cookie; back to the buy page."""
    card = shopper_saved_card()
    if card is not None:
        saved_card_provider().forget_card(card)
    response = redirect(url_for("shop.buy_page", token=token), code=303)
    response.delete_cookie(COOKIE_NAME, path="/", httponly=True, samesite="Lax")
    return response
