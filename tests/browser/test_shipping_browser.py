"""A shopper buys a product that ships, in real Chromium, on the sandbox's TEST MODE page: email,
address and shipping rate (a mistake first, shown next to its field), then the merchant sees the
buyer through the API, the SDK and the CSV export, and ships the order."""

from __future__ import annotations

import csv
import io

import pytest
import requests

from buybutton_sdk import Client

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture skips (or, in CI, fails) with the reason
    expect = None

pytestmark = pytest.mark.browser

SHIPPING = {
    "countries": ["FR", "BE", "DE"],
    "rates": [
        {
            "id": "standard",
            "name": "Standard post",
            "amount": 490,
            "delivery_estimate": {"min_days": 3, "max_days": 5},
        },
        {
            "id": "express",
            "name": "Express",
            "amount": 1290,
            "delivery_estimate": {"min_days": 1, "max_days": 2},
        },
    ],
}


def test_shopper_buys_a_shippable_product_and_the_merchant_ships_it(page, shop):
    offer = shop.offer(name="Canvas tote", amount=1900, shipping=SHIPPING)
    page.goto(offer["buy_url"])  # with no choice to make, the buy page goes on to payment
    page.wait_for_url("**/sandbox/checkout/*")
    expect(page.locator("#pay-total")).to_have_text("€23.90")  # standard post by default

    page.get_by_label("Email").fill("camille@example.fr")
    page.get_by_label("Full name").fill("Camille Martin")
    page.get_by_label("Country").select_option("DE")
    page.get_by_label("Address", exact=True).fill("Unter den Linden 77")
    page.get_by_label("Postal code").fill("1011")  # a German code has five digits
    page.get_by_label("City").fill("Berlin")
    page.get_by_label("Express").check()
    expect(page.locator("#pay-total")).to_have_text("€31.90")
    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    page.get_by_role("button", name="Pay €31.90").click()

    # Refused, nothing charged: the message sits under the postal code, what was typed stays.
    error = page.locator("#address_postal_code-error")
    expect(error).to_contain_text("'1011' is not a postal code of Germany")
    expect(page.get_by_label("Postal code")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Email")).to_have_value("camille@example.fr")
    expect(page.get_by_label("Country")).to_have_value("DE")
    expect(page.get_by_label("Express")).to_be_checked()
    expect(page.locator("#pay-total")).to_have_text("€31.90")

    page.get_by_label("Postal code").fill("10117")
    page.get_by_role("button", name="Pay €31.90").click()
    page.wait_for_url("**/orders/*?checkout=success")

    # The merchant: the API, the SDK and the CSV export all show the buyer and the address.
    api = requests.Session()
    api.headers.update(shop.merchant.headers)
    [order] = api.get(f"{shop.url}/v1/orders", params={"product_id": offer["product"].id}).json()[
        "data"
    ]
    assert order["status"] == "paid"
    assert order["customer"]["email"] == "camille@example.fr"
    assert order["shipping"]["address"] == {
        "line1": "Unter den Linden 77",
        "line2": "",
        "city": "Berlin",
        "postal_code": "10117",
        "state": "",
        "country": "DE",
    }
    assert (order["amount_subtotal"], order["amount_shipping"], order["amount_total"]) == (
        1900,
        1290,
        3190,
    )

    sdk = Client(api_key=shop.merchant.api_key, base_url=shop.url, max_retries=0)
    to_ship = [o for o in sdk.orders.list(fulfillment="unfulfilled") if o.id == order["id"]]
    assert len(to_ship) == 1
    assert to_ship[0].shipping.name == "Camille Martin"
    assert to_ship[0].shipping.address.city == "Berlin"
    assert to_ship[0].shipping.rate_name == "Express"
    rows = list(csv.DictReader(io.StringIO(sdk.orders.export_csv(fulfillment="unfulfilled"))))
    row = next(r for r in rows if r["order_id"] == order["id"])
    assert (row["customer_email"], row["shipping_postal_code"], row["shipping_country"]) == (
        "camille@example.fr",
        "10117",
        "DE",
    )

    shipped = sdk.orders.fulfill(order["id"], carrier="DHL", tracking_number="JJD0001")
    assert (shipped.fulfillment.status, shipped.fulfillment.carrier) == ("shipped", "DHL")
    assert sdk.orders.deliver(order["id"]).fulfillment.status == "delivered"
