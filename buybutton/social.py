"""Share links that unfurl as product cards: the tags a feed reads, oEmbed answers, referral tags.

Plain functions over plain data, so the share page, the oEmbed provider and the catalog feeds
all describe an offer the same way. The server renders what these return; nothing here knows HTTP.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypedDict
from urllib.parse import urlencode, urlsplit

from .errors import ErrorCode, InvalidRequest, NotFound
from .money import Money
from .tokens import MAX_REF_LENGTH


class ShareHead(TypedDict):
    """What a share page puts in ``<head>``: Open Graph and Twitter/X meta tags as
    ``(property, content)`` pairs, a schema.org Product as JSON-LD, and the short summary."""

    og: list[tuple[str, str]]
    twitter: list[tuple[str, str]]
    jsonld: dict[str, object]
    description: str


#: The generated social card image (``/p/TOKEN/card.png``): Open Graph's recommended size.
CARD_IMAGE_WIDTH = 1200
CARD_IMAGE_HEIGHT = 630

#: The iframe card (``/embed/TOKEN``) an oEmbed consumer shows, before maxwidth/maxheight.
EMBED_WIDTH = 360
EMBED_HEIGHT = 540
#: Below this the card cannot show a product and a button: a smaller maxwidth/maxheight is refused.
EMBED_MIN_WIDTH = 200
EMBED_MIN_HEIGHT = 240

REFERRAL_TAG_PREFIX = "fr-"


SUMMARY_LENGTH = 300


def _shorten(text: str, length: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"


def validate_ref(ref: object, *, param: str = "ref") -> str:
    """Return ``ref`` if it is a tag of 1 to 64 printable characters; :class:`InvalidRequest`."""
    if not isinstance(ref, str) or not 1 <= len(ref) <= MAX_REF_LENGTH or not ref.isprintable():
        raise InvalidRequest(
            f"ref must be a tag of 1 to {MAX_REF_LENGTH} printable characters.", param=param
        )
    return ref


def clean_ref(ref: object) -> str | None:
    """``ref`` when it is a valid tag, else ``None``: for links, where a garbled ``?ref=``
    must not stop a sale (the API, by contrast, rejects a bad ``ref`` with a 400)."""
    try:
        return validate_ref(ref)
    except InvalidRequest:
        return None


def with_ref(url: str, ref: str | None) -> str:
    """``url`` with ``?ref=`` appended (URL-encoded) when ``ref`` is set."""
    return f"{url}?{urlencode({'ref': ref})}" if ref else url


def referral_tag(order_id: str, secret: str) -> str:
    """The shopper's personal referral tag for ``order_id``: stable, short, and unlinkable to
    the shopper or the order by anyone without ``secret`` (an HMAC, not the id itself)."""
    digest = hmac.new(
        secret.encode(), b"buybutton.referral\n" + order_id.encode(), hashlib.sha256
    ).hexdigest()
    return REFERRAL_TAG_PREFIX + digest[:12]


@dataclass(frozen=True, slots=True)
class Availability:
    """One offer state in each vocabulary a consumer reads."""

    meta: str  # product:availability (Facebook/Instagram), Google Merchant Center feeds
    pinterest: str  # og:availability
    schema_org: str  # schema.org Offer.availability


IN_STOCK = Availability("in stock", "instock", "https://schema.org/InStock")
OUT_OF_STOCK = Availability("out of stock", "out of stock", "https://schema.org/OutOfStock")


def availability(available: bool) -> Availability:
    return IN_STOCK if available else OUT_OF_STOCK


def price_amount(money: Money) -> str:
    """The bare decimal feeds and tags want: ``"12.00"`` for EUR, ``"1200"`` for JPY."""
    return str(money.decimal)


def share_tags(
    *,
    title: str,
    description: str,
    url: str,
    site_name: str,
    money: Money,
    available: bool,
    images: list[tuple[str, int | None, int | None]],
    locale: str = "en",
    price_text: str | None = None,
    listing: tuple[dict[str, Any], dict[str, Any]] | None = None,
) -> ShareHead:
    """Everything the share page puts in ``<head>`` for ``url``, as data (the template escapes).

    ``images`` are ``(url, width, height)``, best first; width/height ``None`` when unknown.
    ``price_text`` (``"€12.00"``) labels the price for unfurlers that show extra fields (Slack).
    Returns ``{"og": [(property, content)…], "twitter": [(name, content)…], "jsonld": {…},
    "description": the short summary}``:
    Open Graph with price/availability under both the ``product:`` (Meta) and ``og:``
    (Pinterest) prefixes, a Twitter/X large-image card, and a schema.org Product + Offer.
    ``listing``: more properties of the Product and of its Offer, what Google's merchant
    listings recommend (:func:`buybutton.listings.listing_markup`).
    """
    state = availability(available)
    amount, currency = price_amount(money), money.currency.upper()
    # Feeds cut descriptions at a few hundred characters anyway; the page shows it all.
    summary = _shorten(description or title, SUMMARY_LENGTH)
    og: list[tuple[str, str]] = [
        ("og:type", "product"),
        ("og:title", title),
        ("og:description", summary),
        ("og:url", url),
        ("og:site_name", site_name),
    ]
    if "_" in locale.replace("-", "_"):  # Open Graph wants language_TERRITORY (en_US), or nothing
        og.append(("og:locale", locale.replace("-", "_")))
    for image_url, width, height in images:
        og.append(("og:image", image_url))
        if width and height:
            og += [("og:image:width", str(width)), ("og:image:height", str(height))]
        og.append(("og:image:alt", title))
    og += [
        ("product:price:amount", amount),
        ("product:price:currency", currency),
        ("product:availability", state.meta),
        ("product:condition", "new"),
        ("og:price:amount", amount),
        ("og:price:currency", currency),
        ("og:availability", state.pinterest),
    ]
    twitter = [
        ("twitter:card", "summary_large_image"),
        ("twitter:title", title),
        ("twitter:description", summary),
    ]
    if images:
        twitter += [("twitter:image", images[0][0]), ("twitter:image:alt", title)]
    # Slack shows these two label/value pairs under the link's title.
    twitter += [
        ("twitter:label1", "Price"),
        ("twitter:data1", price_text or f"{amount} {currency}"),
        ("twitter:label2", "Availability"),
        ("twitter:data2", "In stock" if available else "Sold out"),
    ]
    offers: dict[str, object] = {
        "@type": "Offer",
        "price": amount,
        "priceCurrency": currency,
        "availability": state.schema_org,
        "itemCondition": "https://schema.org/NewCondition",
        "url": url,
        "seller": {"@type": "Organization", "name": site_name},
    }
    jsonld: dict[str, object] = {
        "@context": "https://schema.org",
        "@type": "Product",
        "name": title,
        "description": description or title,
        "url": url,
        "image": [image for image, _, _ in images],
        "brand": {"@type": "Brand", "name": site_name},
        "offers": offers,
    }
    if listing is not None:
        item, offer = listing
        jsonld.update(item)
        offers.update(offer)
    return {"og": og, "twitter": twitter, "jsonld": jsonld, "description": summary}


def token_from_share_url(url: object, base_url: str) -> str:
    """The token of a share link (``BASE/p/TOKEN``, ``BASE/embed/TOKEN``) on ``base_url``.

    Raises :class:`NotFound` for anything else: a foreign host, another path, a bad URL.
    """
    if not isinstance(url, str) or not url or len(url) > 4096:
        raise NotFound(
            "Give the share link of an offer as url.",
            code=ErrorCode.OEMBED_URL_NOT_FOUND,
            param="url",
        )
    ours = urlsplit(base_url)
    try:
        theirs = urlsplit(url.strip())
    except ValueError:  # e.g. "http://[::1": an unbalanced IPv6 bracket
        theirs = None
    prefix = ours.path.rstrip("/")
    same_site = theirs is not None and (
        theirs.scheme in ("http", "https") and theirs.netloc.lower() == ours.netloc.lower()
    )
    path = (
        theirs.path[len(prefix) :]
        if theirs is not None and same_site and theirs.path.startswith(prefix + "/")
        else ""
    )
    parts = path.strip("/").split("/")
    if not same_site or len(parts) != 2 or parts[0] not in ("p", "embed") or not parts[1]:
        raise NotFound(
            "That URL is not a share link of this shop.",
            code=ErrorCode.OEMBED_URL_NOT_FOUND,
            param="url",
        )
    return parts[1]


def embed_size(maxwidth: int | None, maxheight: int | None) -> tuple[int, int]:
    """The iframe card's size within the consumer's bounds (oEmbed: never exceed them).

    Raises :class:`NotFound`, as the spec's answer for "no embed fits", when a bound is below
    what a card can show.
    """
    width = EMBED_WIDTH if maxwidth is None else min(EMBED_WIDTH, maxwidth)
    height = EMBED_HEIGHT if maxheight is None else min(EMBED_HEIGHT, maxheight)
    if width < EMBED_MIN_WIDTH or height < EMBED_MIN_HEIGHT:
        raise NotFound(
            f"No card fits in less than {EMBED_MIN_WIDTH}×{EMBED_MIN_HEIGHT} pixels.",
            code=ErrorCode.OEMBED_TOO_SMALL,
            param="maxwidth" if width < EMBED_MIN_WIDTH else "maxheight",
        )
    return width, height


def oembed_response(
    *,
    title: str,
    share_url: str,
    embed_url: str,
    provider_name: str,
    provider_url: str,
    author_name: str,
    thumbnail: tuple[str, int, int],
    maxwidth: int | None = None,
    maxheight: int | None = None,
    cache_age: int = 3600,
) -> dict[str, str | int]:
    """An oEmbed 1.0 ``rich`` response whose ``html`` is an iframe of the live card.

    An iframe, not the script snippet, because most consumers (WordPress, Discourse, Notion…)
    strip scripts from third-party embeds but keep iframes. The thumbnail is scaled down to
    the bounds too, keeping its aspect ratio.
    """
    from html import escape

    width, height = embed_size(maxwidth, maxheight)
    thumb_url, thumb_w, thumb_h = thumbnail
    scale = min(1.0, (maxwidth or thumb_w) / thumb_w, (maxheight or thumb_h) / thumb_h)
    html = (
        f'<iframe src="{escape(embed_url)}" width="{width}" height="{height}" '
        f'title="{escape(title)}" loading="lazy" frameborder="0" scrolling="no" '
        f'style="border:0;max-width:100%;"></iframe>'
    )
    return {
        "version": "1.0",
        "type": "rich",
        "title": title,
        "author_name": author_name,
        "author_url": share_url,
        "provider_name": provider_name,
        "provider_url": provider_url,
        "cache_age": cache_age,
        "html": html,
        "width": width,
        "height": height,
        "thumbnail_url": thumb_url,
        "thumbnail_width": max(1, int(thumb_w * scale)),
        "thumbnail_height": max(1, int(thumb_h * scale)),
    }


def xml_text(value: str) -> str:
    """``value`` without the characters XML 1.0 cannot carry even escaped (most C0 controls,
    lone surrogates, U+FFFE/U+FFFF): dropped, rather than publish a document consumers reject."""
    return "".join(
        ch
        for ch in value
        if ch in "\t\n\r"
        or ("\x20" <= ch <= "\ud7ff" or "\ue000" <= ch <= "\ufffd" or ch >= "\U00010000")
    )


def oembed_xml(response: Mapping[str, str | int]) -> str:
    """The spec's XML form of an oEmbed response (``<oembed>`` with one element per field)."""
    from xml.etree import ElementTree

    root = ElementTree.Element("oembed")
    for key, value in response.items():
        ElementTree.SubElement(root, key).text = xml_text(str(value))
    return '<?xml version="1.0" encoding="utf-8" standalone="yes"?>\n' + ElementTree.tostring(
        root, encoding="unicode"
    )
