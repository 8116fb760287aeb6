"""The order page (/orders/REF) as a receipt and a tracker, in English and French."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from bs4 import BeautifulSoup

import buybutton_server
from buybutton import catalog, merchants, orders
from buybutton.addresses import PostalAddress
from buybutton.buyers import Customer, Shipping

SERVER = Path(buybutton_server.__file__).parent
EVIL = '<script>alert("x")</script> Mug'

SHIP_TO = Shipping(
    name="Ana Lopez",
    address=PostalAddress(
        line1="12 rue des Lilas",
        line2="Bât. B",
        city="Lyon",
        postal_code="69003",
        state="",
        country="FR",
    ),
    rate_id="colissimo",
    rate_name="Colissimo",
    amount=490,
)


@pytest.fixture
def rt(app):
    return app.extensions["buybutton"]


@pytest.fixture
def shop(rt, merchant):
    with rt.store.transaction() as conn:
        merchants.update_merchant(
            conn,
            merchant.id,
            {
                "support_email": "help@lune.example",
                "return_policy": {"text": "Unused, in the box.", "days": 14},
            },
        )
    return merchant


def place(rt, merchant, *, ships=True, name="Mug", locale=None, paid=True, quantity=2, now=None):
    shipping = (
        {"countries": ["FR"], "rates": [{"id": "colissimo", "name": "Colissimo", "amount": 490}]}
        if ships
        else None
    )
    with rt.store.transaction() as conn:
        product = catalog.create_product(
            conn,
            merchant.id,
            {"name": name, "amount": 1200, "currency": "eur", "shipping": shipping},
        )
        order = orders.create_order(
            conn,
            catalog.offer_claims(product),
            quantity,
            provider="sandbox",
            ttl_seconds=1800,
            locale=locale,
            now=now,
        )
        if paid:
            order = orders.mark_paid(
                conn,
                order.id,
                amount=order.amount + (490 if ships else 0),
                currency="eur",
                payment_id=f"pay_{order.id}",
                customer=Customer(email="ana@example.com", name="Ana Lopez"),
                shipping=SHIP_TO if ships else None,
                now=now,
            )
    return order


def view(client, rt, order, **query):
    ref = rt.signer.sign_order_ref(order.id)
    response = client.get(f"/orders/{ref}", query_string=query)
    assert response.status_code == 200, response.get_data(as_text=True)
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def steps(page) -> list[tuple[str, bool]]:
    return [
        (li["class"][1].removeprefix("step-"), "done" in li["class"])
        for li in page.select("ol.timeline > li")
    ]


def text_of(page, selector: str) -> str:
    return " ".join(page.select_one(selector).get_text(" ").split())


def test_a_paid_order_is_a_receipt_with_amounts_address_and_the_shop(client, rt, shop):
    order = place(rt, shop)
    page = view(client, rt, order)
    assert page.find("h1").get_text() == "Thank you! Your order is paid."
    assert page.select_one(".order-shop").get_text() == "Test Shop"
    assert text_of(page, ".order-item") == "2 × Mug"
    assert text_of(page, ".order-subtotal") == "€24.00"
    assert text_of(page, ".order-shipping") == "€4.90"
    assert text_of(page, ".order-total") == "€28.90"
    assert "Colissimo" in text_of(page, "dl.order")
    assert text_of(page, ".order-state") == "Paid, being prepared"
    assert [line for line in page.select_one("address").stripped_strings] == [
        "Ana Lopez",
        "12 rue des Lilas",
        "Bât. B",
        "69003 Lyon",
        "France",
    ]
    support = page.select_one('.order-help a[href^="mailto:"]')
    assert support.get_text() == "help@lune.example"
    assert "within 14 days of delivery" in text_of(page, ".order-returns")
    assert "Unused, in the box." in text_of(page, ".order-returns")
    assert steps(page) == [
        ("placed", True),
        ("paid", True),
        ("shipped", False),
        ("delivered", False),
    ]
    assert page.select_one('[aria-current="step"]')["class"][1] == "step-paid"
    # Digital goods (branch digital) fill this block; it shows nothing by itself.
    assert "Download" not in page.get_text()


def test_shipping_and_delivery_show_on_the_timeline_with_the_tracking_link(client, rt, shop):
    order = place(rt, shop)
    with rt.store.transaction() as conn:
        orders.fulfill_order(
            conn,
            shop.id,
            order.id,
            carrier="Colissimo",
            tracking_number="6A123",
            tracking_url="https://track.example/6A123",
        )
    page = view(client, rt, order)
    assert page.find("h1").get_text() == "Your order is on its way"
    assert text_of(page, ".order-state") == "Shipped"
    shipped = page.select_one(".step-shipped")
    assert (
        "Carrier: Colissimo" in shipped.get_text()
        and "Tracking number: 6A123" in shipped.get_text()
    )
    link = shipped.select_one("a.step-link")
    assert link["href"] == "https://track.example/6A123" and link.get_text() == "Track your parcel"
    assert "noopener" in link["rel"]
    assert steps(page)[2:] == [("shipped", True), ("delivered", False)]
    with rt.store.transaction() as conn:
        orders.deliver_order(conn, shop.id, order.id)
    page = view(client, rt, order)
    assert page.find("h1").get_text() == "Your order was delivered"
    assert steps(page)[-1] == ("delivered", True)
    assert page.select_one('[aria-current="step"]')["class"][1] == "step-delivered"


def test_a_refund_ends_the_timeline_and_says_how_much(client, rt, shop):
    order = place(rt, shop)
    with rt.store.transaction() as conn:
        orders.mark_refunded(conn, order.id)
    page = view(client, rt, order)
    assert page.find("h1").get_text() == "This order was refunded"
    assert text_of(page, ".order-state") == "Refunded"
    assert text_of(page, "dd.order-refunded") == "€28.90"
    assert steps(page) == [("placed", True), ("paid", True), ("refunded", True)]


def test_a_pending_order_waits_for_payment(client, rt, shop):
    order = place(rt, shop, paid=False)
    page = view(client, rt, order)
    assert page.find("h1").get_text() == "Waiting for payment"
    assert steps(page) == [
        ("placed", True),
        ("paid", False),
        ("shipped", False),
        ("delivered", False),
    ]
    assert page.select("address") == [] and page.select(".order-returns") == []


def test_goods_that_do_not_ship_have_no_shipping_steps(client, rt, shop):
    page = view(client, rt, place(rt, shop, ships=False))
    assert steps(page) == [("placed", True), ("paid", True)]
    assert text_of(page, ".order-state") == "Paid" and page.select(".order-shipping") == []
    assert text_of(page, ".order-total") == "€24.00"


def test_the_page_speaks_the_language_of_the_checkout(client, rt, shop):
    order = place(rt, shop, locale="fr", now=1_796_124_600)  # 1 Dec 2026, 11:30 UTC
    page = view(client, rt, order)
    assert page.find("html")["lang"] == "fr"
    assert page.find("h1").get_text() == "Merci ! Votre commande est payée."
    assert text_of(page, ".order-total") == "28,90 €"
    assert text_of(page, ".order-state") == "Payée, en préparation"
    assert page.find("h2", id="address-title").get_text() == "Livraison à"
    assert page.find(id="order")["data-back-label"] == "Retour à %(site)s"  # order.js's link
    assert "sous 14 jours" in text_of(page, ".order-returns")
    assert text_of(page, ".step-placed") == "Commande passée 1 déc. 2026, 11:30 UTC"
    # ?locale= wins over the checkout's language; an unknown one is English.
    assert view(client, rt, order, locale="en").find("h1").get_text().startswith("Thank you")
    assert view(client, rt, order, locale="xx").find("html")["lang"] == "en"


def test_the_browsers_language_when_the_checkout_recorded_none(client, rt, shop):
    order = place(rt, shop)
    ref = rt.signer.sign_order_ref(order.id)
    html = client.get(f"/orders/{ref}", headers={"Accept-Language": "fr-CA,fr;q=0.9"}).get_data(
        as_text=True
    )
    assert "Merci ! Votre commande est payée." in html and 'lang="fr"' in html


def test_what_the_merchant_and_buyer_typed_is_escaped(client, rt, shop):
    order = place(rt, shop, name=EVIL)
    ref = rt.signer.sign_order_ref(order.id)
    html = client.get(f"/orders/{ref}").get_data(as_text=True)
    assert "<script>alert" not in html and "&lt;script&gt;alert" in html


# -- the French catalog --------------------------------------------------------------------------


def page_msgids() -> set[str]:
    with (SERVER / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f)
    return {
        message if isinstance(message, str) else message[0]
        for _, _, message, _, _ in extract_from_dir(SERVER, method_map, options_map)
    }


def test_every_page_msgid_has_a_french_translation_and_none_is_stale():
    with (SERVER / "locales" / "fr" / "LC_MESSAGES" / "messages.po").open("rb") as f:
        french = read_po(f, locale="fr")
    ids = page_msgids()
    assert len(ids) > 30
    untranslated = [
        msgid
        for msgid in ids
        if not (entry := french.get(msgid))
        or entry.fuzzy
        or not all(entry.string if isinstance(entry.string, tuple) else (entry.string,))
    ]
    assert untranslated == []
    assert {m.id if isinstance(m.id, str) else m.id[0] for m in french if m.id} == ids
    assert list(french.check()) == []  # the same %(name)s placeholders in msgid and msgstr


def test_the_documented_catalog_commands_leave_the_catalog_unchanged(tmp_path):
    pybabel = Path(sys.executable).parent / "pybabel"
    pot = tmp_path / "pages.pot"
    # The commands of server/buybutton_server/shopper/i18n.py's docstring, --check on the update.
    extract = [pybabel, "--quiet", "extract", "-F", SERVER / "babel.cfg", "--no-location"]
    subprocess.run([*extract, "-o", pot, SERVER], check=True)
    update = subprocess.run(
        [
            pybabel,
            "--quiet",
            "update",
            "-i",
            pot,
            "-d",
            SERVER / "locales",
            "--ignore-pot-creation-date",
            "--check",
        ],
        capture_output=True,
        text=True,
    )
    assert update.returncode == 0, update.stdout + update.stderr
