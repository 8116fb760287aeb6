"""Through the real stripe library and the fake Stripe: the buyer Stripe Checkout reports
gets the receipt, in the language of the buy page, and a refund queues the "refunded" mail."""

from __future__ import annotations

import requests

from buybutton import orders
from buybutton.mail.outbox import list_mail
from tests.support.forms import form_fields, submit_form
from tests.support.stripe_fake import wait_for


def test_a_stripe_payment_queues_the_receipt_to_the_buyer_stripe_reports(shop, fake_stripe):
    token = shop.offer()
    browser = requests.Session()
    started = submit_form(
        browser,
        f"{shop.url}/buy/{token}?locale=fr",
        form_class="checkout",
        allow_redirects=False,
    )
    assert started.status_code == 303, started.text
    browser.post(
        started.headers["Location"],
        data={"card": "4242424242424242", "email": "camille@example.fr", "name": "Camille"},
        allow_redirects=False,
    )
    order_id = shop.only_order().id
    wait_for(lambda: shop.order(order_id).status == "paid")
    with shop.store.read() as conn:
        [receipt] = list_mail(conn, order_id)  # the merchant set no email: no "new order"
    assert (receipt.kind, receipt.to_address, receipt.locale) == (
        "receipt",
        "camille@example.fr",
        "fr",
    )

    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {shop.merchant.api_key}"
    refunded = api.post(f"{shop.url}/v1/orders/{order_id}/refund")
    assert refunded.status_code == 200, refunded.text
    wait_for(lambda: shop.order(order_id).status == "refunded")
    with shop.store.read() as conn:
        kinds = [m.kind for m in list_mail(conn, order_id)]
    assert kinds == ["receipt", "refunded"]


def test_a_one_click_purchase_sends_its_receipt_to_the_saved_customer(shop, fake_stripe):
    token = shop.offer()
    browser = requests.Session()
    first = submit_form(
        browser,
        f"{shop.url}/buy/{token}",
        {"save_card": "1"},
        form_class="checkout",
        allow_redirects=False,
    )
    browser.post(
        first.headers["Location"],
        data={"card": "4242424242424242", "email": "camille@example.fr", "name": "Camille"},
    )
    page = browser.get(f"{shop.url}/buy/{token}?locale=fr")
    assert "•••4242" in page.text
    clicked = browser.post(
        f"{shop.url}/buy/{token}/one-click",
        data=form_fields(page.text, "one-click"),
        allow_redirects=False,
    )
    assert clicked.status_code == 303 and "checkout=success" in clicked.headers["Location"]
    with shop.store.read() as conn:
        found, _ = orders.list_orders(conn, shop.merchant.id)
        second = found[0]  # newest first: the one-click order, paid with no payment page
        assert second.status == "paid" and second.customer.email == "camille@example.fr"
        [receipt] = list_mail(conn, second.id)
    assert (receipt.kind, receipt.to_address, receipt.locale) == (
        "receipt",
        "camille@example.fr",
        "fr",
    )
