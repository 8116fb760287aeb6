"""Shopper pages: the hosted buy page, the sandbox checkout, the order status page, the demo."""

import re

import pytest
from bs4 import BeautifulSoup

from tests.support.forms import form_fields, submit_form


def page(response):
    return BeautifulSoup(response.get_data(as_text=True), "html5lib")


def test_buy_page_shows_the_offer_and_creates_nothing(client, api, offer):
    _, token = offer(description="Glazed by hand")
    for _ in range(3):  # link unfurlers and prefetchers GET freely
        response = client.get(f"/buy/{token['token']}")
    assert response.status_code == 200
    doc = page(response)
    assert doc.find("h1").get_text() == "Mug"
    assert "€12.00" in doc.find(class_="price").get_text()
    assert doc.find("script", src=re.compile(r"/static/buy\.js$"))
    form = doc.find("form", class_="checkout")
    assert form["method"] == "post" and form["action"] == f"/buy/{token['token']}"
    assert api.get("/v1/orders").json["data"] == []


def test_buy_page_shows_quantity_totals(client, offer):
    _, token = offer()
    doc = page(client.get(f"/buy/{token['token']}?quantity=3"))
    assert "€36.00" in doc.find(class_="price").get_text()


def test_buy_page_escapes_hostile_product_text(client, offer):
    _, token = offer(name="<img src=x onerror=alert(1)>", description='"><script>alert(2)</script>')
    html = client.get(f"/buy/{token['token']}").get_data(as_text=True)
    assert "<img src=x" not in html and "<script>alert(2)" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_buy_page_for_a_dead_token_is_a_clear_page(client, api, offer):
    product, token = offer()
    api.post(f"/v1/products/{product['id']}/revoke_tokens")
    response = client.get(f"/buy/{token['token']}")
    assert response.status_code == 410
    doc = page(response)
    assert "no longer available" in doc.find("h1").get_text()
    assert doc.find("meta", attrs={"name": "robots"})["content"] == "noindex"
    assert client.get("/buy/not-a-token").status_code == 400


def test_sold_out_buy_page_offers_no_button(client, offer):
    _, token = offer(stock=0)
    doc = page(client.get(f"/buy/{token['token']}"))
    assert doc.find("form", class_="checkout") is None
    assert "Sold out" in doc.find(class_="sold-out").get_text()


def test_pages_carry_a_strict_content_security_policy(client, offer):
    _, token = offer()
    csp = client.get(f"/buy/{token['token']}").headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp


def test_purchase_without_javascript(client, api, offer):
    """The no-script path: POST the buy form, pay on the sandbox form, land on the order page."""
    _, token = offer()
    started = submit_form(client, f"/buy/{token['token']}?quantity=2", form_class="checkout")
    assert started.status_code == 303 and "/sandbox/checkout/" in started.location
    sandbox = page(client.get(started.location))
    assert "TEST MODE" in sandbox.get_text()
    assert sandbox.find("input", attrs={"name": "card_number"})
    declined = submit_form(
        client,
        started.location,
        {"email": "shopper@example.com", "card_number": "4000 0000 0000 0002"},
        form_class="card-form",
    )
    assert declined.status_code == 402
    assert "Your card was declined." in page(declined).find(class_="error").get_text()
    paid = submit_form(
        client,
        started.location,
        {
            "email": "shopper@example.com",
            "card_number": "4242 4242 4242 4242",
            "exp": "",
            "cvc": "",
        },
        form_class="card-form",
    )
    assert paid.status_code == 303 and "checkout=success" in paid.location
    order_page = page(client.get(paid.location))
    assert "paid" in order_page.find(class_="order-status").get_text()
    assert "€24.00" in order_page.find(class_="order-total").get_text()
    order = api.get("/v1/orders").json["data"][0]
    assert (order["status"], order["quantity"]) == ("paid", 2)


def test_invalid_card_re_shows_the_form_with_the_reason(client, offer):
    _, token = offer()
    url = submit_form(client, f"/buy/{token['token']}", form_class="checkout").location
    response = submit_form(
        client, url, {"email": "shopper@example.com", "card_number": "1111"}, form_class="card-form"
    )
    assert response.status_code == 400
    error = page(response).find(class_="error")
    assert error["data-code"] == "invalid_card" and "4242" in error.get_text()


def test_sandbox_cancel_returns_to_a_canceled_order(client, api, offer):
    _, token = offer(stock=1)
    url = submit_form(client, f"/buy/{token['token']}", form_class="checkout").location
    back = submit_form(client, url, form_class="cancel")
    assert back.status_code == 303 and "checkout=canceled" in back.location
    assert "canceled" in page(client.get(back.location)).find(class_="order-status").get_text()
    assert api.get(f"/v1/products/{token['product_id']}").json["stock"] == 1


def test_order_page_needs_a_genuine_signed_ref(client):
    assert client.get("/orders/ord_guess").status_code == 404
    assert client.get("/orders/Im9yZF94Ig.forged").status_code == 404


def test_unknown_sandbox_session_is_404(client):
    assert client.get("/sandbox/checkout/cs_nope").status_code == 404


def test_demo_page_lists_the_seeded_products(client, settings):
    from buybutton.store import Store
    from buybutton_server.demo import seed_demo
    from buybutton_server.routes import offline_links

    assert client.get("/demo").status_code == 404
    seed_demo(Store.from_settings(settings), settings, offline_links("http://shop.test"))
    doc = page(client.get("/demo"))
    names = [h.get_text() for h in doc.select(".demo-product h2")]
    assert names == ["Ceramic mug", "Canvas tote bag", "Enamel pin"]
    assert all(a["href"].startswith("http://shop.test/buy/") for a in doc.select("a.pay"))


def test_buy_page_formats_prices_in_the_widgets_locale(client, offer):
    _, token = offer()
    doc = page(client.get(f"/buy/{token['token']}?locale=fr&origin=https://shop.example"))
    assert "12,00\xa0€" in doc.find(class_="price").get_text()


@pytest.mark.parametrize("quantity", ["²", "-1", "two", "", "9" * 5000])
def test_buy_form_rejects_non_ascii_or_bad_quantities_with_400(client, offer, quantity):
    # "²".isdigit() is true, yet int("²") raises: the form must not turn that into a 500.
    _, token = offer()
    response = submit_form(
        client, f"/buy/{token['token']}", {"quantity": quantity}, form_class="checkout"
    )
    assert response.status_code == 400
    assert "quantity" in page(response).find(class_="message").get_text()


def test_one_click_form_with_a_superscript_quantity_is_no_500(client, offer):
    _, token = offer()
    fields = form_fields(client.get(f"/buy/{token['token']}").text, "checkout")
    response = client.post(f"/buy/{token['token']}/one-click", data={**fields, "quantity": "²"})
    assert response.status_code == 303  # no saved card here: back to the buy page
