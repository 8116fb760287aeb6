"""Social surfaces of an offer: the share page, its iframe card, oEmbed, QR codes, the social
card image and the catalog feeds. Every one is public and derived from a signed token."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, Response, render_template, request

from buybutton import feeds, merchants, qrcodes, social
from buybutton.card_image import render_card_image
from buybutton.catalog import offer_claims
from buybutton.errors import BuyButtonError, InvalidRequest, InvalidToken, NotFound
from buybutton.money import Money
from buybutton.offers import link_expiry

from .public import product_card, shopper_locale
from .runtime import absolute_url, public_url, runtime
from .security import PAGE_CSP
from .validation import query_int

bp = Blueprint("social", __name__)

# The iframe card is meant to be framed by any site (that is what oEmbed consumers do); it has
# no form and starts no checkout inside the frame, so it is no clickjacking target.
EMBED_CSP = PAGE_CSP.replace("frame-ancestors 'none'", "frame-ancestors *")
PAGE_CACHE = "public, max-age=60"
IMAGE_CACHE = "public, max-age=86400"


def load_offer(token: str, locale: str | None = None) -> tuple[dict, str]:
    """The product card of ``token`` and its merchant's name; raises the token errors."""
    rt = runtime()
    card = product_card(token, locale or shopper_locale())
    with rt.store.read() as conn:
        merchant = merchants.get_merchant(conn, rt.signer.verify_token(token).merchant_id)
    return card, merchant.name if merchant else ""


def load_live_offer(token: str, locale: str | None = None) -> tuple[dict, str]:
    """:func:`load_offer` for images: a forged token is a missing resource (404), not a bad
    request; expired or withdrawn offers stay 410."""
    try:
        return load_offer(token, locale)
    except InvalidToken as exc:
        raise NotFound(exc.message, code=exc.code, param="token") from None


def offer_urls(token: str, ref: str | None = None) -> dict[str, str]:
    share = public_url(f"/p/{token}")
    return {"canonical": share, "share": social.with_ref(share, ref),
            "buy": social.with_ref(public_url(f"/buy/{token}"), ref),
            "embed": public_url(f"/embed/{token}"), "card_image": public_url(f"/p/{token}/card.png"),
            "qr": public_url(f"/p/{token}/qr.svg"),
            "oembed_json": public_url("/oembed?" + urlencode({"url": share, "format": "json"})),
            "oembed_xml": public_url("/oembed?" + urlencode({"url": share, "format": "xml"}))}


def unavailable(exc: BuyButtonError, template: str = "unavailable.html"):
    # A forged or unknown token is "not found"; an expired or withdrawn one is "gone".
    status = 410 if exc.status == 410 else 404
    return render_template(template, error=exc), status


@bp.get("/p/<token>")
def share_page(token: str):
    try:
        card, shop = load_offer(token)
    except BuyButtonError as exc:
        return unavailable(exc)
    ref = social.clean_ref(request.args.get("ref"))
    urls = offer_urls(token, ref)
    images = [(urls["card_image"], social.CARD_IMAGE_WIDTH, social.CARD_IMAGE_HEIGHT)]
    if card["product"]["image_url"]:
        images.insert(0, (card["product"]["image_url"], None, None))
    tags = social.share_tags(
        title=card["product"]["name"], description=card["product"]["description"],
        url=urls["canonical"], site_name=shop, money=Money(card["amount"], card["currency"]),
        available=card["available"], images=images, locale=card["locale"],
        price_text=card["price_formatted"])
    return (render_template("share.html", card=card, shop=shop, urls=urls, tags=tags, token=token,
                            ref=ref, lang=card["locale"].replace("_", "-")),
            200, {"Cache-Control": PAGE_CACHE, "Vary": "Accept-Language"})


@bp.get("/embed/<token>")
def embed_card(token: str):
    headers = {"Content-Security-Policy": EMBED_CSP, "Cache-Control": PAGE_CACHE}
    try:
        card, shop = load_offer(token)
    except BuyButtonError as exc:
        body, status = unavailable(exc, "embed_unavailable.html")
        return body, status, headers
    return render_template("embed.html", card=card, shop=shop, urls=offer_urls(token),
                           token=token), 200, headers


@bp.get("/oembed")
def oembed():
    fmt = request.args.get("format", "json")
    if fmt not in ("json", "xml"):
        raise InvalidRequest("format must be json or xml.", code="oembed_format_not_implemented",
                             param="format", status=501)
    maxwidth = query_int("maxwidth", None, minimum=1, maximum=10000)  # None: no bound
    maxheight = query_int("maxheight", None, minimum=1, maximum=10000)
    token = social.token_from_share_url(request.args.get("url"), public_url())
    try:
        card, shop = load_offer(token)
    except BuyButtonError:
        raise NotFound("That share link does not offer anything.", code="oembed_url_not_found",
                       param="url") from None
    urls = offer_urls(token)
    answer = social.oembed_response(
        title=f"{card['product']['name']} · {card['price_formatted']}", share_url=urls["canonical"],
        embed_url=urls["embed"], provider_name=shop, provider_url=public_url("/"),
        author_name=shop, maxwidth=maxwidth, maxheight=maxheight,
        thumbnail=(urls["card_image"], social.CARD_IMAGE_WIDTH, social.CARD_IMAGE_HEIGHT))
    headers = {"Cache-Control": "public, max-age=300", "Access-Control-Allow-Origin": "*"}
    if fmt == "xml":
        return Response(social.oembed_xml(answer), mimetype="text/xml", headers=headers)
    return answer, 200, headers


@bp.get("/p/<token>/qr.<any(svg, png):kind>")
def qr_code(token: str, kind: str):
    size = query_int("size", qrcodes.DEFAULT_SIZE, minimum=qrcodes.MIN_SIZE,
                     maximum=qrcodes.MAX_SIZE)
    margin = query_int("margin", qrcodes.DEFAULT_MARGIN, minimum=qrcodes.MIN_MARGIN,
                       maximum=qrcodes.MAX_MARGIN)
    load_live_offer(token)  # no QR codes of dead or forged links
    body, mimetype = qrcodes.qr_code(public_url(f"/p/{token}"), kind, size=size, margin=margin)
    return cached(Response(body, mimetype=mimetype, headers={"Cache-Control": IMAGE_CACHE}))


@bp.get("/p/<token>/card.png")
def card_image(token: str):
    card, shop = load_live_offer(token, "en")
    body = render_card_image(title=card["product"]["name"], shop=shop,
                             price=Money(card["amount"], card["currency"]).plain(),
                             url=public_url(f"/p/{token}"), sold_out=not card["available"])
    return cached(Response(body, mimetype="image/png",
                           headers={"Cache-Control": "public, max-age=300"}))


def cached(response: Response) -> Response:
    response.add_etag()
    return response.make_conditional(request)


@bp.get("/v1/feeds/<merchant_id>.<any(csv, xml):kind>")
def catalog_feed(merchant_id: str, kind: str):
    rt = runtime()
    with rt.store.read() as conn:
        feed = feeds.build_feed(
            conn, rt.signer, merchant_id, share_url=lambda token: public_url(f"/p/{token}"),
            image_url=lambda product, token: (absolute_url(product.image_url)
                                              or public_url(f"/p/{token}/card.png")),
            link_ttl=rt.settings.feed_link_ttl_seconds, now=rt.clock())
    headers = {"Cache-Control": "public, max-age=300"}
    if kind == "csv":
        return Response(feeds.feed_csv(feed), mimetype="text/csv", headers=headers)
    return Response(feeds.feed_rss(feed, link=public_url("/")), mimetype="application/rss+xml",
                    headers=headers)


def personal_share_link(order, product) -> str | None:
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
    return social.with_ref(public_url(f"/p/{token}"), tag)
