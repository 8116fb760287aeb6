"""An offer's images: its QR codes (``/p/<token>/qr.svg|png``) and its social card
(``/p/<token>/card.png``, the Open Graph image); and uploaded product images
(``/images/<sha256>.jpg``), cached for a year since their URL changes with their bytes."""

from __future__ import annotations

from flask import Response, request, send_file

from buybutton import product_images, qrcodes
from buybutton.card_image import render_card_image
from buybutton.errors import ErrorCode, InvalidToken, NotFound
from buybutton.offers import Offer
from buybutton.storage import LocalStorage

from ..offers import request_offer
from ..runtime import runtime
from ..validation import query_int
from .blueprint import bp

IMAGE_CACHE = "public, max-age=86400"
#: Uploaded images are content-addressed: a URL always names the same bytes.
UPLOAD_CACHE = "public, max-age=31536000, immutable"


def live_offer(token: str, locale: str | None = None) -> Offer:
    """The offer of ``token`` for images: a forged token is a missing resource (404), not a bad
    request; expired or withdrawn offers stay 410."""
    try:
        return request_offer(token, locale)
    except InvalidToken as exc:
        raise NotFound(exc.message, code=exc.code, param="token") from None


def cached(response: Response) -> Response:
    response.add_etag()
    return response.make_conditional(request)


@bp.get("/p/<token>/qr.<any(svg, png):kind>")
def qr_code(token: str, kind: str):
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
def card_image(token: str):
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


@bp.get("/images/<key>.<any(jpg, png, webp):ext>")
def product_image(key: str, ext: str):
    rt = runtime()
    with rt.store.read() as conn:
        image = product_images.served_image(conn, key) if len(key) == 64 else None
    if image is None or image.path != request.path:
        raise NotFound("No such image.", code=ErrorCode.FILE_NOT_FOUND)
    stream = LocalStorage.for_settings(rt.settings).open(image.key)
    response = send_file(stream, mimetype=image.content_type, etag=image.key, conditional=True)
    response.headers["Cache-Control"] = UPLOAD_CACHE
    return response
