"""One click for returning shoppers: the saved-card cookies and the signed confirmation (the
routes are in :mod:`.oneclick`).

After a purchase in which the shopper agreed to save the card, the success page sets first-party
cookies on our own domain naming the provider's customer, signed (itsdangerous), HttpOnly (no
script, ours or a merchant's, can read them):

- ``bb_saved_card`` (salt ``buybutton.saved-card``), SameSite=Strict: the only one a charge trusts.
  A browser sends it only with requests started from our own site, so no other site, not even a
  sibling origin of the same site, can make a request that carries it.
- ``bb_saved_card_hint`` (salt ``buybutton.saved-card-hint``), SameSite=Lax: used only to *show*
  the saved card on the buy page. The widget opens the buy page in a popup from the merchant's
  page, a cross-site navigation that carries no Strict cookie; the Lax hint lets that page
  still offer "Pay €12.00 with Visa •••4242". The form it shows is posted from our own page, so
  its POST does carry the Strict cookie.

The charging POST needs the Strict cookie, a same-origin request, the browser's form token
(:mod:`.csrf`) and a signed confirmation of what the shopper saw (token, quantity, total and the
form's one-click key, salt ``buybutton.one-click-confirmation``, valid
``BUYBUTTON_ONE_CLICK_CONFIRM_SECONDS``). "Forget my card" detaches the card and clears both.
"""

from __future__ import annotations

import logging
import secrets

from flask import request
from itsdangerous import BadData, URLSafeTimedSerializer
from werkzeug.wrappers import Response

from buybutton.buyers import Recipient
from buybutton.errors import ErrorCode, Forbidden, ProviderError
from buybutton.payments import SavedCard, SavedCardProvider

from ..runtime import runtime
from .csrf import browser_hash, cookies_secure

log = logging.getLogger("buybutton")

COOKIE_NAME = "bb_saved_card"
COOKIE_SALT = "buybutton.saved-card"
COOKIE_MAX_AGE = 365 * 86400
HINT_COOKIE_NAME = "bb_saved_card_hint"
HINT_SALT = "buybutton.saved-card-hint"
CONFIRM_SALT = "buybutton.one-click-confirmation"
# Set when the shopper ticks "save my card", naming that checkout's order: only the browser that
# gave consent gets the saved-card cookie on the success page, not anyone the order link reaches.
CONSENT_COOKIE_NAME = "bb_save_card_consent"
CONSENT_SALT = "buybutton.saved-card-consent"
CONSENT_MAX_AGE = 2 * 86400


def _serializer(salt: str = COOKIE_SALT) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(list(runtime().settings.secret_keys), salt=salt)


def saved_card_provider() -> SavedCardProvider | None:
    provider = runtime().provider
    return provider if isinstance(provider, SavedCardProvider) else None


def _cookie_customer(name: str, salt: str) -> str | None:
    raw = request.cookies.get(name)
    if not raw:
        return None
    try:
        data = _serializer(salt).loads(raw, max_age=COOKIE_MAX_AGE)
    except BadData:
        return None
    customer = data.get("customer") if isinstance(data, dict) else None
    return customer if isinstance(customer, str) else None


def shopper_customer() -> str | None:
    """The provider customer named by this browser's Strict saved-card cookie, if valid: the
    only one a charge may use (a request from another site never carries it)."""
    return _cookie_customer(COOKIE_NAME, COOKIE_SALT)


def shopper_saved_card(*, for_display: bool = False) -> SavedCard | None:
    """The card this browser may pay with in one click; ``None`` if none, or if the provider
    cannot tell right now (the shopper then simply pays on the hosted page). ``for_display``:
    the Lax hint cookie will do (a buy page opened from a merchant's page), never for a charge."""
    customer = shopper_customer()
    if customer is None and for_display:
        customer = _cookie_customer(HINT_COOKIE_NAME, HINT_SALT)
    provider = saved_card_provider()
    if provider is None or customer is None:
        return None
    try:
        return provider.saved_card(customer)
    except ProviderError as exc:
        log.warning("saved card lookup failed: %s", exc.message)
        return None


def remember_customer(response: Response, customer_id: str) -> None:
    """Set the saved-card cookies (and drop the consent cookie that led to them). Set on the
    success page, a top-level navigation back from the provider: browsers accept Strict cookies
    set there."""
    response.set_cookie(
        COOKIE_NAME,
        _serializer().dumps({"customer": customer_id}),
        max_age=COOKIE_MAX_AGE,
        httponly=True,
        secure=cookies_secure(),
        samesite="Strict",
        path="/",
    )
    response.set_cookie(
        HINT_COOKIE_NAME,
        _serializer(HINT_SALT).dumps({"customer": customer_id}),
        max_age=COOKIE_MAX_AGE,
        httponly=True,
        secure=cookies_secure(),
        samesite="Lax",
        path="/",
    )
    response.delete_cookie(CONSENT_COOKIE_NAME, path="/", httponly=True, samesite="Lax")


def remember_consent(response: Response, order_id: str) -> None:
    """This browser agreed to save its card when paying ``order_id``."""
    response.set_cookie(
        CONSENT_COOKIE_NAME,
        _serializer(CONSENT_SALT).dumps({"order": order_id}),
        max_age=CONSENT_MAX_AGE,
        httponly=True,
        secure=cookies_secure(),
        samesite="Lax",
        path="/",
    )


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


def shopper_recipient(customer: str | None) -> Recipient | None:
    """Where the saved customer's parcels went last (kept by the provider), or ``None`` (none
    saved, or the provider cannot tell right now: the hosted page then asks)."""
    provider = saved_card_provider()
    if provider is None or customer is None:
        return None
    try:
        return provider.saved_recipient(customer)
    except ProviderError as exc:
        log.warning("saved address lookup failed: %s", exc.message)
        return None


def display_customer() -> str | None:
    """The customer the buy page may *show* (the Lax hint will do; never for a charge)."""
    return shopper_customer() or _cookie_customer(HINT_COOKIE_NAME, HINT_SALT)


def one_click_confirmation(
    token: str,
    quantity: int,
    amount: int,
    currency: str,
    key: str,
    ship_to: Recipient | None = None,
) -> str:
    """What the one-click form shows, signed for this browser: the POST charges exactly that
    (``amount``: the goods; for goods that ship, ``ship_to`` is the address shown)."""
    return _serializer(CONFIRM_SALT).dumps(
        {
            "token": token,
            "quantity": quantity,
            "amount": amount,
            "currency": currency,
            "key": key,
            "browser": browser_hash(),
            "ship_to": ship_to.fingerprint() if ship_to else None,
        }
    )


def verify_confirmation(
    token: str, quantity: object, key: str | None, ship_to: Recipient | None = None
) -> None:
    """Refuse (:class:`Forbidden`) a one click whose signed confirmation is missing, expired,
    from another browser, or does not match the offer's product, quantity, total, form key or
    the shipping address shown (``ship_to``: the saved one now)."""
    raw = request.form.get("confirmation")
    if not raw:
        raise Forbidden(
            "This payment was not confirmed on the buy page. Reload the page and "
            "try again; nothing was charged.",
            code=ErrorCode.CONFIRMATION_MISSING,
        )
    try:
        seen = _serializer(CONFIRM_SALT).loads(
            raw, max_age=runtime().settings.one_click_confirm_seconds
        )
    except BadData:
        raise Forbidden(
            "This payment confirmation has expired or is not valid. Reload the page "
            "to see the current price; nothing was charged.",
            code=ErrorCode.CONFIRMATION_INVALID,
        ) from None
    claims = runtime().signer.verify_token(token)
    expected = {
        "token": token,
        "quantity": quantity,
        # Only a whole quantity has a total (and "text" * amount must never build a string).
        "amount": claims.amount * quantity if isinstance(quantity, int) else None,
        "currency": claims.currency,
        "key": key,
        "browser": browser_hash(),
        "ship_to": ship_to.fingerprint() if ship_to else None,
    }
    if seen != expected:
        raise Forbidden(
            "This payment does not match what the buy page showed (product, quantity, "
            "price or shipping address). Nothing was charged; reload the page and confirm again.",
            code=ErrorCode.CONFIRMATION_MISMATCH,
        )
