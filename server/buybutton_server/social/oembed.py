"""``GET /oembed``: the oEmbed 1.0 provider for share links (a rich iframe card)."""

from __future__ import annotations

from flask import Response, request
from flask.typing import ResponseReturnValue

from buybutton import social
from buybutton.errors import BuyButtonError, ErrorCode, InvalidRequest, NotFound

from ..errors import answers_json
from ..links import public_url
from ..offers import request_offer
from ..validation import query_int
from .blueprint import bp
from .share_links import offer_urls


@bp.get("/oembed")
@answers_json
def oembed() -> ResponseReturnValue:
    fmt = request.args.get("format", "json")
    if fmt not in ("json", "xml"):
        raise InvalidRequest(
            "format must be json or xml.",
            code=ErrorCode.OEMBED_FORMAT_NOT_IMPLEMENTED,
            param="format",
            status=501,
        )
    maxwidth = query_int("maxwidth", None, minimum=1, maximum=10000)  # None: no bound
    maxheight = query_int("maxheight", None, minimum=1, maximum=10000)
    token = social.token_from_share_url(request.args.get("url"), public_url())
    try:
        offer = request_offer(token)
    except BuyButtonError:
        raise NotFound(
            "That share link does not offer anything.",
            code=ErrorCode.OEMBED_URL_NOT_FOUND,
            param="url",
        ) from None
    urls = offer_urls(offer)
    shop = offer.merchant_name
    answer = social.oembed_response(
        title=f"{offer.product.name} · {offer.price_formatted}",
        share_url=urls["canonical"],
        embed_url=urls["embed"],
        provider_name=shop,
        provider_url=public_url("/"),
        author_name=shop,
        maxwidth=maxwidth,
        maxheight=maxheight,
        thumbnail=(urls["card_image"], social.CARD_IMAGE_WIDTH, social.CARD_IMAGE_HEIGHT),
    )
    headers = {"Cache-Control": "public, max-age=300", "Access-Control-Allow-Origin": "*"}
    if fmt == "xml":
        return Response(social.oembed_xml(answer), mimetype="text/xml", headers=headers)
    return answer, 200, headers
