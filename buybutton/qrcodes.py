"""QR codes of share links, for posters, packaging and shop windows (segno does the encoding)."""

from __future__ import annotations

import io

import segno

from .errors import InvalidRequest

#: Pixels per module: 1 is a 25–45 px code, 40 a poster-sized one (~1.8 kpx).
MIN_SIZE, MAX_SIZE, DEFAULT_SIZE = 1, 40, 8
#: Quiet zone in modules; the standard asks for 4, some printers want less.
MIN_MARGIN, MAX_MARGIN, DEFAULT_MARGIN = 0, 16, 4
KINDS = {"svg": "image/svg+xml", "png": "image/png"}


def qr_code(
    data: str, kind: str, *, size: int = DEFAULT_SIZE, margin: int = DEFAULT_MARGIN
) -> tuple[bytes, str]:
    """Encode ``data`` as a QR code image: ``(body, mimetype)``.

    ``kind`` is ``svg`` or ``png``; error correction M (15 %) survives a scuffed poster while
    keeping share links in a small symbol.
    """
    if kind not in KINDS:
        raise InvalidRequest("A QR code is svg or png.", param="format")
    code = segno.make(data, error="m", micro=False)
    out = io.BytesIO()
    options: dict[str, object] = {"scale": size, "border": margin}

    if kind == "svg":
        options.update(xmldecl=False, svgclass=None, lineclass=None, title="QR code: " + data)
    code.save(out, kind=kind, **options)
    return out.getvalue(), KINDS[kind]
