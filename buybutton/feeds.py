"""Catalog feeds: a merchant's products in the columns Meta Commerce Manager and Google Merchant
Center read, so the catalog can be connected to Facebook/Instagram Shops and Google Shopping.

CSV (Meta reads it; Google too) and RSS 2.0 with the ``g:`` namespace (Google's XML format).

A feed is public (merchant ids are no secret), so it lists only the products the merchant opted
in (``in_feed``): anyone who learns a merchant id from a token must not get offers the merchant
never published. Each item links to the share page of a token minted for the fetch that expires
``link_ttl`` later (rounded down to the hour, see :func:`buybutton.offers.link_expiry`), so a feed
link never outlives the lifetime the operator chose, and stays the same for an hour.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from xml.etree import ElementTree

from sqlalchemy import Connection, select

from . import catalog, merchants
from .errors import ErrorCode, NotFound
from .offers import link_expiry
from .social import availability, xml_text
from .spreadsheets import csv_document
from .store.schema import products
from .tokens import TokenSigner

GOOGLE_NS = "http://base.google.com/ns/1.0"
COLUMNS = (
    "id",
    "title",
    "description",
    "availability",
    "condition",
    "price",
    "link",
    "image_link",
    "brand",
)


@dataclass(frozen=True, slots=True)
class FeedItem:
    """One product in the columns of :data:`COLUMNS`."""

    id: str
    title: str
    description: str
    availability: str
    condition: str
    price: str
    link: str
    image_link: str
    brand: str


@dataclass(frozen=True, slots=True)
class Feed:
    merchant_id: str
    merchant_name: str
    items: list[FeedItem]


def build_feed(
    conn: Connection,
    signer: TokenSigner,
    merchant_id: str,
    *,
    share_url: Callable[[str], str],
    image_url: Callable[[catalog.Product, str], str],
    link_ttl: int,
    now: float,
) -> Feed:
    """The feed of ``merchant_id``'s active, non-deleted products opted in with ``in_feed``,
    oldest first, their links expiring ``link_ttl`` seconds after ``now`` (Unix time) at most.

    ``share_url(token)`` and ``image_url(product, token)`` make absolute URLs (the server knows
    its host). Raises :class:`NotFound` for an unknown merchant.
    """
    merchant = merchants.get_merchant(conn, merchant_id) if isinstance(merchant_id, str) else None
    if merchant is None:
        raise NotFound(
            f"No such merchant: {merchant_id!r}.", code=ErrorCode.MERCHANT_NOT_FOUND, param="id"
        )
    rows = conn.execute(
        select(products)
        .where(
            products.c.merchant_id == merchant.id,
            products.c.active.is_(True),
            products.c.in_feed.is_(True),
            products.c.deleted_at.is_(None),
        )
        .order_by(products.c.pk)
    ).all()
    expires_at = link_expiry(now, link_ttl)
    items = []
    for row in rows:
        product = catalog.product_from_row(row)
        token = signer.issue_token(catalog.offer_claims(product, expires_at=expires_at))
        items.append(
            FeedItem(
                id=product.id,
                title=product.name,
                # Both platforms require a description; the name is better than an empty cell.
                description=product.description or product.name,
                availability=availability(product.available).meta,
                condition="new",
                price=product.price.plain(),
                link=share_url(token),
                image_link=image_url(product, token),
                brand=merchant.name,
            )
        )
    return Feed(merchant.id, merchant.name, items)


def feed_csv(feed: Feed) -> str:
    """The feed as CSV with a header row, every cell quoted and safe to open in a spreadsheet
    (:func:`buybutton.spreadsheets.csv_document`)."""
    return csv_document(
        COLUMNS, ([getattr(item, column) for column in COLUMNS] for item in feed.items)
    )


def feed_rss(feed: Feed, *, link: str) -> str:
    """The feed as RSS 2.0 with Google's ``g:`` namespace; ``link`` is the channel's link."""
    ElementTree.register_namespace("g", GOOGLE_NS)
    rss = ElementTree.Element("rss", {"version": "2.0"})
    channel = ElementTree.SubElement(rss, "channel")
    for tag, text in (
        ("title", feed.merchant_name),
        ("link", link),
        ("description", f"Products of {feed.merchant_name}"),
    ):
        ElementTree.SubElement(channel, tag).text = xml_text(text)
    for item in feed.items:
        element = ElementTree.SubElement(channel, "item")
        for column in COLUMNS:
            ElementTree.SubElement(element, f"{{{GOOGLE_NS}}}{column}").text = xml_text(
                getattr(item, column)
            )
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ElementTree.tostring(
        rss, encoding="unicode"
    )
