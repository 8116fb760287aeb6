"""``/downloads/<token>``: a paid order's file, and the page that says why it is refused.

``GET`` counts one download (:func:`buybutton.digital.claim_download`) and streams the file from
storage, whole (200) or the one byte range asked (206; 416 with ``Content-Range: bytes */size``
past its end; ``If-Range`` with another ETag gets the whole file). ``HEAD`` answers the same
headers and counts nothing. The answer is ``attachment`` under the product's file name (an ASCII
fallback and RFC 6266's ``filename*``), ``private, no-store`` (no shared cache keeps a paid
file), ``Referrer-Policy: no-referrer`` (the link is the key) and never indexed.

Refused (before payment, after a refund, expired, used up, not ours, the file removed): a small
page in the shopper's language (English or French) that says why and links back to the order,
with the status of the reason (403, 410, 404); JSON for clients that prefer it.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote

from babel.dates import format_date
from babel.numbers import format_decimal
from flask import Response, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import Connection

from buybutton import digital, merchants, orders
from buybutton.digital import Delivery, DownloadPolicy
from buybutton.errors import BuyButtonError, ErrorCode, NotFound, RangeNotSatisfiable
from buybutton.storage import content_range, parse_range

from ..errors import error_response, wants_json
from ..links import request_links
from ..runtime import runtime
from .blueprint import bp
from .i18n import PageText, page_text

#: The codes a download is refused with, each explained by :func:`refusal_text`.
REFUSED = frozenset(
    {
        ErrorCode.DOWNLOAD_NOT_PAID,
        ErrorCode.DOWNLOAD_REFUNDED,
        ErrorCode.DOWNLOAD_EXPIRED,
        ErrorCode.DOWNLOAD_LIMIT_REACHED,
        ErrorCode.DOWNLOAD_NOT_FOUND,
        ErrorCode.FILE_NOT_FOUND,
    }
)


def refusal_text(code: str, t: PageText) -> tuple[str, str]:
    """The refusal page's heading and explanation for ``code``, in ``t``'s language."""
    texts: dict[str, tuple[str, str]] = {
        ErrorCode.DOWNLOAD_NOT_PAID: (
            t.gettext("Your download is not ready yet"),
            t.gettext(
                "The payment for this order is not confirmed yet. The download opens as soon "
                "as it is: come back to this link in a moment."
            ),
        ),
        ErrorCode.DOWNLOAD_REFUNDED: (
            t.gettext("This download was withdrawn"),
            t.gettext("This order was refunded, so its file can no longer be downloaded."),
        ),
        ErrorCode.DOWNLOAD_EXPIRED: (
            t.gettext("This download link has expired"),
            t.gettext(
                "Download links work for a limited time after the payment. Contact the seller "
                "if you still need the file."
            ),
        ),
        ErrorCode.DOWNLOAD_LIMIT_REACHED: (
            t.gettext("This download link has been used up"),
            t.gettext(
                "It was used as many times as it allows. Contact the seller if you still need "
                "the file."
            ),
        ),
        ErrorCode.DOWNLOAD_NOT_FOUND: (
            t.gettext("This download link is not valid"),
            t.gettext("Check that you opened the whole link from your receipt or your order page."),
        ),
        ErrorCode.FILE_NOT_FOUND: (
            t.gettext("This file is no longer available"),
            t.gettext("The seller has removed it. Contact them for a copy."),
        ),
    }
    return texts[code]


@dataclass(frozen=True, slots=True)
class DeliveryView:
    """An order's :class:`~buybutton.digital.Delivery`, with its size and date in the
    shopper's words, for the order page's template (``shopper/order_delivery.html``)."""

    delivery: Delivery
    file_size: str
    until: str


def order_delivery(conn: Connection, order_id: str, t: PageText) -> DeliveryView | None:
    """The download link and licence key of an order (links on this server), worded for
    ``t``'s locale; ``None`` when the order has nothing to deliver (yet)."""
    rt = runtime()
    delivery = digital.order_delivery(
        conn,
        order_id,
        signer=rt.signer,
        links=request_links(),
        policy=DownloadPolicy.from_settings(rt.settings),
        now=rt.clock(),
    )
    if delivery is None:
        return None
    return DeliveryView(
        delivery=delivery,
        file_size=format_size(delivery.file.size, t.locale) if delivery.file else "",
        until=format_date(
            datetime.fromtimestamp(delivery.expires_at, UTC), "long", locale=t.locale
        ),
    )


def format_size(size: int, locale: str) -> str:
    """``2.4 MB``, ``512 KB``, ``900 bytes`` (decimal units, as file managers show them)."""
    for unit, factor in (("GB", 10**9), ("MB", 10**6), ("KB", 10**3)):
        if size >= factor:
            return f"{format_decimal(size / factor, '#,##0.#', locale=locale)} {unit}"
    return f"{size} bytes"


def attachment(name: str) -> str:
    """A ``Content-Disposition`` that saves the file as ``name``: an ASCII ``filename`` (accents
    dropped, anything unsafe as ``_``) and, when that differs, the exact UTF-8 ``filename*``."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    ascii_name = (
        "".join(ch if ch.isalnum() or ch in " ._-()[]+,=@" else "_" for ch in ascii_name).strip()
        or "download"
    )
    value = f'attachment; filename="{ascii_name}"'
    if ascii_name != name:
        value += f"; filename*=UTF-8''{quote(name, safe='')}"
    return value


_PRIVATE = {
    "Cache-Control": "private, no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
}


@bp.route("/downloads/<token>", methods=["GET", "HEAD"])
def download(token: str) -> ResponseReturnValue:
    rt = runtime()
    order_id = rt.signer.verify_download(token)
    policy = DownloadPolicy.from_settings(rt.settings)
    try:
        if order_id is None:
            raise NotFound("This download link is not valid.", code=ErrorCode.DOWNLOAD_NOT_FOUND)
        with rt.store.read() as conn:
            file = digital.check_download(conn, order_id, policy, now=rt.clock()).file
        etag = f'"{file.key}"'
        if_range = request.headers.get("If-Range")
        span = parse_range(request.headers.get("Range"), file.size)
        if span is not None and if_range is not None and if_range != etag:
            span = None  # the client holds another version's part: send the whole file
        start, end = span if span is not None else (0, file.size - 1)
        headers = {
            **_PRIVATE,
            "Content-Disposition": attachment(file.name),
            "Accept-Ranges": "bytes",
            "ETag": etag,
            "Content-Length": str(end - start + 1),
        }
        if span is not None:
            headers["Content-Range"] = content_range(start, end, file.size)
        status = 206 if span is not None else 200
        if request.method == "HEAD":
            return Response(status=status, headers=headers, mimetype=file.type)
        with rt.store.transaction() as conn:
            digital.claim_download(conn, order_id, policy, now=rt.clock())
            # Opened in the counting transaction: a file missing from storage is not counted.
            body = rt.storage.read_range(file.key, start, end)
        return Response(
            body, status=status, headers=headers, mimetype=file.type, direct_passthrough=True
        )
    except RangeNotSatisfiable as exc:
        answer, code = error_response(exc.status, exc.type, exc.code, exc.message, exc.param)
        return answer, code, {**_PRIVATE, "Content-Range": f"bytes */{exc.size}"}
    except BuyButtonError as exc:
        if exc.code not in REFUSED or wants_json():
            raise
        return refusal_page(exc, order_id)


def refusal_page(exc: BuyButtonError, order_id: str | None) -> tuple[str, int, dict[str, str]]:
    """The page saying why a download is refused, with the status of the reason."""
    t = page_text(request.args.get("locale") or request.accept_languages.best)
    heading, explanation = refusal_text(exc.code, t)
    order_url = shop = None
    if order_id is not None:
        rt = runtime()
        order_url = url_for("shopper.order_page", ref=rt.signer.sign_order_ref(order_id))
        with rt.store.read() as conn:  # the shop to write to about it
            shop = merchants.get_merchant(conn, orders.get_order(conn, order_id).merchant_id)
    page = render_template(
        "shopper/download_refused.html",
        lang=t.language,
        _=t.gettext,
        code=exc.code,
        heading=heading,
        explanation=explanation,
        order_url=order_url,
        shop_name=shop.name if shop else None,
        support_email=shop.support_email if shop else None,
        order_id=order_id,
    )
    return page, exc.status, dict(_PRIVATE)
