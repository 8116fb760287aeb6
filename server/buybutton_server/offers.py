"""The offer of a request's token, loaded once (:func:`buybutton.offers.load_offer`) and passed
to whatever renders it: the widget's JSON card, the buy page, the share pages."""

from __future__ import annotations

from collections.abc import Callable, Hashable

from flask import Response, request

from buybutton.money import resolve_locale
from buybutton.offers import Offer, load_offer

from .limits import hit_uncached
from .links import public_url, request_links
from .runtime import runtime

#: What a cached view renders from the offer: the body, its content type, extra headers.
Rendered = tuple[bytes, str, dict[str, str]]


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


def cached_offer(
    kind: str, token: str, render: Callable[[Offer], Rendered], *, variant: Hashable = None
) -> Response:
    """The answer ``render`` makes of ``token``'s offer, from the cache when it is fresh there
    (no database work; a 304 when the client has it), else rendered now and kept
    (:mod:`.cache`). ``kind`` and ``variant`` (e.g. a ``?ref=``) tell answers apart, with the
    shopper's locale and this server's address. Raises the token errors, never cached."""
    rt = runtime()
    locale = shopper_locale()
    key = (kind, token, locale, variant, public_url())
    entry = rt.cache.get(key)
    if entry is None:
        hit_uncached()  # only what renders counts against the client's rate
        claims = rt.signer.verify_token(token)
        rows = (f"products:{claims.product_id}", f"merchants:{claims.merchant_id}")
        valid_for = None if claims.expires_at is None else claims.expires_at - rt.clock()
        entry = rt.cache.render(
            key, rows, lambda: render(request_offer(token, locale)), valid_for=valid_for
        )
    return rt.cache.respond(entry)
