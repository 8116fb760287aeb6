"""In real Chromium, at phone width: a shopper buys in French on the TEST MODE page, lands on
the order page (a receipt, in French), receives the receipt at a real SMTP server on loopback,
follows its link, and sees the order shipped with its tracking link once the merchant ships it."""

from __future__ import annotations

import re
from email import message_from_bytes, policy

import pytest

from buybutton.config import parse_smtp_url
from buybutton.mail import SmtpTransport
from buybutton.mail.delivery import MailDeliverer
from buybutton_sdk import Client
from buybutton_server.routes import offline_links
from tests.support.smtp_server import SmtpServer

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture skips (or, in CI, fails) with the reason
    expect = None

pytestmark = pytest.mark.browser

SHIPPING = {
    "countries": ["FR", "BE"],
    "rates": [{"id": "colissimo", "name": "Colissimo", "amount": 490}],
}


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="fr-FR")
    yield context.new_page()
    context.close()


def send_mail(shop, port: int) -> list:
    links = offline_links(shop.url)
    deliverer = MailDeliverer(
        shop.store,
        SmtpTransport(parse_smtp_url(f"smtp://127.0.0.1:{port}?timeout=5")),
        sender="Test Shop <orders@shop.example>",
        order_url=lambda order_id: links.order_url(shop.signer.sign_order_ref(order_id)),
    )
    deliverer.deliver_all_due()


def test_the_shopper_follows_the_receipt_to_the_order_and_its_tracking(phone, shop):
    offer = shop.offer(name="Mug moucheté", shipping=SHIPPING)
    phone.goto(offer["buy_url"] + "?locale=fr")
    phone.wait_for_url("**/sandbox/checkout/*")
    # The TEST MODE page speaks French too.
    phone.get_by_label("E-mail").fill("camille@example.fr")
    phone.get_by_label("Nom complet").fill("Camille Martin")
    phone.get_by_label("Pays").select_option("FR")
    phone.get_by_label("Adresse", exact=True).fill("8 rue de la Paix")
    phone.get_by_label("Code postal").fill("75002")
    phone.get_by_label("Ville").fill("Paris")
    phone.get_by_label("Numéro de carte").fill("4242 4242 4242 4242")
    phone.get_by_role("button", name=re.compile("^Payer")).click()
    phone.wait_for_url("**/orders/*?checkout=success")
    expect(phone.get_by_role("heading", level=1)).to_have_text("Merci ! Votre commande est payée.")
    expect(phone.locator(".order-total")).to_have_text("16,90 €")

    with SmtpServer() as server:
        send_mail(shop, server.port)
    receipts = [
        m
        for m in (message_from_bytes(r.raw, policy=policy.default) for r in server.received)
        if m["To"].addresses[0].addr_spec == "camille@example.fr"
    ]
    [receipt] = receipts
    assert receipt["Subject"].startswith("Reçu de votre commande")
    [link] = re.findall(r"http://\S+/orders/\S+", receipt.get_body(("plain",)).get_content())

    phone.goto(link)
    expect(phone.locator(".order-state")).to_have_text("Payée, en préparation")
    expect(phone.locator("address")).to_contain_text("75002 Paris")
    expect(phone.locator(".step-shipped")).to_have_class(re.compile(r"\btodo\b"))

    order_id = phone.locator("#order").get_attribute("data-order-id")
    sdk = Client(api_key=shop.merchant.api_key, base_url=shop.url, max_retries=0)
    sdk.orders.fulfill(order_id, carrier="Colissimo", tracking_url="https://track.example/6A1")
    phone.reload()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Votre commande est en route")
    track = phone.get_by_role("link", name="Suivre votre colis")
    expect(track).to_have_attribute("href", "https://track.example/6A1")
    expect(phone.locator('[aria-current="step"]')).to_contain_text("Expédiée")
    # Nothing wider than the phone: the page reads without scrolling sideways.
    assert phone.evaluate("document.scrollingElement.scrollWidth") <= 390
