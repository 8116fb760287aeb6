"""Catalog feeds /v1/feeds/MERCHANT.csv and .xml, parsed as Meta and Google would."""

from __future__ import annotations

import csv
import io
from xml.etree import ElementTree

import pytest

BASE = "http://shop.test"
G = "{http://base.google.com/ns/1.0}"
COLUMNS = ["id", "title", "description", "availability", "condition", "price", "link",
           "image_link", "brand"]


@pytest.fixture
def catalog_products(make_product, merchant, client):
    """A mixed catalog: EUR, USD, JPY, sold out, inactive, deleted, hostile text."""
    products = {
        "eur": make_product(name="Mug", amount=1200, currency="eur",
                            description='Line one,\n"quoted", <b>bold</b> & co',
                            image_url="https://img.test/mug.jpg"),
        "usd": make_product(name="Tote, large", amount=1999, currency="usd"),
        "jpy": make_product(name="湯呑み 🍵", amount=1200, currency="jpy", stock=0),
        "inactive": make_product(name="Old", active=False),
        "deleted": make_product(name="Gone"),
        "local": make_product(name="Pin", image_url="/static/demo/pin.svg"),
    }
    assert client.delete(f"/v1/products/{products['deleted'].id}",
                         headers=merchant.headers).status_code == 200
    return products


def rows_of_csv(client, merchant_id: str) -> list[dict]:
    response = client.get(f"/v1/feeds/{merchant_id}.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    reader = csv.DictReader(io.StringIO(response.get_data(as_text=True), newline=""))
    assert reader.fieldnames == COLUMNS
    return list(reader)


def items_of_xml(client, merchant_id: str) -> list[dict]:
    response = client.get(f"/v1/feeds/{merchant_id}.xml")
    assert response.status_code == 200 and response.mimetype == "application/rss+xml"
    root = ElementTree.fromstring(response.data)
    assert root.tag == "rss" and root.get("version") == "2.0"
    channel = root.find("channel")
    assert channel.findtext("title") == "Test Shop" and channel.findtext("link") == f"{BASE}/"
    items = []
    for item in channel.findall("item"):
        assert [child.tag for child in item] == [G + column for column in COLUMNS]
        items.append({column: item.findtext(G + column) or "" for column in COLUMNS})
    return items


@pytest.mark.parametrize("reader", [rows_of_csv, items_of_xml], ids=["csv", "xml"])
def test_feed_lists_only_active_products_with_exact_fields(client, merchant, catalog_products, reader):
    rows = reader(client, merchant.id)
    by_id = {row["id"]: row for row in rows}
    expected = ["eur", "usd", "jpy", "local"]
    assert [row["id"] for row in rows] == [catalog_products[key].id for key in expected]
    eur = by_id[catalog_products["eur"].id]
    assert eur == {**eur, "title": "Mug", "description": 'Line one,\n"quoted", <b>bold</b> & co',
                   "availability": "in stock", "condition": "new", "price": "12.00 EUR",
                   "image_link": "https://img.test/mug.jpg", "brand": "Test Shop"}
    assert by_id[catalog_products["usd"].id]["price"] == "19.99 USD"
    assert by_id[catalog_products["usd"].id]["title"] == "Tote, large"
    assert by_id[catalog_products["usd"].id]["description"] == "Tote, large"  # never empty
    jpy = by_id[catalog_products["jpy"].id]
    assert (jpy["price"], jpy["availability"], jpy["title"]) == ("1200 JPY", "out of stock", "湯呑み 🍵")
    # A relative image becomes absolute; a product with no image gets its card image.
    assert by_id[catalog_products["local"].id]["image_link"] == f"{BASE}/static/demo/pin.svg"
    assert by_id[catalog_products["usd"].id]["image_link"].endswith("/card.png")


def test_feed_links_are_live_share_pages_of_the_product(client, merchant, catalog_products):
    for row in rows_of_csv(client, merchant.id):
        assert row["link"].startswith(f"{BASE}/p/")
        page = client.get(row["link"].removeprefix(BASE))
        assert page.status_code == 200
        assert row["title"].replace("&", "&amp;").replace("<", "&lt;") in page.get_data(as_text=True)
    # Stable between fetches: the same product gets the same link.
    assert [r["link"] for r in rows_of_csv(client, merchant.id)] == [
        r["link"] for r in rows_of_csv(client, merchant.id)]


def test_feed_csv_quotes_commas_quotes_and_newlines(client, merchant, catalog_products):
    text = client.get(f"/v1/feeds/{merchant.id}.csv").get_data(as_text=True)
    assert '"Line one,\n""quoted"", <b>bold</b> & co"' in text
    assert text.startswith(",".join(COLUMNS) + "\r\n")


def test_feed_xml_escapes_markup(client, merchant, catalog_products):
    raw = client.get(f"/v1/feeds/{merchant.id}.xml").get_data(as_text=True)
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; co" in raw and "<b>" not in raw


def test_feed_is_public_and_cacheable(client, merchant, catalog_products):
    response = client.get(f"/v1/feeds/{merchant.id}.xml")  # no Authorization header
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=300"


def test_feed_of_merchant_without_products_is_empty(client, merchant):
    assert rows_of_csv(client, merchant.id) == []
    assert items_of_xml(client, merchant.id) == []


@pytest.mark.parametrize("kind", ["csv", "xml"])
def test_feed_of_unknown_merchant_is_404(client, kind):
    response = client.get(f"/v1/feeds/mch_doesnotexist.{kind}")
    assert response.status_code == 404
    assert response.json["error"]["code"] == "merchant_not_found"


def test_feed_of_unknown_format_is_404(client, merchant):
    assert client.get(f"/v1/feeds/{merchant.id}.json").status_code == 404
