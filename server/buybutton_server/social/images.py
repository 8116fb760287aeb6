"""An offer's images: its QR codes (``/p/<token>/qr.svg|png``) and its social card
(``/p/<token>/card.png``, the Open Graph image)."""

from __future__ import annotations

from flask import Response, request
from flask.typing import ResponseReturnValue
from werkzeug.wrappers import Response as WerkzeugResponse

from buybutton import qrcodes
from buybutton.card_image import render_card_image
from buybutton.errors import InvalidToken, NotFound
from buybutton.offers import Offer

from ..offers import request_offer
from ..validation import query_int
from .blueprint import bp

IMAGE_CACHE = "public, max-age=86400"


def live_offer(token: str, locale: str | None = None) -> Offer:
    """The offer of ``token`` for images: a forged token is a missing resource (404), not a bad
    request; expired or withdrawn offers stay 410."""
    try:
        return request_offer(token, locale)
    except InvalidToken as exc:
        raise NotFound(exc.message, code=exc.code, param="token") from None


def cached(response: WerkzeugResponse) -> WerkzeugResponse:
    response.add_etag()
    return response.make_conditional(request)


@bp.get("/p/<token>/qr.<any(svg, png):kind>")
def qr_code(token: str, kind: str) -> ResponseReturnValue:
    size = query_int(
        "size", qrcodes.DEFAULT_SIZE, minimum=qrcodes.MIN_SIZE, maximum=qrcodes.MAX_SIZE
    )
    margin = query_int(
        "margin", qrcodes.DEFAULT_MARGIN, minimum=qrcodes.MIN_MARGIN, maximum=qrcodes.MAX_MARGIN
    )
    offer = live_offer(token)  # no QR codes of dead or forged links
    body, mimetype = qrcodes.qr_code(offer.share_url, kind, size=size, margin=margin)
    return cached(Response(body, mimetype=mimetype, headers={"Cache-Control": IMAGE_CACHE}))


@bp.get("/p/<token>/card.png")
def card_image(token: str) -> ResponseReturnValue:
    offer = live_offer(token, "en")
    body = render_card_image(
        title=offer.product.name,
        shop=offer.merchant_name,
        price=offer.price.plain(),
        url=offer.share_url,
        sold_out=not offer.available,
    )
    return cached(
        Response(body, mimetype="image/png", headers={"Cache-Control": "public, max-age=300"})
    )
