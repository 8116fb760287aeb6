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

from sqlalchemy import Connection, Row, insert, select, update

from . import catalog, merchants, social
from .errors import ErrorCode, InvalidRequest, NotFound
from .ids import new_id
from .money import Money
from .store.schema import offer_links as links_table
from .store.schema import products
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
    """A new token and what it offers."""

    object: str
    token: str
    product_id: str
    amount: int
    currency: str
    ref: str | None
    expires_at: int | None


class IssuedLink(IssuedOffer):
    """A new, recorded offer link (:func:`issue_link`): the body of
    ``POST /v1/products/{id}/tokens``."""

    link_id: str


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
    #: The address shown to shoppers for help (the merchant's ``support_email``).
    support_email: str | None = None

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
        support_email=merchant.support_email if merchant else None,
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
    link_id: str | None = None,
) -> IssuedOffer:
    """Sign a token offering ``product`` at its current price and describe it.

    ``ref`` tags the campaign; ``expires_in`` (seconds) or ``expires_at`` (Unix time) bound it;
    ``link_id`` names the offer link it is (:func:`issue_link`).
    Raises :class:`InvalidRequest` naming the bad field, or
    :class:`~buybutton.errors.ProductUnavailable` for an inactive product.
    """
    stamp = int(now if now is not None else time.time())
    claims = catalog.offer_claims(
        product, ref=ref, expires_at=_expiry(expires_in, expires_at, stamp), link_id=link_id
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


# -- offer links: tokens the merchant issued, recorded so they can be listed and revoked -----------


@dataclass(frozen=True, slots=True)
class OfferLink:
    """A recorded token (:func:`issue_link`) and its state now."""

    id: str
    product_id: str
    ref: str | None
    amount: int
    currency: str
    token_generation: int
    expires_at: int | None
    created_at: int
    revoked_at: int | None
    #: ``live``, ``revoked`` (by itself), ``withdrawn`` (the product's price changed, or all its
    #: tokens were revoked) or ``expired``.
    status: str
    #: The token itself (signing is deterministic: the same claims give the same token).
    token: str


def issue_link(
    conn: Connection,
    signer: TokenSigner,
    product: catalog.Product,
    *,
    links: OfferLinks,
    ref: object = None,
    expires_in: object = None,
    expires_at: object = None,
    now: float | None = None,
) -> IssuedLink:
    """:func:`issue_offer`, recorded: the token names a new offer link (``link_id``), listed by
    :func:`list_links` and revocable alone by :func:`revoke_link`. Same errors."""
    stamp = int(now if now is not None else time.time())
    link_id = new_id("lnk")
    offer = issue_offer(
        signer,
        product,
        links=links,
        ref=ref,
        expires_in=expires_in,
        expires_at=expires_at,
        now=stamp,
        link_id=link_id,
    )
    conn.execute(
        insert(links_table).values(
            id=link_id,
            merchant_id=product.merchant_id,
            product_id=product.id,
            ref=offer["ref"],
            amount=offer["amount"],
            currency=offer["currency"],
            token_generation=product.token_generation,
            expires_at=offer["expires_at"],
            created_at=stamp,
        )
    )
    return {**offer, "link_id": link_id}


def _link(row: Row[Any], product: catalog.Product, signer: TokenSigner, now: int) -> OfferLink:
    if row.revoked_at is not None:
        status = "revoked"
    elif row.token_generation != product.token_generation:
        status = "withdrawn"
    elif row.expires_at is not None and now >= row.expires_at:
        status = "expired"
    else:
        status = "live"
    claims = TokenClaims(
        merchant_id=product.merchant_id,
        product_id=product.id,
        amount=row.amount,
        currency=row.currency,
        generation=row.token_generation,
        expires_at=row.expires_at,
        ref=row.ref,
        link_id=row.id,
    )
    return OfferLink(
        id=row.id,
        product_id=row.product_id,
        ref=row.ref,
        amount=row.amount,
        currency=row.currency,
        token_generation=row.token_generation,
        expires_at=row.expires_at,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
        status=status,
        token=signer.issue_token(claims),
    )


def list_links(
    conn: Connection,
    signer: TokenSigner,
    merchant_id: str,
    product_id: str,
    *,
    now: float | None = None,
) -> list[OfferLink]:
    """Every offer link issued for the merchant's product, newest first, with its state;
    :class:`NotFound` for a product that is not theirs."""
    product = catalog.get_product(conn, product_id, merchant_id=merchant_id)
    stamp = int(now if now is not None else time.time())
    rows = conn.execute(
        select(links_table)
        .where(links_table.c.product_id == product.id)
        .order_by(links_table.c.pk.desc())
    ).all()
    return [_link(row, product, signer, stamp) for row in rows]


def revoke_link(
    conn: Connection,
    signer: TokenSigner,
    merchant_id: str,
    product_id: str,
    link_id: str,
    *,
    now: float | None = None,
) -> OfferLink:
    """Stop the offer link ``link_id`` of the merchant's product from selling (again: a no-op)
    and return it. :class:`NotFound` for a product or a link that is not theirs."""
    product = catalog.get_product(conn, product_id, merchant_id=merchant_id)
    stamp = int(now if now is not None else time.time())
    where = (links_table.c.id == link_id) & (links_table.c.product_id == product.id)
    revoked = conn.execute(
        update(links_table)
        .where(where, links_table.c.revoked_at.is_(None))
        .values(revoked_at=stamp)
    )
    row = conn.execute(select(links_table).where(where)).first()
    if row is None:
        raise NotFound(f"No such link: {link_id!r}.", code=ErrorCode.NOT_FOUND, param="link_id")
    if revoked.rowcount:
        # The product's offers changed: what was rendered of them (share pages, widget cards,
        # cached by product row) must be rendered again.
        conn.execute(update(products).where(products.c.id == product.id).values(updated_at=stamp))
    return _link(row, product, signer, stamp)


def link_dict(link: OfferLink, links: OfferLinks) -> dict[str, Any]:
    """An offer link as the API shows it (schema ``OfferLink``)."""
    return {
        "object": "offer_link",
        "id": link.id,
        "product_id": link.product_id,
        "ref": link.ref,
        "amount": link.amount,
        "currency": link.currency,
        "status": link.status,
        "expires_at": link.expires_at,
        "created_at": link.created_at,
        "revoked_at": link.revoked_at,
        "token": link.token,
        "share_url": links.share_url(link.token),
        "buy_url": links.buy_url(link.token),
    }
