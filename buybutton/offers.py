"""An offer: a signed product token, what it offers, and everything a merchant pastes to sell
with it.

The core knows no routes: whoever builds links (the server, from its URL map) passes an
:class:`OfferLinks`. :func:`load_offer` verifies a token once and returns the typed
:class:`Offer` every page, card and JSON answer is rendered from.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from html import escape
from typing import Any, Protocol, TypedDict

from sqlalchemy import Connection

from . import catalog, merchants, social
from .errors import InvalidRequest
from .money import Money
from .tokens import TokenClaims, TokenSigner

MAX_TOKEN_LIFETIME = 5 * 365 * 86400
#: Expiries the server picks are whole hours, so every fetch within the hour gets the same link.
LINK_EXPIRY_STEP = 3600


def link_expiry(now: float, ttl_seconds: int) -> int:
    """The expiry of a token the server mints on its own (a feed link, a shopper's share link):
    at most ``ttl_seconds`` from ``now`` and more than ``ttl_seconds - LINK_EXPIRY_STEP``,
    rounded down to a whole hour so the link stays the same for an hour."""
    return int(now + ttl_seconds) // LINK_EXPIRY_STEP * LINK_EXPIRY_STEP


class OfferLinks(Protocol):
    """Absolute URLs of an offer's pages on the server that serves them (built from its routes)."""

    def share_url(self, token: str) -> str:
        """The share page (``social.share_page``)."""

    def buy_url(self, token: str) -> str:
        """The hosted buy page (``shopper.buy_page``)."""

    def qr_url(self, token: str) -> str:
        """The share page's QR code, as SVG."""

    def widget_script_url(self) -> str:
        """The widget script the snippet loads (unversioned: pasted snippets pick up fixes)."""

    def absolute(self, url: str | None) -> str | None:
        """``url`` made absolute when it is a path on this server (a product's stored
        ``/static/…`` image); other URLs, and ``None``, as they are."""


class OfferLinkSet(TypedDict):
    """An offer's links, as the API answers them."""

    snippet: str
    share_url: str
    buy_url: str
    qr_url: str


class IssuedOffer(OfferLinkSet):
    """A new token and what it offers: the body of ``POST /v1/products/{id}/tokens``."""

    object: str
    token: str
    product_id: str
    amount: int
    currency: str
    ref: str | None
    expires_at: int | None


def offer_links(token: str, links: OfferLinks) -> OfferLinkSet:
    """The snippet, share link, buy link and QR code URL of ``token``."""
    return {
        "snippet": (
            f'<script async src="{escape(links.widget_script_url())}"></script>\n'
            f'<buy-button token="{escape(token)}"></buy-button>'
        ),
        "share_url": links.share_url(token),
        "buy_url": links.buy_url(token),
        "qr_url": links.qr_url(token),
    }


@dataclass(frozen=True, slots=True)
class Offer:
    """A verified token and what it offers right now, with its links: built once per request by
    :func:`load_offer`, rendered by every page, card and JSON answer of the offer."""

    token: str
    claims: TokenClaims
    product: catalog.Product
    merchant_name: str
    #: The merchant's own sites (``allowed_origins``): where a buy page may link back to.
    merchant_origins: tuple[str, ...]
    #: The signed price (the token's, not the product's current one: that is what is sold).
    price: Money
    #: The locale prices are formatted in.
    locale: str
    #: The product's image, absolute (or ``None``).
    image_url: str | None
    share_url: str
    buy_url: str
    #: The merchant's return policy, shown in the offer's schema.org markup.
    return_policy: merchants.ReturnPolicy | None = None

    @property
    def available(self) -> bool:
        return self.product.available

    @property
    def availability(self) -> social.Availability:
        """The offer's state in the vocabularies of feeds, Open Graph and schema.org."""
        return social.availability(self.available)

    @property
    def sold_out(self) -> bool:
        return self.product.stock == 0

    @property
    def ref(self) -> str | None:
        return self.claims.ref

    @property
    def price_formatted(self) -> str:
        return self.price.format(self.locale)

    def embed_json(self) -> dict[str, Any]:
        """The widget's product card (``GET /v1/embed/{token}``, schema ``Embed``)."""
        product = self.product
        return {
            "object": "embed",
            "token": self.token,
            "product": {
                "id": product.id,
                "name": product.name,
                "description": product.description,
                "image_url": self.image_url,
            },
            "amount": self.price.amount,
            "currency": self.price.currency,
            "price_formatted": self.price_formatted,
            "locale": self.locale,
            "available": self.available,
            "sold_out": self.sold_out,
            "stock": product.stock,
            "max_per_order": product.max_per_order,
            "ref": self.ref,
            "buy_url": self.buy_url,
        }


def load_offer(
    conn: Connection, signer: TokenSigner, token: str, links: OfferLinks, *, locale: str = "en"
) -> Offer:
    """Verify ``token`` and resolve what it offers. Raises the token errors
    (:class:`~buybutton.errors.InvalidToken`, ``TokenExpired``, ``TokenRevoked``), ``NotFound``
    for a product that no longer exists and ``ProductUnavailable`` for a withdrawn one."""
    claims = signer.verify_token(token)
    product = catalog.resolve_token(conn, claims)
    merchant = merchants.get_merchant(conn, claims.merchant_id)
    return Offer(
        token=token,
        claims=claims,
        product=product,
        merchant_name=merchant.name if merchant else "",
        merchant_origins=merchant.allowed_origins if merchant else (),
        price=Money(claims.amount, claims.currency),
        locale=locale,
        image_url=links.absolute(product.image_url),
        share_url=links.share_url(token),
        buy_url=links.buy_url(token),
        return_policy=merchant.return_policy if merchant else None,
    )


def _expiry(expires_in: object, expires_at: object, now: int) -> int | None:
    if expires_in is not None:
        if expires_at is not None:
            raise InvalidRequest("Give expires_in or expires_at, not both.", param="expires_in")
        if type(expires_in) is not int or not 60 <= expires_in <= MAX_TOKEN_LIFETIME:
            raise InvalidRequest(
                f"expires_in must be seconds from 60 to {MAX_TOKEN_LIFETIME}.", param="expires_in"
            )
        return now + expires_in
    if expires_at is not None and (
        type(expires_at) is not int or not now < expires_at <= now + MAX_TOKEN_LIFETIME
    ):
        raise InvalidRequest(
            "expires_at must be a future Unix time within five years.", param="expires_at"
        )
    return expires_at


def issue_offer(
    signer: TokenSigner,
    product: catalog.Product,
    *,
    links: OfferLinks,
    ref: object = None,
    expires_in: object = None,
    expires_at: object = None,
    now: float | None = None,
) -> IssuedOffer:
    """Sign a token offering ``product`` at its current price and describe it.

    ``ref`` tags the campaign; ``expires_in`` (seconds) or ``expires_at`` (Unix time) bound it.
    Raises :class:`InvalidRequest` naming the bad field, or
    :class:`~buybutton.errors.ProductUnavailable` for an inactive product.
    """
    stamp = int(now if now is not None else time.time())
    claims = catalog.offer_claims(
        product, ref=ref, expires_at=_expiry(expires_in, expires_at, stamp)
    )
    token = signer.issue_token(claims)
    return {
        "object": "token",
        "token": token,
        "product_id": product.id,
        "amount": claims.amount,
        "currency": claims.currency,
        "ref": claims.ref,
        "expires_at": claims.expires_at,
        **offer_links(token, links),
    }
