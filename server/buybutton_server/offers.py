"""The offer of a request's token, loaded once (:func:`buybutton.offers.load_offer`) and passed
to whatever renders it: the widget's JSON card, the buy page, the share pages."""

from __future__ import annotations

from flask import request

from buybutton.money import resolve_locale
from buybutton.offers import Offer, load_offer

from .links import request_links
from .runtime import runtime


def shopper_locale() -> str:
    """``?locale=`` if given, else the browser's preferred language."""
    return resolve_locale(request.args.get("locale") or request.accept_languages.best, "en")


def request_offer(token: str, locale: str | None = None) -> Offer:
    """The offer of ``token`` in ``locale`` (default: the shopper's); raises the token errors."""
    rt = runtime()
    with rt.store.read() as conn:
        return load_offer(
            conn, rt.signer, token, request_links(), locale=locale or shopper_locale()
        )
