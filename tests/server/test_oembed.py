"""oEmbed 1.0 provider (/oembed) and the iframe card it embeds (/embed/TOKEN)."""

from __future__ import annotations

from urllib.parse import urlsplit
from xml.etree import ElementTree

import pytest
from bs4 import BeautifulSoup

BASE = "http://shop.test"


@pytest.fixture
def database_url(sqlite_url):
    """Rendering, not storage, is under test here: SQLite only (feeds and referrals, which
    query, run on PostgreSQL too)."""
    return sqlite_url


def assert_valid_rich_response(body: dict) -> None:
    """The oEmbed 1.0 spec's rules for a ``rich`` response (section 2.3.4)."""
    assert body["version"] == "1.0" and body["type"] == "rich"
    assert isinstance(body["html"], str) and body["html"]
    assert type(body["width"]) is int and type(body["height"]) is int
    assert body["width"] > 0 and body["height"] > 0
    thumbnail_fields = {"thumbnail_url", "thumbnail_width", "thumbnail_height"}
    # "If this parameter is present, thumbnail_width and thumbnail_height must also be present."
    assert thumbnail_fields <= body.keys() or not thumbnail_fields & body.keys()
    for optional in ("title", "author_name", "provider_name", "provider_url"):
        assert isinstance(body.get(optional, ""), str)


def path_and_query(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def test_oembed_discovery_from_share_page_returns_spec_response(client, make_product, make_token):
    token = make_token(make_product(name='Mug "<i>"', image_url="https://img.test/m.jpg"))
    soup = BeautifulSoup(client.get(f"/p/{token}").get_data(as_text=True), "html5lib")
    link = soup.find("link", rel="alternate", type="application/json+oembed")
    response = client.get(path_and_query(link["href"]))
    assert response.status_code == 200 and response.mimetype == "application/json"
    body = response.json
    assert_valid_rich_response(body)
    assert body["title"] == 'Mug "<i>" · €12.00'
    assert body["provider_name"] == "Test Shop" and body["provider_url"] == f"{BASE}/"
    assert (body["thumbnail_url"], body["thumbnail_width"], body["thumbnail_height"]) == (
        f"{BASE}/p/{token}/card.png",
        1200,
        630,
    )
    # The html is one iframe of the card page, sized as the response says, title escaped.
    frame = BeautifulSoup(body["html"], "html5lib").find_all("iframe")
    assert len(frame) == 1
    assert frame[0]["src"] == f"{BASE}/embed/{token}"
    assert (int(frame[0]["width"]), int(frame[0]["height"])) == (body["width"], body["height"])
    assert frame[0]["title"] == body["title"]
    assert "<i>" not in body["html"]
    # The card it frames is live.
    assert client.get(path_and_query(frame[0]["src"])).status_code == 200


@pytest.mark.parametrize("maxwidth, maxheight", [(300, None), (250, 260), (1000, 2000), (200, 240)])
def test_oembed_honors_maxwidth_and_maxheight(
    client, make_product, make_token, maxwidth, maxheight
):
    token = make_token(make_product())
    query = f"url={BASE}/p/{token}&maxwidth={maxwidth}" + (
        f"&maxheight={maxheight}" if maxheight else ""
    )
    body = client.get(f"/oembed?{query}").json
    assert_valid_rich_response(body)
    assert body["width"] <= maxwidth and body["thumbnail_width"] <= maxwidth
    if maxheight:
        assert body["height"] <= maxheight and body["thumbnail_height"] <= maxheight
    assert (
        f'width="{body["width"]}"' in body["html"] and f'height="{body["height"]}"' in body["html"]
    )


def test_oembed_too_small_bounds_are_404(client, make_product, make_token):
    token = make_token(make_product())
    response = client.get(f"/oembed?url={BASE}/p/{token}&maxwidth=50")
    assert response.status_code == 404
    assert response.json["error"]["code"] == "oembed_too_small"


@pytest.mark.parametrize("value", ["0", "-5", "wide", "1e3"])
def test_oembed_rejects_bad_maxwidth_with_400(client, make_product, make_token, value):
    token = make_token(make_product())
    response = client.get(f"/oembed?url={BASE}/p/{token}&maxwidth={value}")
    assert response.status_code == 400
    assert response.json["error"]["param"] == "maxwidth"


def test_oembed_xml_format(client, make_product, make_token):
    token = make_token(make_product(name="Mug & <co>"))
    response = client.get(f"/oembed?url={BASE}/p/{token}&format=xml&maxwidth=300")
    assert response.status_code == 200 and response.mimetype == "text/xml"
    root = ElementTree.fromstring(response.data)
    assert root.tag == "oembed"
    fields = {child.tag: child.text for child in root}
    assert fields["version"] == "1.0" and fields["type"] == "rich"
    assert fields["title"] == "Mug & <co> · €12.00"
    assert int(fields["width"]) <= 300 and fields["html"].startswith("<iframe ")


def test_oembed_unsupported_format_is_501(client, make_product, make_token):
    token = make_token(make_product())
    response = client.get(f"/oembed?url={BASE}/p/{token}&format=yaml")
    assert response.status_code == 501
    assert response.json["error"]["param"] == "format"


@pytest.mark.parametrize(
    "url",
    [
        "http://evil.test/p/{token}",
        "https://shop.test.evil.test/p/{token}",
        "ftp://shop.test/p/{token}",
        "http://shop.test/buy/{token}/x",
        "http://shop.test/p/",
        "http://shop.test/p/not-a-token",
        "not a url",
        "",
        "http://[::1",
        "http://shop.test]/p/{token}",
    ],
)
def test_oembed_unknown_or_foreign_url_is_404(client, make_product, make_token, url):
    token = make_token(make_product())
    response = client.get("/oembed", query_string={"url": url.format(token=token)})
    assert response.status_code == 404
    assert response.json["error"]["code"] == "oembed_url_not_found"


def test_oembed_of_withdrawn_offer_is_404(client, merchant, make_product, make_token):
    product = make_product()
    token = make_token(product)
    client.delete(f"/v1/products/{product.id}", headers=merchant.headers)
    assert client.get(f"/oembed?url={BASE}/p/{token}").status_code == 404


def test_oembed_accepts_embed_urls_too(client, make_product, make_token):
    token = make_token(make_product())
    assert client.get(f"/oembed?url={BASE}/embed/{token}").status_code == 200


def test_embed_card_may_be_framed_anywhere_other_pages_may_not(client, make_product, make_token):
    token = make_token(make_product())
    card = client.get(f"/embed/{token}")
    assert card.status_code == 200
    assert "frame-ancestors *" in card.headers["Content-Security-Policy"]
    assert "script-src 'self'" in card.headers["Content-Security-Policy"]
    for path in (f"/p/{token}", f"/buy/{token}"):
        assert "frame-ancestors 'none'" in client.get(path).headers["Content-Security-Policy"]
    soup = BeautifulSoup(card.get_data(as_text=True), "html5lib")
    link = soup.find("a", class_="pay")
    assert link["href"] == f"{BASE}/buy/{token}" and link["target"] == "_blank"
    assert "noopener" in link["rel"]


def test_embed_card_of_dead_offer_is_a_frameable_notice(client):
    response = client.get("/embed/forged")
    assert response.status_code == 404
    assert "frame-ancestors *" in response.headers["Content-Security-Policy"]
    assert "no longer available" in response.get_data(as_text=True)
