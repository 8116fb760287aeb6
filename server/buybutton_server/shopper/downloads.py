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
from sqlalchemy import Connection

from buybutton import digital
from buybutton.digital import Delivery, DownloadPolicy
from buybutton.errors import BuyButtonError, ErrorCode, NotFound, RangeNotSatisfiable
from buybutton.storage import content_range, parse_range

from ..errors import error_response, wants_json
from ..links import request_links
from ..offers import shopper_locale
from ..runtime import runtime
from .blueprint import bp

#: What the refusal page says, by error code and language: (heading, explanation).
REFUSALS: dict[str, dict[str, tuple[str, str]]] = {
    ErrorCode.DOWNLOAD_NOT_PAID: {
        "en": (
            "Your download is not ready yet",
            "The payment for this order is not confirmed yet. The download opens as soon as it "
            "is: come back to this link in a moment.",
        ),
        "fr": (
            "Votre téléchargement n’est pas encore prêt",
            "Le paiement de cette commande n’est pas encore confirmé. Le téléchargement "
            "s’ouvrira dès qu’il le sera : revenez sur ce lien dans un instant.",
        ),
    },
    ErrorCode.DOWNLOAD_REFUNDED: {
        "en": (
            "This download was withdrawn",
            "This order was refunded, so its file can no longer be downloaded.",
        ),
        "fr": (
            "Ce téléchargement a été retiré",
            "Cette commande a été remboursée : son fichier ne peut plus être téléchargé.",
        ),
    },
    ErrorCode.DOWNLOAD_EXPIRED: {
        "en": (
            "This download link has expired",
            "Download links work for a limited time after the payment. Contact the seller if "
            "you still need the file.",
        ),
        "fr": (
            "Ce lien de téléchargement a expiré",
            "Les liens de téléchargement ne fonctionnent qu’un temps après le paiement. "
            "Contactez le vendeur si vous avez encore besoin du fichier.",
        ),
    },
    ErrorCode.DOWNLOAD_LIMIT_REACHED: {
        "en": (
            "This download link has been used up",
            "It was used as many times as it allows. Contact the seller if you still need the "
            "file.",
        ),
        "fr": (
            "Ce lien de téléchargement est épuisé",
            "Il a servi autant de fois qu’il le permet. Contactez le vendeur si vous avez "
            "encore besoin du fichier.",
        ),
    },
    ErrorCode.DOWNLOAD_NOT_FOUND: {
        "en": (
            "This download link is not valid",
            "Check that you opened the whole link from your receipt or your order page.",
        ),
        "fr": (
            "Ce lien de téléchargement n’est pas valide",
            "Vérifiez que vous avez ouvert le lien complet depuis votre reçu ou votre page de "
            "commande.",
        ),
    },
    ErrorCode.FILE_NOT_FOUND: {
        "en": (
            "This file is no longer available",
            "The seller has removed it. Contact them for a copy.",
        ),
        "fr": (
            "Ce fichier n’est plus disponible",
            "Le vendeur l’a retiré. Contactez-le pour en obtenir une copie.",
        ),
    },
}
#: The order page's download section and the refusal page's link back, by language.
TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "heading": "Your download",
        "download": "Download",
        "left": "{left} of {allowed} downloads left, until {until}.",
        "license": "Licence key",
        "back": "Back to your order",
        "expired": "The download link has expired.",
        "limit_reached": "The download link has been used up.",
        "refunded": "This order was refunded: its download was withdrawn.",
    },
    "fr": {
        "heading": "Votre téléchargement",
        "download": "Télécharger",
        "left": "Il reste {left} téléchargement(s) sur {allowed}, jusqu’au {until}.",
        "license": "Clé de licence",
        "back": "Retour à votre commande",
        "expired": "Le lien de téléchargement a expiré.",
        "limit_reached": "Le lien de téléchargement est épuisé.",
        "refunded": "Cette commande a été remboursée : son téléchargement a été retiré.",
    },
}


@dataclass(frozen=True, slots=True)
class DeliveryView:
    """An order's :class:`~buybutton.digital.Delivery` with its words, for a template."""

    delivery: Delivery
    texts: dict[str, str]
    file_size: str
    left: str


def order_delivery(conn: Connection, order_id: str, locale: str) -> DeliveryView | None:
    """The download link and licence key of an order (links on this server), in the words of
    ``locale``'s language; ``None`` when the order has nothing to deliver (yet)."""
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
    texts = TEXTS["fr" if locale.split("_")[0] == "fr" else "en"]
    until = format_date(datetime.fromtimestamp(delivery.expires_at, UTC), "long", locale=locale)
    return DeliveryView(
        delivery=delivery,
        texts=texts,
        file_size=format_size(delivery.file.size, locale) if delivery.file else "",
        left=texts["left"].format(
            left=delivery.downloads_left, allowed=delivery.downloads_allowed, until=until
        ),
    )


def format_size(size: int, locale: str) -> str:
    """``2.4 MB``, ``512 KB``, ``900 bytes`` (decimal units, as file managers show them)."""
    for unit, factor in (("GB", 10**9), ("MB", 10**6), ("KB", 10**3)):
        if size >= factor:
            return f"{format_decimal(size / factor, '#,##0.#', locale=locale)} {unit}"
    return f"{size} bytes"


def shopper_language() -> str:
    """``"fr"`` for a French-speaking shopper, else ``"en"`` (the languages of these pages)."""
    return "fr" if shopper_locale().split("_")[0] == "fr" else "en"


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
def download(token: str) -> Response | tuple[object, int, dict[str, str]]:
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
        if exc.code not in REFUSALS or wants_json():
            raise
        return refusal_page(exc, order_id)


def refusal_page(exc: BuyButtonError, order_id: str | None) -> tuple[str, int, dict[str, str]]:
    """The page saying why a download is refused, with the status of the reason."""
    lang = shopper_language()
    heading, explanation = REFUSALS[exc.code][lang]
    order_url = None
    if order_id is not None:
        order_url = url_for("shopper.order_page", ref=runtime().signer.sign_order_ref(order_id))
    page = render_template(
        "shopper/download_refused.html",
        lang=lang,
        code=exc.code,
        heading=heading,
        explanation=explanation,
        order_url=order_url,
        back=TEXTS[lang]["back"],
    )
    return page, exc.status, dict(_PRIVATE)
