"""Catalog feeds /v1/feeds/MERCHANT.csv and .xml, parsed as Meta and Google would."""

from __future__ import annotations

import csv
import io
import time
from xml.etree import ElementTree

import pytest
from itsdangerous import URLSafeSerializer

from buybutton.offers import LINK_EXPIRY_STEP

BASE = "http://shop.test"
G = "{http://base.google.com/ns/1.0}"
COLUMNS = [
    "id",
    "title",
    "description",
    "availability",
    "condition",
    "price",
    "link",
    "image_link",
    "brand",
]


@pytest.fixture
def catalog_products(make_product, merchant, client):
    """A mixed catalog opted in to the feed: EUR, USD, JPY, sold out, inactive, deleted,
    hostile text; and one product the merchant did not opt in."""
    products = {
        "eur": make_product(
            name="Mug",
            amount=1200,
            currency="eur",
            in_feed=True,
            description='Line one,\n"quoted", <b>bold</b> & co',
            image_url="https://img.test/mug.jpg",
        ),
        "usd": make_product(name="Tote, large", amount=1999, currency="usd", in_feed=True),
        "jpy": make_product(name="湯呑み 🍵", amount=1200, currency="jpy", stock=0, in_feed=True),
        "inactive": make_product(name="Old", active=False, in_feed=True),
        "deleted": make_product(name="Gone", in_feed=True),
        "local": make_product(name="Pin", image_url="/static/demo/pin.svg", in_feed=True),
        "unlisted": make_product(name="Private sale"),
    }
    assert (
        client.delete(
            f"/v1/products/{products['deleted'].id}", headers=merchant.headers
        ).status_code
        == 200
    )
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
def test_feed_lists_only_active_products_with_exact_fields(
    client, merchant, catalog_products, reader
):
    rows = reader(client, merchant.id)
    by_id = {row["id"]: row for row in rows}
    expected = ["eur", "usd", "jpy", "local"]
    assert [row["id"] for row in rows] == [catalog_products[key].id for key in expected]
    eur = by_id[catalog_products["eur"].id]
    assert eur == {
        **eur,
        "title": "Mug",
        "description": 'Line one,\n"quoted", <b>bold</b> & co',
        "availability": "in stock",
        "condition": "new",
        "price": "12.00 EUR",
        "image_link": "https://img.test/mug.jpg",
        "brand": "Test Shop",
    }
    assert by_id[catalog_products["usd"].id]["price"] == "19.99 USD"
    assert by_id[catalog_products["usd"].id]["title"] == "Tote, large"
    assert by_id[catalog_products["usd"].id]["description"] == "Tote, large"  # never empty
    jpy = by_id[catalog_products["jpy"].id]
    assert (jpy["price"], jpy["availability"], jpy["title"]) == (
        "1200 JPY",
        "out of stock",
        "湯呑み 🍵",
    )
    # A relative image becomes absolute; a product with no image gets its card image.
    assert by_id[catalog_products["local"].id]["image_link"] == f"{BASE}/static/demo/pin.svg"
    assert by_id[catalog_products["usd"].id]["image_link"].endswith("/card.png")


def test_feed_links_are_live_share_pages_of_the_product(
    client, merchant, catalog_products, set_clock
):
    set_clock(time.time())
    for row in rows_of_csv(client, merchant.id):
        assert row["link"].startswith(f"{BASE}/p/")
        page = client.get(row["link"].removeprefix(BASE))
        assert page.status_code == 200
        assert row["title"].replace("&", "&amp;").replace("<", "&lt;") in page.get_data(
            as_text=True
        )
    # Stable between fetches (within the hour): the same product gets the same link.
    assert [r["link"] for r in rows_of_csv(client, merchant.id)] == [
        r["link"] for r in rows_of_csv(client, merchant.id)
    ]


def test_feed_csv_quotes_commas_quotes_and_newlines(client, merchant, catalog_products):
    text = client.get(f"/v1/feeds/{merchant.id}.csv").get_data(as_text=True)
    assert '"Line one,\n""quoted"", <b>bold</b> & co"' in text
    assert ',"Tote, large",' in text and ',"12.00 EUR",' in text  # every cell is quoted
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


# -- what a feed may publish ---------------------------------------------------------------


def token_of(link: str) -> str:
    return link.rsplit("/p/", 1)[1].split("/")[0]


@pytest.mark.parametrize("reader", [rows_of_csv, items_of_xml], ids=["csv", "xml"])
def test_feed_leaves_out_products_not_opted_in(client, merchant, catalog_products, reader):
    listed = {row["id"] for row in reader(client, merchant.id)}
    assert catalog_products["unlisted"].id not in listed and catalog_products["eur"].id in listed


@pytest.mark.parametrize("reader", [rows_of_csv, items_of_xml], ids=["csv", "xml"])
def test_expired_token_cannot_be_renewed_through_the_feed(client, api, app, set_clock, reader):
    """The attack: a 60-second offer lapses; its payload (readable, only signed) names the
    merchant, whose public feed used to hand out a fresh offer that never expires."""
    now = int(time.time())
    set_clock(now)
    product = api.post(
        "/v1/products", json={"name": "Flash sale", "amount": 500, "currency": "eur"}
    ).json
    token = api.post(f"/v1/products/{product['id']}/tokens", json={"expires_in": 60}).json["token"]
    set_clock(now + 61)
    assert client.get(f"/v1/embed/{token}").json["error"]["code"] == "token_expired"
    payload = URLSafeSerializer("the attacker has no key").loads_unsafe(token)[1]
    signer = app.extensions["buybutton"].signer
    offered = [signer.verify_token(token_of(row["link"])) for row in reader(client, payload["m"])]
    # Not opted in: the feed offers nothing of the product, so nothing outlives the 60 s.
    assert [claims for claims in offered if claims.product_id == product["id"]] == []


@pytest.mark.parametrize("reader", [rows_of_csv, items_of_xml], ids=["csv", "xml"])
def test_feed_links_expire_within_the_feed_link_lifetime(
    client, app, merchant, catalog_products, set_clock, reader
):
    now = int(time.time())
    set_clock(now)
    ttl = app.extensions["buybutton"].settings.feed_link_ttl_seconds
    rows = reader(client, merchant.id)
    assert rows
    for row in rows:
        claims = app.extensions["buybutton"].signer.verify_token(token_of(row["link"]))
        assert now + ttl - LINK_EXPIRY_STEP < claims.expires_at <= now + ttl
        if row["image_link"].endswith("/card.png"):
            assert token_of(row["image_link"]) == token_of(row["link"])
    # Once lapsed, a feed link is a dead offer like any other.
    set_clock(claims.expires_at)
    assert client.get(row["link"].removeprefix(BASE)).status_code == 410


def test_feed_link_lifetime_is_configurable(settings, merchant, make_product):
    from dataclasses import replace

    from buybutton_server import create_app

    make_product(in_feed=True)
    app = create_app(replace(settings, feed_link_ttl_seconds=2 * 86400))
    try:
        now = time.time()
        link = rows_of_csv(app.test_client(), merchant.id)[0]["link"]
        expires_at = app.extensions["buybutton"].signer.verify_token(token_of(link)).expires_at
        assert now + 2 * 86400 - LINK_EXPIRY_STEP - 5 < expires_at <= time.time() + 2 * 86400
    finally:
        app.extensions["buybutton"].store.dispose()


# -- CSV formula injection -----------------------------------------------------------------

FORMULAS = ['=HYPERLINK("http://evil","x")', "+1+1", "-2+3", "@SUM(A1:A9)", "\t=1+1", "\r=1+1"]


@pytest.mark.parametrize("formula", FORMULAS)
def test_feed_csv_neutralizes_formulas_in_every_cell(client, merchant, make_product, formula):
    product = make_product(name=formula, description=formula, in_feed=True)
    text = client.get(f"/v1/feeds/{merchant.id}.csv").get_data(as_text=True)
    # Names are stripped when saved ("\t=1+1" is saved "=1+1"); descriptions are kept as sent.
    name = formula.strip()
    for cell in (name, formula):
        assert ",\"'" + cell.replace('"', '""') + '",' in text  # prefixed, then quoted
    row = rows_of_csv(client, merchant.id)[0]
    assert row["id"] == product.id
    assert (row["title"], row["description"]) == ("'" + name, "'" + formula)
    assert all(not cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in row.values())


def test_feed_xml_keeps_text_that_only_a_spreadsheet_would_evaluate(client, merchant, make_product):
    make_product(name='=HYPERLINK("http://evil","x")', in_feed=True)
    assert items_of_xml(client, merchant.id)[0]["title"] == '=HYPERLINK("http://evil","x")'
