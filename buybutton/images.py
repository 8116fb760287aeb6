"""Product images: check an upload, clean it, and make the sizes the shop shows, once.

An uploaded photo is untrusted input to an image decoder, and it often carries more than
pixels: the camera's GPS position, its serial number, the editing history (EXIF, XMP). So
:func:`process_image`

- accepts JPEG, PNG and WebP only, judged by the decoded format, never the file name, and lets
  only those three of Pillow's decoders near the bytes;
- refuses an image whose header declares more than ``max_pixels`` pixels before decoding it
  (a "decompression bomb": a few KB of PNG can declare 50 000 × 50 000 pixels, 10 GB decoded);
  Pillow's own guard (:class:`PIL.Image.DecompressionBombError`, raised past twice
  ``Image.MAX_IMAGE_PIXELS``) is caught as the same error. The process-wide
  ``Image.MAX_IMAGE_PIXELS`` and warning filters are left alone (other code shares them; the
  warnings filter is not thread-safe): the explicit check runs first;
- applies the EXIF orientation (a phone's portrait photo stored sideways comes out upright);
- strips all metadata (EXIF, GPS, XMP, comments, ICC profile). An image with an ICC profile is
  first converted to sRGB with it, so its colours stay right: browsers show untagged images as
  sRGB, so after the conversion the profile is not needed;
- makes, once: a 1200×630 JPEG under 300 KB (social feeds' ``og:image``), a 600×600 JPEG
  (the widget's card), both cover-cropped around the centre, and the normalised original
  (same format, re-encoded from the cleaned pixels); transparency becomes white in the JPEGs.

Each is stored through :class:`buybutton.storage.Storage` (content-addressed keys).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import BinaryIO

from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from .errors import InvalidRequest
from .social import CARD_IMAGE_HEIGHT, CARD_IMAGE_WIDTH
from .storage import Storage, sniff_content_type

#: The only decoders that see an upload. Pillow's JPEG decoder also opens the multi-picture
#: JPEGs many phones write (format "MPO"): those are taken as JPEG (their first picture).
ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP")
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_PIXELS = 40_000_000
#: The og:image card: size, and the most bytes it may take (feeds drop heavier images).
CARD_SIZE = (CARD_IMAGE_WIDTH, CARD_IMAGE_HEIGHT)
CARD_MAX_BYTES = 300 * 1024
SQUARE_SIZE = (600, 600)
#: JPEG qualities tried, best first, until the card is under CARD_MAX_BYTES.
CARD_QUALITIES = (85, 80, 75, 70, 65, 60, 55, 50, 45, 40, 35, 30, 25, 20, 15, 10)
_CONTENT_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
_WHITE = (255, 255, 255)


@dataclass(frozen=True, slots=True)
class ImageVariant:
    """One stored size of an image: its storage ``key``, ``size`` in bytes, pixel ``width``
    and ``height``, and ``content_type``."""

    key: str
    size: int
    width: int
    height: int
    content_type: str


@dataclass(frozen=True, slots=True)
class ProcessedImage:
    """The stored sizes of one upload: ``original`` (cleaned, in the upload's format),
    ``card`` (1200×630 JPEG, ≤ 300 KB) and ``square`` (600×600 JPEG)."""

    original: ImageVariant
    card: ImageVariant
    square: ImageVariant


def _error(message: str, code: str, status: int | None = None) -> InvalidRequest:
    return InvalidRequest(message, code=code, param="image", status=status)


def _read_upload(stream: BinaryIO, max_bytes: int) -> bytes:
    """At most ``max_bytes`` of ``stream`` (the decoder needs random access, so an image is
    held in memory; ``max_bytes`` bounds that), reading no more than one byte past the limit."""
    buffer = io.BytesIO()
    while buffer.tell() <= max_bytes:
        chunk = stream.read(min(1024 * 1024, max_bytes + 1 - buffer.tell()))
        if not chunk:
            break
        buffer.write(chunk)
    if buffer.tell() > max_bytes:
        raise _error(
            f"The image is too large: at most {max_bytes // (1024 * 1024)} MB."
            if max_bytes >= 1024 * 1024
            else f"The image is too large: at most {max_bytes} bytes.",
            "image_too_large",
            status=413,
        )
    if buffer.tell() == 0:
        raise _error("The image file is empty.", "invalid_image")
    return buffer.getvalue()


def _decode(data: bytes, max_pixels: int) -> tuple[Image.Image, str]:
    """The decoded first frame of ``data`` and its format (``JPEG``, ``PNG`` or ``WEBP``)."""
    try:
        image = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
    except Image.DecompressionBombError:
        raise _error(
            f"The image has too many pixels: at most {max_pixels:,}.", "image_too_many_pixels"
        ) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        # Say "not supported" for a real image of another kind (GIF, TIFF, HEIC, SVG…), found by
        # its magic number without handing it to that decoder.
        if sniff_content_type(data[:8192]).startswith("image/"):
            raise _error(
                "This kind of image is not supported: upload a JPEG, PNG or WebP.",
                "unsupported_image_format",
            ) from None
        raise _error(
            "The file is not an image: upload a JPEG, PNG or WebP.", "invalid_image"
        ) from None
    try:
        width, height = image.size
        if width * height > max_pixels:  # checked on the header, before any pixel is decoded
            raise _error(
                f"The image has too many pixels ({width} × {height}): at most {max_pixels:,}.",
                "image_too_many_pixels",
            )
        try:
            image.load()  # the first frame of an animated PNG/WebP
        except (OSError, SyntaxError, ValueError, EOFError):
            raise _error(
                "The image is damaged or cut short: it cannot be decoded.", "invalid_image"
            ) from None
    except BaseException:
        image.close()
        raise
    fmt = image.format or ""  # Image.open always names the format it decoded
    return image, "JPEG" if fmt == "MPO" else fmt


def _to_srgb(image: Image.Image) -> Image.Image:
    """``image`` converted from its embedded ICC profile to sRGB (no profile: unchanged).
    A profile that cannot be used is ignored: the pixels are then taken as sRGB."""
    icc = image.info.get("icc_profile")
    if not icc:
        return image
    has_alpha = "A" in image.getbands()
    alpha = image.getchannel("A") if has_alpha else None
    source_mode = {"L": "L", "LA": "L", "CMYK": "CMYK"}.get(image.mode, "RGB")
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        converted = ImageCms.profileToProfile(
            image.convert(source_mode), source, ImageCms.createProfile("sRGB"), outputMode="RGB"
        )
    except (ImageCms.PyCMSError, OSError, ValueError):
        return image
    if converted is None:  # profileToProfile returns None only when told to work in place
        return image
    if alpha is not None:
        converted.putalpha(alpha)
    return converted


def _normalise(image: Image.Image) -> Image.Image:
    """Upright, sRGB, in ``RGB`` or (with transparency) ``RGBA``."""
    # In place, and converting only when the mode differs: a 40-megapixel photo is 120 MB of
    # pixels, so each copy avoided matters.
    ImageOps.exif_transpose(image, in_place=True)
    image = _to_srgb(image)
    has_alpha = "A" in image.getbands() or "transparency" in image.info
    mode = "RGBA" if has_alpha else "RGB"
    if image.mode != mode:
        image = image.convert(mode)
    if image.mode == "RGBA" and image.getchannel("A").getextrema() == (255, 255):
        image = image.convert("RGB")  # an alpha channel that hides nothing
    return image


def _on_white(image: Image.Image) -> Image.Image:
    if image.mode != "RGBA":
        return image
    background = Image.new("RGB", image.size, _WHITE)
    background.paste(image, mask=image.getchannel("A"))
    return background


def _encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    # A fresh info dict: nothing of the upload's metadata reaches the encoder, whatever
    # Pillow's savers copy from ``info`` by default.
    image.info = {}
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def _card_jpeg(image: Image.Image) -> bytes:
    """The card at the best quality of :data:`CARD_QUALITIES` under :data:`CARD_MAX_BYTES`."""
    for quality in CARD_QUALITIES:
        data = _encode(image, "JPEG", quality=quality, optimize=True, progressive=True)
        if len(data) <= CARD_MAX_BYTES:
            return data
    return data  # 1200×630 at quality 10 is far under 300 KB even for noise


def _store(storage: Storage, data: bytes, image: Image.Image, content_type: str) -> ImageVariant:
    stored = storage.save(io.BytesIO(data), max_bytes=max(len(data), 1), param="image")
    return ImageVariant(
        key=stored.key,
        size=stored.size,
        width=image.width,
        height=image.height,
        content_type=content_type,
    )


def process_image(
    stream: BinaryIO,
    *,
    storage: Storage,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> ProcessedImage:
    """Check, clean and store an uploaded product image in its three sizes.

    ``stream`` is read to its end (at most ``max_bytes`` + 1 bytes); ``max_bytes`` and
    ``max_pixels`` come from ``Settings.max_image_bytes`` and ``Settings.max_image_pixels``.

    Raises :class:`InvalidRequest` with ``param="image"`` and code ``image_too_large`` (413:
    over ``max_bytes``), ``invalid_image`` (empty, not an image, damaged, cut short),
    ``unsupported_image_format`` (an image, but not JPEG, PNG or WebP) or
    ``image_too_many_pixels`` (width × height over ``max_pixels``). Nothing is stored then.
    """
    data = _read_upload(stream, max_bytes)
    decoded, fmt = _decode(data, max_pixels)
    del data  # the pixels are decoded: the upload's bytes are no longer needed
    image = _normalise(decoded)
    del decoded
    flat = _on_white(image)
    card = ImageOps.fit(flat, CARD_SIZE, Image.Resampling.LANCZOS, centering=(0.5, 0.5))
    square = ImageOps.fit(flat, SQUARE_SIZE, Image.Resampling.LANCZOS, centering=(0.5, 0.5))
    if fmt == "JPEG":
        original_data = _encode(flat, "JPEG", quality=90, optimize=True)
        original = flat
    elif fmt == "PNG":
        original_data = _encode(image, "PNG", optimize=True)
        original = image
    else:
        original_data = _encode(image, "WEBP", quality=90, method=4)
        original = image
    return ProcessedImage(
        original=_store(storage, original_data, original, _CONTENT_TYPES[fmt]),
        card=_store(storage, _card_jpeg(card), card, "image/jpeg"),
        square=_store(
            storage,
            _encode(square, "JPEG", quality=85, optimize=True, progressive=True),
            square,
            "image/jpeg",
        ),
    )
