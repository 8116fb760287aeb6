"""QR codes of share links, decoded back with a real decoder (zxing-cpp)."""

from __future__ import annotations

import io

import pytest
import zxingcpp
from PIL import Image

BASE = "http://shop.test"


@pytest.fixture
def database_url(sqlite_url):
    """Rendering, not storage, is under test here: SQLite only (feeds and referrals, which
    query, run on PostgreSQL too)."""
    return sqlite_url


def decode_png(data: bytes) -> list[str]:
    image = Image.open(io.BytesIO(data)).convert("L")
    return [result.text for result in zxingcpp.read_barcodes(image)]


@pytest.mark.parametrize("query", ["", "?size=3&margin=4", "?size=20&margin=1"])
def test_png_qr_decodes_to_the_share_url(client, make_product, make_token, query):
    token = make_token(make_product())
    response = client.get(f"/p/{token}/qr.png{query}")
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert decode_png(response.data) == [f"{BASE}/p/{token}"]


def test_svg_qr_renders_and_decodes_to_the_share_url(client, make_product, make_token):
    """Rasterize the SVG's modules (segno writes one path of unit-height runs) and decode."""
    import re

    token = make_token(make_product())
    response = client.get(f"/p/{token}/qr.svg?size=4&margin=4")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    svg = response.get_data(as_text=True)
    width = int(re.search(r'width="(\d+)"', svg).group(1))
    scale = int(re.search(r"scale\((\d+)\)", svg).group(1))
    path = re.search(r' d="([^"]+)"', svg).group(1)
    modules = width // scale
    image = Image.new("L", (modules, modules), 255)
    x = y = 0.0
    for command, a, b in re.findall(r"([Mmhv])(-?[\d.]+)(?: (-?[\d.]+))?", path):
        if command == "M":
            x, y = float(a), float(b)
        elif command == "m":
            x, y = x + float(a), y + float(b)
        elif command == "h":
            for column in range(int(x), int(x + float(a))):
                image.putpixel((column, int(y)), 0)
            x += float(a)
    big = image.resize((modules * 8, modules * 8), Image.NEAREST)
    out = io.BytesIO()
    big.save(out, format="PNG")
    assert decode_png(out.getvalue()) == [f"{BASE}/p/{token}"]
    assert width == modules * 4


def test_qr_size_changes_the_image(client, make_product, make_token):
    token = make_token(make_product())
    small = Image.open(io.BytesIO(client.get(f"/p/{token}/qr.png?size=2&margin=0").data))
    large = Image.open(io.BytesIO(client.get(f"/p/{token}/qr.png?size=10&margin=0").data))
    assert large.size[0] == small.size[0] * 5


@pytest.mark.parametrize(
    "query, param",
    [
        ("size=0", "size"),
        ("size=41", "size"),
        ("size=abc", "size"),
        ("size=-1", "size"),
        ("margin=17", "margin"),
        ("margin=1.5", "margin"),
        ("size=99999999999999999999", "size"),
        ("size=%C2%B2", "size"),  # "²": a digit to str.isdigit, not to int()
        ("size=²", "size"),
        ("margin=" + "9" * 5000, "margin"),
    ],
)
def test_qr_parameters_out_of_bounds_are_400(client, make_product, make_token, query, param):
    token = make_token(make_product())
    response = client.get(f"/p/{token}/qr.svg?{query}")
    assert response.status_code == 400
    assert f"{param} must be an integer from" in response.get_data(as_text=True)


def test_qr_is_cacheable(client, make_product, make_token):
    token = make_token(make_product())
    response = client.get(f"/p/{token}/qr.svg")
    assert "max-age=86400" in response.headers["Cache-Control"]
    assert "public" in response.headers["Cache-Control"]
    again = client.get(f"/p/{token}/qr.svg", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_qr_of_forged_token_is_refused(client):
    assert client.get("/p/forged/qr.svg").status_code == 404


def test_token_response_qr_url_serves_a_qr(client, merchant, make_product):
    product = make_product()
    offer = client.post(f"/v1/products/{product.id}/tokens", headers=merchant.headers).json
    path = offer["qr_url"].removeprefix(BASE)
    assert client.get(path).mimetype == "image/svg+xml"
    assert decode_png(client.get(path.replace(".svg", ".png")).data) == [offer["share_url"]]


def test_qr_of_expired_offer_is_410(client, make_product, signer):
    from buybutton import catalog

    token = signer.issue_token(catalog.offer_claims(make_product(), expires_at=1))
    assert client.get(f"/p/{token}/qr.png").status_code == 410
