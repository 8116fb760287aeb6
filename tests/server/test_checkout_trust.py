"""A checkout that earns trust: the buy page and the TEST MODE payment page show the shop, a
secure-payment cue, its support address and return policy, and in social apps' in-app
browsers a hint to open the page in the real browser, in English and French, without script."""

from __future__ import annotations

import base64
import hashlib

import pytest
from bs4 import BeautifulSoup

from buybutton.inapp import in_app_browser
from tests.support.forms import submit_form

INSTAGRAM = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Mobile/15E148 Instagram 326.0.3.30.91 (iPhone14,5; iOS 17_4; en_US; en; scale=3.00)"
)
SAFARI = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
)


def page(response) -> BeautifulSoup:
    assert response.status_code == 200, response.get_data(as_text=True)
    return BeautifulSoup(response.get_data(as_text=True), "html5lib")


def words(html: BeautifulSoup, selector: str) -> str:
    found = html.select_one(selector)
    assert found is not None, selector
    return " ".join(found.get_text(" ").split())


@pytest.fixture
def helpful_shop(api):
    api.patch(
        "/v1/merchant",
        json={
            "support_email": "help@lune.example",
            "return_policy": {"days": 14, "text": "Unused, in the box."},
        },
    )


@pytest.mark.parametrize(
    ("user_agent", "app"),
    [
        (INSTAGRAM, "instagram"),
        ("Mozilla/5.0 (iPhone) Mobile/15E148 [FBAN/FBIOS;FBAV/451.0.0.40.109;FBBV/1]", "facebook"),
        (
            "Mozilla/5.0 (Linux; Android 14) Chrome/124 Mobile [FB_IAB/FB4A;FBAV/460.0.0.48]",
            "facebook",
        ),
        ("Mozilla/5.0 (Linux; Android 13) Chrome/120 Mobile musical_ly_2023303030", "tiktok"),
        ("Mozilla/5.0 (iPhone) Mobile/15E148 BytedanceWebview/d8a21c6", "tiktok"),
        ("Mozilla/5.0 (iPhone) Mobile/15E148 Twitter for iPhone/10.34", "x"),
        ("Mozilla/5.0 (Linux; Android 14) Chrome/124 Mobile TwitterAndroid", "x"),
        ("Mozilla/5.0 (iPhone) Mobile/15E148 [Pinterest/iOS]", "pinterest"),
        ("Mozilla/5.0 (iPhone) Mobile/15E148 Snapchat/12.80.0.40 (like Safari/604.1)", "snapchat"),
        (SAFARI, None),
        ("", None),
        (None, None),
    ],
)
def test_in_app_browsers_are_told_by_their_user_agent(user_agent, app):
    assert in_app_browser(user_agent) == app


def test_the_buy_page_shows_the_shop_a_secure_cue_support_and_returns(client, offer, helpful_shop):
    _, token = offer()
    html = page(client.get(f"/buy/{token['token']}", headers={"User-Agent": SAFARI}))
    assert words(html, ".shop-name") == "Test Shop"
    assert words(html, ".secure-cue") == "Secure checkout · encrypted payment"
    assert html.select_one(".secure-cue svg")["aria-hidden"] == "true"
    assert words(html, ".shop-returns") == (
        "Returns accepted within 14 days of delivery. Unused, in the box."
    )
    support = html.select_one(".shop-support a")
    assert (support["href"], support.get_text()) == (
        "mailto:help@lune.example",
        "help@lune.example",
    )
    assert html.select_one(".in-app-hint") is None  # not in a real browser


def test_without_support_or_policy_the_buy_page_says_nothing_of_them(client, offer):
    _, token = offer()
    html = page(client.get(f"/buy/{token['token']}"))
    assert words(html, ".shop-name") == "Test Shop"
    assert html.select_one(".shop-help") is None


def test_a_no_returns_policy_says_so(client, api, offer):
    api.patch("/v1/merchant", json={"return_policy": {"days": 0, "text": ""}})
    _, token = offer()
    assert words(page(client.get(f"/buy/{token['token']}")), ".shop-returns") == (
        "This item cannot be returned."
    )


def test_instagram_gets_the_open_in_browser_hint_and_still_buys_without_script(
    client, offer, helpful_shop
):
    _, token = offer()
    buy_url = f"/buy/{token['token']}"
    html = page(client.get(buy_url, headers={"User-Agent": INSTAGRAM}))
    hint = html.select_one("details.in-app-hint")
    assert hint is not None and hint["data-app"] == "instagram"
    assert not hint.has_attr("open")  # discreet: folded until tapped
    assert words(hint, "summary") == "Open in your browser"
    assert "Tap the ••• menu at the top right." in words(hint, "ol")
    # The purchase still works in the webview, through the plain form.
    started = submit_form(client, buy_url, form_class="checkout", headers={"User-Agent": INSTAGRAM})
    assert started.status_code == 303 and "/sandbox/checkout/" in started.location
    paid = submit_form(
        client,
        started.location,
        {"email": "ana@example.com", "card_number": "4242 4242 4242 4242"},
        form_class="card-form",
    )
    assert paid.status_code == 303
    order = page(client.get(paid.location))
    assert words(order, ".order-shop") == "Test Shop"


def test_a_sold_out_buy_page_keeps_the_shop_but_offers_no_hint(client, offer):
    _, token = offer(stock=0)
    html = page(client.get(f"/buy/{token['token']}", headers={"User-Agent": INSTAGRAM}))
    assert words(html, ".sold-out") == "Sold out"
    assert words(html, ".shop-name") == "Test Shop"
    assert html.select_one(".in-app-hint") is None


def test_the_buy_page_inlines_its_styles_allowed_by_their_hash(client, offer):
    _, token = offer()
    response = client.get(f"/buy/{token['token']}")
    html = page(response)
    assert html.select('link[rel="stylesheet"]') == []  # first paint waits for no request
    css = html.find("style").string
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    csp = response.headers["Content-Security-Policy"]
    assert f"style-src 'self' 'sha256-{digest}';" in csp
    assert "script-src 'self';" in csp and "unsafe-inline" not in csp
    assert ".shop-header" in css


def test_the_payment_page_shows_the_shop_the_image_and_help(client, offer, helpful_shop):
    _, token = offer(image_url="https://cdn.example/mug.jpg")
    started = submit_form(client, f"/buy/{token['token']}", form_class="checkout")
    html = page(client.get(started.location))
    assert words(html, ".test-mode").startswith("TEST MODE")
    assert words(html, ".shop-name") == "Test Shop"
    assert words(html, ".secure-cue") == "Secure checkout · encrypted payment"
    assert html.select_one(".pay-summary-image")["src"] == "https://cdn.example/mug.jpg"
    assert words(html, ".pay-summary-name") == "Mug"
    assert words(html, ".shop-support") == "Questions? Write to help@lune.example"


def test_the_trust_cues_speak_french(client, offer, helpful_shop):
    _, token = offer()
    buy_url = f"/buy/{token['token']}?locale=fr"
    html = page(client.get(buy_url, headers={"User-Agent": INSTAGRAM}))
    assert html.find("html")["lang"] == "fr"
    assert words(html, ".secure-cue") == "Paiement sécurisé · données chiffrées"
    assert words(html, ".in-app-hint summary") == "Ouvrir dans votre navigateur"
    assert words(html, ".shop-returns").startswith("Retours acceptés sous 14 jours")
    assert words(html, ".shop-support") == "Des questions ? Écrivez à help@lune.example"
    started = submit_form(client, buy_url, form_class="checkout")
    pay = page(client.get(started.location, headers={"Accept-Language": "fr-FR,fr;q=0.9"}))
    assert words(pay, ".secure-cue") == "Paiement sécurisé · données chiffrées"
    assert words(pay, ".shop-support") == "Des questions ? Écrivez à help@lune.example"


def test_the_order_page_shows_the_product_image(client, offer):
    _, token = offer(image_url="https://cdn.example/mug.jpg")
    started = submit_form(client, f"/buy/{token['token']}", form_class="checkout")
    paid = submit_form(
        client,
        started.location,
        {"email": "ana@example.com", "card_number": "4242 4242 4242 4242"},
        form_class="card-form",
    )
    order = page(client.get(paid.location))
    assert order.select_one(".order-image")["src"] == "https://cdn.example/mug.jpg"
    assert words(order, ".order-shop") == "Test Shop"


def test_the_quantity_stepper_stays_within_the_product_maximum_and_stock(client, offer):
    _, token = offer(max_per_order=5, stock=3)
    buy_url = f"/buy/{token['token']}"
    html = page(client.get(buy_url, query_string={"locale": "fr", "ref": "insta"}))
    stepper = html.select_one("form.quantity-stepper")
    assert stepper["method"] == "get"
    fewer, more = stepper.select("button.step")
    assert fewer.has_attr("disabled") and (more["name"], more["value"]) == ("quantity", "2")
    kept = {i["name"]: i["value"] for i in stepper.select("input[type=hidden]")}
    assert kept == {"locale": "fr", "ref": "insta"}
    assert words(stepper, ".quantity-unit") == "12,00 € l’unité"
    # Without script: the + button reloads the page with the next quantity, and so on to stock.
    html = page(client.get(buy_url, query_string={"quantity": 3}))
    fewer, more = html.select("form.quantity-stepper button.step")
    assert more.has_attr("disabled") and fewer["value"] == "2"
    assert html.select_one("form.checkout input[name=quantity]")["value"] == "3"
    assert "€36.00" in words(html, ".price")


def test_a_product_sold_one_at_a_time_has_no_stepper(client, offer):
    _, token = offer(max_per_order=1)
    assert page(client.get(f"/buy/{token['token']}")).select_one(".quantity-stepper") is None
