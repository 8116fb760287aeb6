"""The 1200×630 image a feed shows when it unfurls a share link (``/p/TOKEN/card.png``).

Social feeds want an image of a known size; a merchant's own photo has an unknown one (and
may be missing), so the share page also offers this card: name, price, shop and a QR code of
the link. Drawn with Pillow's bundled font: no files, no network.
"""

from __future__ import annotations

import io

import segno
from PIL import Image, ImageDraw, ImageFont

from .social import CARD_IMAGE_HEIGHT, CARD_IMAGE_WIDTH

_BACKGROUND = (249, 250, 251)
_INK = (17, 24, 39)
_MUTED = (107, 114, 128)
_ACCENT = (26, 86, 219)
_TEXT_WIDTH = 660  # from x=80 to the QR code's left edge, with a gap


Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


def _font(size: int) -> Font:
    return ImageFont.load_default(size=size)


def _fit_lines(
    draw: ImageDraw.ImageDraw, text: str, font: Font, pixels: int, max_lines: int
) -> list[str]:
    """Wrap ``text`` to lines no wider than ``pixels``; ellipsize past ``max_lines``."""
    lines: list[str] = []
    for word in " ".join(text.split()).split(" "):
        candidate = f"{lines[-1]} {word}" if lines else word
        if lines and draw.textlength(candidate, font=font) <= pixels:
            lines[-1] = candidate
            continue
        while draw.textlength(word, font=font) > pixels:  # one very long word: hard-break it
            low, high = 1, len(word) - 1  # the longest prefix that fits, by bisection
            while low < high:
                middle = (low + high + 1) // 2
                if draw.textlength(word[:middle], font=font) <= pixels:
                    low = middle
                else:
                    high = middle - 1
            lines.append(word[:low])
            word = word[low:]
            if len(lines) > max_lines:
                break
        lines.append(word)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        while lines[-1] and draw.textlength(lines[-1] + "…", font=font) > pixels:
            lines[-1] = lines[-1][:-1]
        lines[-1] = lines[-1].rstrip() + "…"
    return lines or [""]


def render_card_image(*, title: str, price: str, shop: str, url: str, sold_out: bool) -> bytes:
    """A PNG of the offer's card; ``url`` goes into the QR code on its right.

    ``price`` should be the plain form (``12.00 EUR``): the bundled font has Latin letters
    and digits but not every currency sign or script, so free text may show as boxes.
    """
    image = Image.new("RGB", (CARD_IMAGE_WIDTH, CARD_IMAGE_HEIGHT), _BACKGROUND)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, 24, CARD_IMAGE_HEIGHT), fill=_ACCENT)
    draw.text(
        (80, 70),
        _fit_lines(draw, shop[:200], _font(36), _TEXT_WIDTH, 1)[0],
        font=_font(36),
        fill=_MUTED,
    )
    y = 140
    title_font = _font(60)
    for line in _fit_lines(draw, title[:500], title_font, _TEXT_WIDTH, 3):
        draw.text((80, y), line, font=title_font, fill=_INK)
        y += 76
    draw.text((80, max(y + 30, 420)), price, font=_font(72), fill=_ACCENT)
    draw.text(
        (80, 540), "Sold out" if sold_out else "Buy in one click", font=_font(32), fill=_MUTED
    )
    qr = segno.make(url, error="m", micro=False)
    buf = io.BytesIO()
    qr.save(buf, kind="png", scale=8, border=2)
    code = Image.open(io.BytesIO(buf.getvalue())).convert("RGB")
    side = min(360, code.width)
    code = code.resize((side, side), Image.Resampling.NEAREST)
    image.paste(code, (CARD_IMAGE_WIDTH - side - 70, (CARD_IMAGE_HEIGHT - side) // 2))
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
