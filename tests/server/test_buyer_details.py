"""The TEST MODE payment page collecting the buyer's details, and the merchant API that shows
them: fulfil, deliver, the unfulfilled filter and the CSV export."""

import csv
import io

from bs4 import BeautifulSoup

from tests.support.api_errors import assert_error
from tests.support.forms import submit_form


def page(response):
    return BeautifulSoup(response.get_data(as_text=True), "html5lib")


SHIPPING = {
    "countries": ["FR", "BE", "CA"],
    "rates": [
        {
            "id": "colissimo",
            "name": "Colissimo",
            "amount": 490,
            "delivery_estimate": {"min_days": 2, "max_days": 4},
        },
        {"id": "express", "name": "Chronopost", "amount": 1290},
    ],
}
BUYER = {
    "email": "camille@example.fr",
    "name": "Camille Martin",
    "address_line1": "8 rue de la Paix",
    "address_line2": "",
    "address_city": "Paris",
    "address_postal_code": "75002",
    "address_state": "",
    "address_country": "FR",
    "shipping_rate": "colissimo",
    "card_number": "4242 4242 4242 4242",
}
FIELDS = [
    "email",
    "name",
    "address_line1",
    "address_line2",
    "address_city",
    "address_postal_code",
    "address_state",
    "address_country",
    "shipping_rate",
    "card_number",
]


def start(client, offer, **fields):
    _, token = offer(**fields)
    started = submit_form(client, f"/buy/{token['token']}", form_class="checkout")
    assert started.status_code == 303
    return started.location


def test_payment_page_asks_for_email_address_and_rate_with_the_issue_field_names(client, offer):
    url = start(client, offer, shipping=SHIPPING)
    html = page(client.get(url))
    form = html.find("form", class_="card-form")
    names = {field["name"] for field in form.find_all(["input", "select"]) if field.get("name")}
    assert set(FIELDS) <= names
    countries = [
        o["value"]
        for o in form.find("select", attrs={"name": "address_country"}).find_all("option")
    ]
    assert countries == ["", "BE", "CA", "FR"]  # only where the product ships, by name
    rates = form.find_all("input", attrs={"name": "shipping_rate"})
    assert [(r["value"], r.has_attr("checked")) for r in rates] == [
        ("colissimo", True),
        ("express", False),
    ]
    assert "2–4 business days" in form.get_text() and "€4.90" in form.get_text()
    assert html.find(id="pay-total").get_text() == "€16.90"
    assert html.find("script", src=lambda s: s and s.endswith("/sandbox.js"))


def test_goods_that_do_not_ship_ask_for_the_email_only(client, offer):
    form = page(client.get(start(client, offer))).find("form", class_="card-form")
    assert form.find("input", attrs={"name": "email"})
    assert not form.find("select", attrs={"name": "address_country"})
    assert not form.find("input", attrs={"name": "shipping_rate"})
    missing = submit_form(
        client, start(client, offer), {"card_number": "4242424242424242"}, form_class="card-form"
    )
    assert missing.status_code == 400
    assert page(missing).find(id="email-error").get_text() == "Enter an email address."


def test_a_bad_field_is_shown_next_to_it_and_keeps_what_was_typed(client, api, offer):
    url = start(client, offer, shipping=SHIPPING)
    refused = submit_form(
        client,
        url,
        {**BUYER, "address_postal_code": "7500X", "address_line2": "Bât. B"},
        form_class="card-form",
    )
    assert refused.status_code == 400
    html = page(refused)
    field = html.find("input", attrs={"name": "address_postal_code"})
    assert field["aria-invalid"] == "true" and field["value"] == "7500X"
    error = html.find(id="address_postal_code-error")
    assert "'7500X' is not a postal code of France" in error.get_text()
    assert field.find_next_sibling("p") == error  # next to its field
    assert html.find("input", attrs={"name": "email"})["value"] == "camille@example.fr"
    assert html.find("input", attrs={"name": "address_line2"})["value"] == "Bât. B"
    selected = html.find("select", attrs={"name": "address_country"}).find("option", selected=True)
    assert selected["value"] == "FR"
    assert api.get("/v1/orders").json["data"][0]["status"] == "pending"  # nothing charged

    elsewhere = submit_form(client, url, {**BUYER, "address_country": "DE"}, form_class="card-form")
    assert 'data-code="country_not_allowed"' in elsewhere.text
    unknown_rate = submit_form(
        client, url, {**BUYER, "shipping_rate": "free"}, form_class="card-form"
    )
    assert page(unknown_rate).find(id="shipping_rate-error")["data-code"] == "invalid_shipping_rate"


def test_the_page_and_its_errors_speak_french(client, offer):
    url = start(client, offer, shipping=SHIPPING)
    french = {"Accept-Language": "fr-FR,fr;q=0.9"}
    html = page(client.get(url, headers=french))
    assert html.find("label", attrs={"for": "address_postal_code"}).get_text() == "Code postal"
    assert html.find(id="pay-total").get_text() == "16,90\xa0€"
    refused = submit_form(
        client, url, {**BUYER, "email": "camille@"}, form_class="card-form", headers=french
    )
    assert page(refused).find(id="email-error").get_text() == "Saisissez une adresse e-mail valide."


def test_the_merchant_sees_buyer_ships_and_delivers(client, api, offer):
    url = start(client, offer, shipping=SHIPPING, sku="MUG-1")
    paid = submit_form(client, url, {**BUYER, "shipping_rate": "express"}, form_class="card-form")
    assert paid.status_code == 303
    [order] = api.get("/v1/orders?fulfillment=unfulfilled").json["data"]
    assert order["customer"] == {
        "email": "camille@example.fr",
        "name": "Camille Martin",
        "phone": None,
    }
    assert order["shipping"]["address"]["postal_code"] == "75002"
    assert (
        order["shipping"]["rate_id"],
        order["shipping"]["rate_name"],
        order["shipping"]["amount"],
    ) == (
        "express",
        "Chronopost",
        1290,
    )
    assert (order["amount_subtotal"], order["amount_shipping"], order["amount_total"]) == (
        1200,
        1290,
        2490,
    )
    assert order["fulfillment"]["status"] == "unfulfilled"

    exported = api.get("/v1/orders.csv?fulfillment=unfulfilled")
    assert exported.status_code == 200 and exported.mimetype == "text/csv"
    assert exported.headers["Content-Disposition"] == 'attachment; filename="orders.csv"'
    [row] = csv.DictReader(io.StringIO(exported.get_data(as_text=True)))
    assert (row["customer_email"], row["shipping_city"], row["shipping_rate_name"]) == (
        "camille@example.fr",
        "Paris",
        "Chronopost",
    )

    assert_error(
        api.post(f"/v1/orders/{order['id']}/fulfill", json={"weight": 2}),
        400,
        "invalid_request",
        "weight",
    )
    tracking = {
        "carrier": "Chronopost",
        "tracking_number": "XY1",
        "tracking_url": "https://t.example/XY1",
    }
    shipped = api.post(f"/v1/orders/{order['id']}/fulfill", json=tracking).json
    assert (
        shipped["fulfillment"]["status"] == "shipped"
        and shipped["fulfillment"]["tracking_number"] == "XY1"
    )
    assert api.post(f"/v1/orders/{order['id']}/fulfill", json=tracking).json == shipped
    assert api.get("/v1/orders?fulfillment=unfulfilled").json["data"] == []
    assert [o["id"] for o in api.get("/v1/orders?fulfillment=shipped").json["data"]] == [
        order["id"]
    ]
    delivered = api.post(f"/v1/orders/{order['id']}/deliver").json
    assert delivered["fulfillment"]["status"] == "delivered"
    assert delivered["fulfillment"]["delivered_at"] >= delivered["fulfillment"]["shipped_at"]


def test_fulfil_refuses_unpaid_orders_with_409(client, api, offer):
    url = start(client, offer, shipping=SHIPPING)
    pending = api.get("/v1/orders").json["data"][0]
    assert url
    assert_error(
        api.post(f"/v1/orders/{pending['id']}/fulfill"), 409, "order_not_fulfillable", "id"
    )
    assert_error(
        api.post(f"/v1/orders/{pending['id']}/deliver"), 409, "order_not_fulfillable", "id"
    )
    assert_error(api.post("/v1/orders/ord_nope/fulfill"), 404, "order_not_found", "id")


def test_merchant_settings_through_the_api(api):
    changed = api.patch(
        "/v1/merchant",
        json={
            "support_email": "help@shop.example",
            "return_policy": {"days": 14, "text": "Unworn."},
        },
    ).json
    assert (changed["support_email"], changed["return_policy"]) == (
        "help@shop.example",
        {"text": "Unworn.", "days": 14},
    )
    assert_error(
        api.patch("/v1/merchant", json={"return_policy": {"days": 999}}),
        400,
        "invalid_request",
        "return_policy.days",
    )
    assert_error(api.patch("/v1/merchant", json={"email": "x@"}), 400, "invalid_email", "email")


def test_the_order_page_total_includes_shipping(client, offer):
    url = start(client, offer, shipping=SHIPPING)
    paid = submit_form(client, url, BUYER, form_class="card-form")
    assert page(client.get(paid.location)).find(class_="order-total").get_text() == "€16.90"


def test_the_buy_page_says_shipping_is_extra(client, offer):
    _, token = offer(shipping=SHIPPING)
    note = page(client.get(f"/buy/{token['token']}")).find(class_="shipping-note")
    assert note.get_text().startswith("+ shipping from €4.90")
    _, plain = offer()
    assert page(client.get(f"/buy/{plain['token']}")).find(class_="shipping-note") is None
