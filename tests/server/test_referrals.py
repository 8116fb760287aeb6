"""Referral tags: ?ref= on a share link follows the shopper to the order, and a buyer gets a
personal share link whose tag credits the next sale without revealing who bought."""

from __future__ import annotations

import re
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from bs4 import BeautifulSoup

from buybutton.offers import LINK_EXPIRY_STEP
from tests.support.forms import submit_form

BASE = "http://shop.test"


def soup_of(response) -> BeautifulSoup:
    return BeautifulSoup(response.get_data(as_text=True), "html5lib")


def order_of(client, merchant, order_id: str) -> dict:
    return client.get(f"/v1/orders/{order_id}", headers=merchant.headers).json


def pay(client, checkout_url: str) -> str:
    """Pay in the sandbox; returns the success page path (the order page)."""
    paid = submit_form(
        client,
        checkout_url.removeprefix(BASE),
        {"email": "shopper@example.com", "card_number": "4242424242424242"},
        form_class="card-form",
    )
    assert paid.status_code == 303
    return paid.location.removeprefix(BASE)


def test_checkout_ref_overrides_the_token_ref(client, merchant, make_product, make_token):
    token = make_token(make_product(), ref="campaign")
    started = client.post("/v1/checkout", json={"token": token, "ref": "friend-7"})
    assert started.status_code == 201
    assert order_of(client, merchant, started.json["order_id"])["ref"] == "friend-7"


def test_checkout_without_ref_keeps_the_token_ref(client, merchant, make_product, make_token):
    token = make_token(make_product(), ref="campaign")
    started = client.post("/v1/checkout", json={"token": token})
    assert order_of(client, merchant, started.json["order_id"])["ref"] == "campaign"


@pytest.mark.parametrize("ref", ["", "x" * 65, 42, ["a"], "tab\there", "new\nline"])
def test_checkout_rejects_invalid_ref_and_creates_nothing(
    client, merchant, make_product, make_token, ref
):
    product = make_product(stock=3)
    response = client.post("/v1/checkout", json={"token": make_token(product), "ref": ref})
    assert response.status_code == 400
    assert response.json["error"]["param"] == "ref"
    assert client.get("/v1/orders", headers=merchant.headers).json["data"] == []
    assert client.get(f"/v1/products/{product.id}", headers=merchant.headers).json["stock"] == 3


def test_share_link_ref_reaches_the_buy_page_and_the_order_without_javascript(
    client, merchant, make_product, make_token
):
    token = make_token(make_product(), ref="campaign")
    share = soup_of(client.get(f"/p/{token}?ref=tiktok-bio"))
    buy_link = share.find("buy-button").find("a")["href"]
    assert parse_qs(urlsplit(buy_link).query) == {"ref": ["tiktok-bio"]}
    buy_page = soup_of(client.get(buy_link.removeprefix(BASE)))
    assert buy_page.find(id="buy")["data-ref"] == "tiktok-bio"  # what buy.js sends
    form = buy_page.find("form", class_="checkout")
    fields = {i["name"]: i["value"] for i in form.find_all("input")}
    assert fields["ref"] == "tiktok-bio"
    # The no-script form posts those fields and lands on the payment page.
    posted = client.post(form["action"], data=fields)
    assert posted.status_code == 303
    orders = client.get("/v1/orders", headers=merchant.headers).json["data"]
    assert [o["ref"] for o in orders] == ["tiktok-bio"]


def test_buy_page_ignores_invalid_ref(client, make_product, make_token):
    token = make_token(make_product())
    page = soup_of(client.get(f"/buy/{token}?ref=" + "y" * 80))
    assert page.find(id="buy")["data-ref"] == ""
    assert page.find("input", attrs={"name": "ref"}) is None


def test_success_page_offers_a_personal_share_link_that_credits_its_tag(
    client, merchant, make_product, make_token
):
    product = make_product()
    started = client.post("/v1/checkout", json={"token": make_token(product, ref="insta")}).json
    order_page = soup_of(client.get(pay(client, started["checkout_url"])))
    box = order_page.find("section", class_="share-box")
    assert box is not None
    link = box["data-url"]
    tag = parse_qs(urlsplit(link).query)["ref"][0]
    assert re.fullmatch(r"fr-[0-9a-f]{12}", tag)
    # The tag reveals neither the order nor the shopper.
    assert started["order_id"] not in link and started["order_id"][4:] not in tag
    # A friend follows it and buys: the merchant sees the sale under the buyer's tag.
    share_page = soup_of(client.get(link.removeprefix(BASE)))
    buy_link = share_page.find("buy-button").find("a")["href"]
    friend = client.post(
        "/v1/checkout",
        json={
            "token": urlsplit(buy_link).path.rsplit("/", 1)[1],
            "ref": parse_qs(urlsplit(buy_link).query)["ref"][0],
        },
    ).json
    assert order_of(client, merchant, friend["order_id"])["ref"] == tag
    listed = client.get(f"/v1/orders?ref={tag}", headers=merchant.headers).json["data"]
    assert [o["id"] for o in listed] == [friend["order_id"]]


def test_personal_tag_is_stable_per_order_and_differs_between_orders(
    client, make_product, make_token, set_clock
):
    set_clock(time.time())  # the link's token is the same within the hour
    product = make_product()
    links = []
    for _ in range(2):
        started = client.post("/v1/checkout", json={"token": make_token(product)}).json
        page = pay(client, started["checkout_url"])
        first = soup_of(client.get(page)).find("section", class_="share-box")["data-url"]
        again = soup_of(client.get(page)).find("section", class_="share-box")["data-url"]
        assert first == again
        links.append(first)
    assert links[0] != links[1]


def test_personal_share_link_expires_within_the_share_link_lifetime(
    client, app, make_product, make_token, set_clock
):
    """An order page must not mint offers that never lapse: anyone who buys once would get a
    permanent bearer offer at today's price."""
    now = int(time.time())
    set_clock(now)
    started = client.post("/v1/checkout", json={"token": make_token(make_product())}).json
    link = soup_of(client.get(pay(client, started["checkout_url"]))).find(
        "section", class_="share-box"
    )["data-url"]
    token = urlsplit(link).path.rsplit("/", 1)[1]
    runtime = app.extensions["buybutton"]
    expires_at = runtime.signer.verify_token(token).expires_at
    assert expires_at is not None
    ttl = runtime.settings.share_link_ttl_seconds
    assert now + ttl - LINK_EXPIRY_STEP < expires_at <= now + ttl
    set_clock(expires_at)
    assert client.get(link.removeprefix(BASE)).status_code == 410


def test_unpaid_order_page_offers_no_share_link(client, make_product, make_token):
    started = client.post("/v1/checkout", json={"token": make_token(make_product())}).json
    page = soup_of(client.get(started["status_url"].removeprefix(BASE)))
    assert page.find("section", class_="share-box") is None


def test_no_share_link_once_the_product_is_withdrawn(client, merchant, make_product, make_token):
    product = make_product()
    started = client.post("/v1/checkout", json={"token": make_token(product)}).json
    page = pay(client, started["checkout_url"])
    client.delete(f"/v1/products/{product.id}", headers=merchant.headers)
    assert soup_of(client.get(page)).find("section", class_="share-box") is None
