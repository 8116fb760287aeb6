"""An offer: a signed product token and everything a merchant pastes to sell with it."""

from __future__ import annotations

import time
from html import escape

from . import catalog
from .errors import InvalidRequest
from .tokens import TokenSigner

MAX_TOKEN_LIFETIME = 5 * 365 * 86400
#: Expiries the server picks are whole hours, so every fetch within the hour gets the same link.
LINK_EXPIRY_STEP = 3600


def link_expiry(now: float, ttl_seconds: int) -> int:
    """The expiry of a token the server mints on its own (a feed link, a shopper's share link):
    at most ``ttl_seconds`` from ``now`` and more than ``ttl_seconds - LINK_EXPIRY_STEP``,
    rounded down to a whole hour so the link stays the same for an hour."""
    return int(now + ttl_seconds) // LINK_EXPIRY_STEP * LINK_EXPIRY_STEP


def offer_links(token: str, base_url: str) -> dict[str, str]:
    """The snippet, share link, buy link and QR code URL of ``token`` on ``base_url``."""
    return {
        "snippet": (f'<script async src="{escape(base_url)}/widget.js"></script>\n'
                    f'<buy-button token="{escape(token)}"></buy-button>'),
        "share_url": f"{base_url}/p/{token}",
        "buy_url": f"{base_url}/buy/{token}",
        "qr_url": f"{base_url}/p/{token}/qr.svg",
    }


def _expiry(expires_in: object, expires_at: object, now: int) -> int | None:
    if expires_in is not None:
        if expires_at is not None:
            raise InvalidRequest("Give expires_in or expires_at, not both.", param="expires_in")
        if type(expires_in) is not int or not 60 <= expires_in <= MAX_TOKEN_LIFETIME:
            raise InvalidRequest(f"expires_in must be seconds from 60 to {MAX_TOKEN_LIFETIME}.",
                                 param="expires_in")
        return now + expires_in
    if expires_at is not None and (type(expires_at) is not int
                                   or not now < expires_at <= now + MAX_TOKEN_LIFETIME):
        raise InvalidRequest("expires_at must be a future Unix time within five years.",
                             param="expires_at")
    return expires_at


def issue_offer(signer: TokenSigner, product: catalog.Product, *, base_url: str,
                ref: object = None, expires_in: object = None, expires_at: object = None,
                now: float | None = None) -> dict:
    """Sign a token offering ``product`` at its current price and describe it.

    ``ref`` tags the campaign; ``expires_in`` (seconds) or ``expires_at`` (Unix time) bound it.
    Raises :class:`InvalidRequest` naming the bad field, or
    :class:`~buybutton.errors.ProductUnavailable` for an inactive product.
    """
    stamp = int(now if now is not None else time.time())
    claims = catalog.offer_claims(product, ref=ref, expires_at=_expiry(expires_in, expires_at, stamp))
    token = signer.issue_token(claims)
    return {"object": "token", "token": token, "product_id": product.id, "amount": claims.amount,
            "currency": claims.currency, "ref": claims.ref, "expires_at": claims.expires_at,
            **offer_links(token, base_url)}
