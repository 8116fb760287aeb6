import hashlib
import io
import os
import struct
import zlib

import pytest
from PIL import Image

from buybutton.config import ConfigError, load_settings
from buybutton.errors import InvalidRequest
from buybutton.images import CARD_MAX_BYTES, ProcessedImage, process_image
from buybutton.storage import LocalStorage

MB = 1024 * 1024
RED, BLUE, GREEN, WHITE = (220, 20, 20), (20, 20, 220), (20, 200, 20), (255, 255, 255)


@pytest.fixture
def storage(tmp_path) -> LocalStorage:
    return LocalStorage(tmp_path / "files")


def encode(image: Image.Image, fmt: str, **options) -> io.BytesIO:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    out.seek(0)
    return out


def stored_image(storage, variant) -> Image.Image:
    with storage.open(variant.key) as f:
        data = f.read()
    assert hashlib.sha256(data).hexdigest() == variant.key and len(data) == variant.size
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def near(pixel, colour, tolerance=40) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel[:3], colour, strict=False))


def stored_files(storage) -> list:
    return [p for p in storage.root.rglob("*") if p.is_file()] if storage.root.exists() else []


def refused(storage, stream, **options) -> InvalidRequest:
    with pytest.raises(InvalidRequest) as caught:
        process_image(stream, storage=storage, **options)
    assert caught.value.param == "image"
    assert stored_files(storage) == []  # nothing half-stored
    return caught.value


def photo_with_orientation_6_and_gps() -> io.BytesIO:
    """A 400×200 JPEG, left half red, right half blue, whose EXIF says "rotate 90° clockwise to
    show" (orientation 6), with a GPS position, a camera serial and XMP, as a phone writes."""
    image = Image.new("RGB", (400, 200), RED)
    image.paste(BLUE, (200, 0, 400, 200))
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0xA431] = "SERIAL-1234"  # BodySerialNumber
    exif[0x8825] = {1: "N", 2: (48.0, 51.0, 29.0), 3: "E", 4: (2.0, 17.0, 40.0)}  # GPS
    return encode(
        image,
        "JPEG",
        quality=95,
        exif=exif.tobytes(),
        xmp=b'<x:xmpmeta xmlns:x="adobe:ns:meta/">secret-xmp</x:xmpmeta>',
    )


def test_exif_orientation_is_applied_and_metadata_stripped(storage):
    source = photo_with_orientation_6_and_gps()
    assert Image.open(source).getexif().get_ifd(0x8825)  # the upload does carry GPS
    source.seek(0)
    result = process_image(source, storage=storage)
    original = stored_image(storage, result.original)
    # Rotated 90° clockwise: the red left half is now the top, blue the bottom.
    assert original.size == (200, 400) == (result.original.width, result.original.height)
    assert near(original.getpixel((100, 50)), RED) and near(original.getpixel((100, 350)), BLUE)
    for variant in (result.original, result.card, result.square):
        image = stored_image(storage, variant)
        assert dict(image.getexif()) == {}
        assert not image.getexif().get_ifd(0x8825)
        assert not {"exif", "xmp", "icc_profile", "XML:com.adobe.xmp"} & set(image.info)
        with storage.open(variant.key) as f:
            raw = f.read()
        for secret in (b"Exif\x00\x00", b"SERIAL-1234", b"PhoneMaker", b"secret-xmp"):
            assert secret not in raw


def test_derivatives_have_their_sizes_and_types(storage):
    result = process_image(encode(Image.new("RGB", (1600, 1000), GREEN), "JPEG"), storage=storage)
    assert isinstance(result, ProcessedImage)
    assert (result.card.width, result.card.height, result.card.content_type) == (
        1200,
        630,
        "image/jpeg",
    )
    assert (result.square.width, result.square.height, result.square.content_type) == (
        600,
        600,
        "image/jpeg",
    )
    assert (result.original.width, result.original.height, result.original.content_type) == (
        1600,
        1000,
        "image/jpeg",
    )
    assert stored_image(storage, result.card).size == (1200, 630)
    assert stored_image(storage, result.square).size == (600, 600)
    assert result.card.size <= CARD_MAX_BYTES


def test_cover_crop_keeps_the_centre(storage):
    # A wide banner: red ends, green middle 1300 px. The card (1200×630) and the square keep
    # only the middle.
    image = Image.new("RGB", (2400, 630), RED)
    image.paste(GREEN, (550, 0, 1850, 630))
    result = process_image(encode(image, "PNG"), storage=storage)
    card = stored_image(storage, result.card)
    square = stored_image(storage, result.square)
    for picture in (card, square):
        w, h = picture.size
        for xy in ((2, 2), (w - 3, 2), (2, h - 3), (w - 3, h - 3), (w // 2, h // 2)):
            assert near(picture.getpixel(xy), GREEN), (picture.size, xy)


def test_card_quality_is_lowered_until_under_300_kb(storage):
    noise = Image.frombytes("RGB", (1200, 630), os.urandom(1200 * 630 * 3))
    assert len(encode(noise, "JPEG", quality=85).getvalue()) > CARD_MAX_BYTES  # must step down
    result = process_image(encode(noise, "PNG"), storage=storage)
    assert result.card.size <= CARD_MAX_BYTES
    assert stored_image(storage, result.card).size == (1200, 630)


def test_transparent_png_becomes_jpeg_on_white_and_the_original_keeps_its_alpha(storage):
    image = Image.new("RGBA", (800, 800), (0, 0, 0, 0))
    image.paste((200, 0, 0, 255), (300, 300, 500, 500))  # an opaque red square in the middle
    result = process_image(encode(image, "PNG"), storage=storage)
    square = stored_image(storage, result.square)
    assert square.format == "JPEG" and square.mode == "RGB"
    assert near(square.getpixel((5, 5)), WHITE, 3)  # transparent → white, not black
    assert near(square.getpixel((300, 300)), (200, 0, 0))
    card = stored_image(storage, result.card)
    assert near(card.getpixel((5, 5)), WHITE, 3)
    original = stored_image(storage, result.original)
    assert (original.format, original.mode, result.original.content_type) == (
        "PNG",
        "RGBA",
        "image/png",
    )
    assert original.getpixel((5, 5))[3] == 0


def test_palette_png_with_transparency_is_on_white(storage):
    image = Image.new("P", (300, 300), 0)
    image.putpalette([0, 0, 0, 0, 200, 0] + [0] * 762)
    image.paste(1, (100, 100, 200, 200))
    result = process_image(encode(image, "PNG", transparency=0), storage=storage)
    square = stored_image(storage, result.square)
    assert near(square.getpixel((3, 3)), WHITE, 3) and near(
        square.getpixel((300, 300)), (0, 200, 0)
    )


def test_webp_stays_webp(storage):
    result = process_image(encode(Image.new("RGB", (640, 480), BLUE), "WEBP"), storage=storage)
    assert result.original.content_type == "image/webp"
    assert stored_image(storage, result.original).format == "WEBP"


def _s15(value: float) -> bytes:
    return struct.pack(">i", round(value * 65536))


def swapped_primaries_profile() -> bytes:
    """An ICC v2 RGB display profile whose red and green primaries are swapped: a pixel stored
    as (255, 0, 0) under it is sRGB green. Built by hand (header, tag table, 8 tags)."""

    def xyz(x, y, z):
        return b"XYZ " + bytes(4) + _s15(x) + _s15(y) + _s15(z)

    text = b"red and green swapped\x00"
    desc = b"desc" + bytes(4) + struct.pack(">I", len(text)) + text + bytes(4 + 4 + 2 + 1 + 67)
    curve = b"curv" + bytes(4) + struct.pack(">IH", 1, 0x0233) + bytes(2)  # gamma 2.2
    red, green, blue = (0.4361, 0.2225, 0.0139), (0.3851, 0.7169, 0.0971), (0.1431, 0.0606, 0.7141)
    tags = [
        (b"desc", desc),
        (b"wtpt", xyz(0.9642, 1.0, 0.8249)),
        (b"rXYZ", xyz(*green)),
        (b"gXYZ", xyz(*red)),
        (b"bXYZ", xyz(*blue)),
        (b"rTRC", curve),
        (b"gTRC", curve),
        (b"bTRC", curve),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table = body = b""
    for signature, data in tags:
        data += bytes(-len(data) % 4)
        table += signature + struct.pack(">II", offset + len(body), len(data))
        body += data
    header = (
        struct.pack(">I", offset + len(body))
        + bytes(4)
        + struct.pack(">I", 0x02100000)
        + b"mntrRGB XYZ "
        + bytes(12)
        + b"acsp"
        + bytes(28)
        + _s15(0.9642)
        + _s15(1.0)
        + _s15(0.8249)
    )
    return header + bytes(128 - len(header)) + struct.pack(">I", len(tags)) + table + body


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_icc_profile_is_applied_to_srgb_then_dropped(storage, fmt):
    source = encode(
        Image.new("RGB", (300, 300), (255, 0, 0)),
        fmt,
        icc_profile=swapped_primaries_profile(),
        **({"quality": 95} if fmt != "PNG" else {}),
    )
    assert Image.open(source).info.get("icc_profile")
    source.seek(0)
    result = process_image(source, storage=storage)
    for variant in (result.original, result.card, result.square):
        image = stored_image(storage, variant)
        assert "icc_profile" not in image.info
        # Stored red under the swapped profile is green: converted, the colour stays green.
        assert near(image.getpixel((150, 150)), (0, 255, 0), 30), image.getpixel((150, 150))


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_png_and_webp_metadata_is_stripped(storage, fmt):
    from PIL import PngImagePlugin

    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0x8825] = {1: "N", 2: (48.0, 51.0, 29.0)}
    options = {"exif": exif.tobytes(), "xmp": b"<x:xmpmeta>secret-xmp</x:xmpmeta>"}
    if fmt == "PNG":
        text = PngImagePlugin.PngInfo()
        text.add_text("Comment", "secret-comment")
        options["pnginfo"] = text
    source = encode(Image.new("RGBA", (300, 200), (10, 200, 10, 255)), fmt, **options)
    assert b"PhoneMaker" in source.getvalue()
    result = process_image(source, storage=storage)
    for variant in (result.original, result.card, result.square):
        with storage.open(variant.key) as f:
            raw = f.read()
        for secret in (b"PhoneMaker", b"secret-xmp", b"secret-comment"):
            assert secret not in raw
        assert dict(stored_image(storage, variant).getexif()) == {}


def test_format_is_judged_by_the_bytes_not_the_name(storage, tmp_path):
    path = tmp_path / "photo.jpg"
    path.write_bytes(encode(Image.new("RGB", (50, 50), RED), "PNG").getvalue())
    with open(path, "rb") as f:
        assert process_image(f, storage=storage).original.content_type == "image/png"


def test_a_text_file_named_jpg_is_not_an_image(storage, tmp_path):
    path = tmp_path / "photo.jpg"
    path.write_text("I am not a photo.\n")
    with open(path, "rb") as f:
        error = refused(storage, f)
    assert error.code == "invalid_image" and error.status == 400
    assert error.message == "The file is not an image: upload a JPEG, PNG or WebP."


@pytest.mark.parametrize("fmt", ["GIF", "BMP", "TIFF"])
def test_other_image_formats_are_unsupported(storage, fmt):
    error = refused(storage, encode(Image.new("RGB", (40, 40), RED), fmt))
    assert error.code == "unsupported_image_format"


def test_empty_upload_is_invalid(storage):
    assert refused(storage, io.BytesIO(b"")).code == "invalid_image"


def test_truncated_jpeg_is_invalid(storage):
    data = encode(Image.frombytes("RGB", (400, 400), os.urandom(400 * 400 * 3)), "JPEG").getvalue()
    error = refused(storage, io.BytesIO(data[: len(data) // 2]))
    assert error.code == "invalid_image" and "cut short" in error.message


def test_image_over_the_byte_limit_is_refused(storage):
    data = encode(Image.frombytes("RGB", (600, 600), os.urandom(600 * 600 * 3)), "PNG")
    error = refused(storage, data, max_bytes=100 * 1024)
    assert (error.code, error.status) == ("image_too_large", 413)
    assert error.message == "The image is too large: at most 102400 bytes."


def png_declaring(width: int, height: int) -> bytes:
    """A valid-looking PNG of a few dozen bytes whose header declares ``width``×``height``."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body))
            + kind
            + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def test_decompression_bomb_over_the_pixel_cap_is_refused_before_decoding(storage):
    bomb = png_declaring(8000, 8000)  # 64 Mpx: over the 40 Mpx cap, under Pillow's own guard
    assert len(bomb) < 200
    error = refused(storage, io.BytesIO(bomb))
    assert error.code == "image_too_many_pixels" and "8000 × 8000" in error.message


def test_huge_bomb_caught_by_pillows_guard_is_the_same_error(storage):
    bomb = png_declaring(50000, 50000)  # 2.5 Gpx: Pillow raises DecompressionBombError itself
    with pytest.raises(Image.DecompressionBombError):
        Image.open(io.BytesIO(bomb))
    assert refused(storage, io.BytesIO(bomb)).code == "image_too_many_pixels"


def test_pixel_cap_is_a_parameter(storage):
    image = encode(Image.new("RGB", (1100, 1000), RED), "PNG")
    assert refused(storage, image, max_pixels=1_000_000).code == "image_too_many_pixels"
    image.seek(0)
    assert process_image(image, storage=storage, max_pixels=1_100_000).original.width == 1100


def test_same_upload_gives_the_same_content_hashed_keys(storage):
    data = encode(Image.new("RGB", (500, 300), GREEN), "JPEG").getvalue()
    first = process_image(io.BytesIO(data), storage=storage)
    second = process_image(io.BytesIO(data), storage=storage)
    assert first == second
    assert len(stored_files(storage)) == 3


def test_image_settings_default_and_validate(tmp_path):
    base = {"BUYBUTTON_HOME": str(tmp_path), "BUYBUTTON_SECRET_KEYS": "k"}
    settings = load_settings(base)
    assert (settings.max_image_bytes, settings.max_image_pixels) == (10 * MB, 40_000_000)
    custom = load_settings(
        {**base, "BUYBUTTON_MAX_IMAGE_BYTES": "2097152", "BUYBUTTON_MAX_IMAGE_PIXELS": "20000000"}
    )
    assert (custom.max_image_bytes, custom.max_image_pixels) == (2 * MB, 20_000_000)
    for name, value in (
        ("BUYBUTTON_MAX_IMAGE_BYTES", "10MB"),
        ("BUYBUTTON_MAX_IMAGE_PIXELS", "0"),
        ("BUYBUTTON_MAX_IMAGE_PIXELS", "90000000"),
    ):  # past Pillow's guard
        with pytest.raises(ConfigError) as caught:
            load_settings({**base, name: value})
        assert name in caught.value.message
