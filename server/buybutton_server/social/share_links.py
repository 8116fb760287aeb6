"""The links of an offer's social surfaces, and the personal share link of a shopper's order."""

from __future__ import annotations

from buybutton import social
from buybutton.catalog import Product, offer_claims
from buybutton.offers import Offer, link_expiry
from buybutton.orders import Order

from ..links import request_links
from ..runtime import runtime


def offer_urls(offer: Offer, ref: str | None = None) -> dict[str, str]:
    """Every URL a share page or card links to; ``ref`` tags the share and buy links."""
    links = request_links()
    share = offer.share_url
    return {
        "canonical": share,
        "share": links.share_url(offer.token, ref),
        "buy": links.buy_url(offer.token, ref),
        "embed": links.embed_url(offer.token),
        "card_image": links.card_image_url(offer.token),
        "qr": links.qr_url(offer.token),
        "oembed_json": links.oembed_url(share, "json"),
        "oembed_xml": links.oembed_url(share, "xml"),
    }


def personal_share_link(order: Order, product: Product) -> str | None:
    """The share link a shopper can pass on after buying: a fresh offer of the same product,
    tagged with a referral tag derived from the order (it does not reveal who bought). It
    expires like a feed link (``BUYBUTTON_SHARE_LINK_TTL_SECONDS``): an order page is no way to
    mint an offer that never lapses."""
    if not product.active or product.deleted_at is not None:
        return None
    rt = runtime()
    expires_at = link_expiry(rt.clock(), rt.settings.share_link_ttl_seconds)
    token = rt.signer.issue_token(offer_claims(product, expires_at=expires_at))
    # The oldest key: adding a key (rotation) keeps tags already shared the same.
    tag = social.referral_tag(order.id, rt.settings.secret_keys[0])
    return request_links().share_url(token, tag)
