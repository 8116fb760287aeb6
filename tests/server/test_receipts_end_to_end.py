"""A shopper's purchase in the sandbox, end to end: the receipt reaches a real SMTP server on
loopback (aiosmtpd) through the mail worker the command line runs, its order link opens the
order page, and marking the order shipped sends the "shipped" mail and updates that page."""

from __future__ import annotations

import re
from email import message_from_bytes, policy

from bs4 import BeautifulSoup

from buybutton import cli
from tests.support.forms import submit_form
from tests.support.smtp_server import SmtpServer

SHIPPING = {
    "countries": ["FR", "BE"],
    "rates": [{"id": "colissimo", "name": "Colissimo", "amount": 490}],
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


def deliver_mail(monkeypatch, settings, port: int) -> None:
    for name, value in {
        "BUYBUTTON_HOME": str(settings.home),
        "DATABASE_URL": settings.database_url,
        "BUYBUTTON_SECRET_KEYS": ",".join(settings.secret_keys),
        "BUYBUTTON_PUBLIC_URL": settings.public_url,
        "BUYBUTTON_SMTP_URL": f"smtp://127.0.0.1:{port}?timeout=5",
        "BUYBUTTON_MAIL_FROM": "Test Shop <orders@shop.test>",
    }.items():
        monkeypatch.setenv(name, value)
    assert cli.main(["mail", "deliver", "--once"]) == 0


def received(server) -> dict[str, object]:
    return {
        str(m["Subject"]): m
        for m in (message_from_bytes(r.raw, policy=policy.default) for r in server.received)
    }


def test_the_receipt_arrives_links_the_order_page_and_shipping_follows(
    client, api, offer, settings, monkeypatch, capsys
):
    updated = api.patch(
        "/v1/merchant", json={"email": "owner@shop.example", "support_email": "help@shop.example"}
    )
    assert updated.status_code == 200, updated.get_data(as_text=True)
    _, token = offer(shipping=SHIPPING)
    started = submit_form(client, f"/buy/{token['token']}?locale=fr", form_class="checkout")
    paid = submit_form(client, started.location, BUYER, form_class="card-form")
    assert paid.status_code == 303, paid.get_data(as_text=True)

    with SmtpServer() as server:
        deliver_mail(monkeypatch, settings, server.port)
    mails = received(server)
    [receipt] = [m for s, m in mails.items() if s.startswith("Reçu de votre commande")]
    assert receipt["To"] == "Camille Martin <camille@example.fr>"
    text = receipt.get_body(("plain",)).get_content()
    assert "16,90\xa0€" in text and "8 rue de la Paix" in text and "help@shop.example" in text
    [link] = re.findall(r"http://shop\.test(/orders/\S+)", text)
    order_page = BeautifulSoup(client.get(link).get_data(as_text=True), "html.parser")
    assert order_page.find("h1").get_text() == "Merci ! Votre commande est payée."
    [notice] = [m for s, m in mails.items() if s.startswith("New order")]
    assert notice["To"] == "owner@shop.example" and notice["Reply-To"] == receipt["To"]

    order_id = api.get("/v1/orders").json["data"][0]["id"]
    shipped = api.post(
        f"/v1/orders/{order_id}/fulfill",
        json={"carrier": "Colissimo", "tracking_url": "https://track.example/6A1"},
    )
    assert shipped.status_code == 200, shipped.get_data(as_text=True)
    with SmtpServer() as server:
        deliver_mail(monkeypatch, settings, server.port)
    [shipped_mail] = received(server).values()  # only the new message: nothing sent twice
    assert "expédiée" in shipped_mail["Subject"]
    assert "https://track.example/6A1" in shipped_mail.get_body(("plain",)).get_content()
    order_page = BeautifulSoup(client.get(link).get_data(as_text=True), "html.parser")
    assert order_page.find("h1").get_text() == "Votre commande est en route"
    assert order_page.select_one(".step-shipped a")["href"] == "https://track.example/6A1"
    assert "Mail: 1 sent" in capsys.readouterr().out
