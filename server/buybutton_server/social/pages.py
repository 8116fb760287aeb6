"""The share page (``/p/<token>``, the link a social post carries) and its iframe card
(``/embed/<token>``, what oEmbed consumers frame)."""

from __future__ import annotations

from flask import render_template, request
from flask.typing import ResponseReturnValue

from buybutton import listings, social
from buybutton.errors import BuyButtonError, RateLimited
from buybutton.offers import Offer

from ..offers import Rendered, cached_offer, request_offer
from ..security import PAGE_CSP
from .blueprint import bp
from .share_links import offer_urls

# The iframe card is meant to be framed by any site (that is what oEmbed consumers do); it has
# no form and starts no checkout inside the frame, so it is no clickjacking target.
EMBED_CSP = PAGE_CSP.replace("frame-ancestors 'none'", "frame-ancestors *")
PAGE_CACHE = "public, max-age=60"


def unavailable(exc: BuyButtonError, template: str = "unavailable.html") -> tuple[str, int]:
    # A forged or unknown token is "not found"; an expired or withdrawn one is "gone".
    status = 410 if exc.status == 410 else 404
    return render_template(template, error=exc), status


@bp.get("/p/<token>")
def share_page(token: str) -> ResponseReturnValue:
    ref = social.clean_ref(request.args.get("ref"))
    try:
        return cached_offer("share", token, lambda offer: _share(offer, token, ref), variant=ref)
    except RateLimited:
        raise  # the one 429 page, not "this offer is gone"
    except BuyButtonError as exc:
        return unavailable(exc)


def _share(offer: Offer, token: str, ref: str | None) -> Rendered:
    urls = offer_urls(offer, ref)
    images: list[tuple[str, int | None, int | None]] = [
        (urls["card_image"], social.CARD_IMAGE_WIDTH, social.CARD_IMAGE_HEIGHT)
    ]
    if offer.image_url:
        images.insert(0, (offer.image_url, None, None))
    tags = social.share_tags(
        title=offer.product.name,
        description=offer.product.description,
        url=urls["canonical"],
        site_name=offer.merchant_name,
        money=offer.price,
        available=offer.available,
        images=images,
        locale=offer.locale,
        price_text=offer.price_formatted,
        listing=listings.listing_markup(
            offer.product, offer.price, offer.return_policy, offer.claims.expires_at
        ),
    )
    page = render_template(
        "social/share.html",
        offer=offer,
        urls=urls,
        tags=tags,
        token=token,
        ref=ref,
        lang=offer.locale.replace("_", "-"),
    )
    return page.encode(), "text/html; charset=utf-8", {"Vary": "Accept-Language"}


@bp.get("/embed/<token>")
def embed_card(token: str) -> ResponseReturnValue:
    headers = {"Content-Security-Policy": EMBED_CSP, "Cache-Control": PAGE_CACHE}
    try:
        offer = request_offer(token)
    except BuyButtonError as exc:
        body, status = unavailable(exc, "social/embed_unavailable.html")
        return body, status, headers
    return (
        render_template("social/embed.html", offer=offer, urls=offer_urls(offer), token=token),
        200,
        headers,
    )
