"""Mail messages: headers, both parts, languages, money, escaping, and the French catalog."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from bs4 import BeautifulSoup

from buybutton.errors import InvalidRequest
from buybutton.mail import (
    build_new_order,
    build_receipt,
    build_refunded,
    build_shipped,
    mail_locale,
)
from buybutton.mail.messages import LOCALES, TEMPLATES, translations
from buybutton.money import Money
from tests.support.mail_factories import (
    EVIL_NAME,
    NOW,
    SENDER,
    make_order,
    make_shipment,
    make_shop,
    parse,
    parts,
)

MAIL = TEMPLATES.parent
REPO = Path(__file__).resolve().parents[2]


def received(message):
    """The message as it arrives: serialized to bytes and parsed back."""
    return parse(message.as_bytes())


def html_soup(message) -> BeautifulSoup:
    return BeautifulSoup(parts(message)[1], "html.parser")


# -- the receipt -------------------------------------------------------------------------------


def test_receipt_in_english_has_headers_both_parts_and_every_detail():
    message = received(
        build_receipt(make_shop(), make_order(), sender=SENDER, locale="en", now=NOW)
    )
    assert message["Subject"] == "Your receipt from Atelier Lune (order ord_123)"
    assert message["From"] == SENDER and message["To"] == "Ana Lopez <ana@example.com>"
    assert message["Reply-To"] == "help@lune.example"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Date"].datetime == NOW and message["Message-ID"].endswith("@lune.example>")
    assert message["Content-Language"] == "en"
    text, html = parts(message)
    for expected in (
        "Item: Moon mug",
        "Quantity: 2",
        "Unit price: €12.00",
        "Subtotal: €24.00",
        "Shipping (Colissimo 48h): €4.90",
        "Total: €28.90",
        "1 rue de la Paix",
        "75002 Paris",
        "France",
        "https://buy.example.com/orders/ord_123",
        "https://buy.example.com/downloads/dl_9",
        "LUNE-1234-ABCD",
        "You can return it within 14 days of delivery.",
        "Unused items in their box.",
        "help@lune.example",
    ):
        assert expected in text, expected
    page = BeautifulSoup(html, "html.parser").get_text(" ")
    for expected in (
        "Moon mug",
        "€12.00",
        "€24.00",
        "€4.90",
        "€28.90",
        "LUNE-1234-ABCD",
        "14 days",
        "Unused items in their box.",
        "Paris",
    ):
        assert expected in page, expected
    links = {a["href"]: a.get_text() for a in BeautifulSoup(html, "html.parser").find_all("a")}
    assert links == {
        "https://buy.example.com/orders/ord_123": "View your order",
        "https://buy.example.com/downloads/dl_9": "Download",
    }


@pytest.mark.parametrize("locale", ["fr", "fr_FR", "fr-CA", "fr_CA"])
def test_receipt_is_french_for_every_french_locale(locale):
    message = received(
        build_receipt(make_shop(), make_order(), sender=SENDER, locale=locale, now=NOW)
    )
    text, html = parts(message)
    assert message["Subject"] == "Reçu de votre commande ord_123 chez Atelier Lune"
    assert message["Content-Language"] == locale.replace("_", "-")
    assert "Merci pour votre commande chez Atelier Lune. Votre paiement a bien été reçu." in text
    assert "Total : 28,90\u00a0€" in text and "Quantité : 2" in text
    assert "Vous pouvez le retourner dans un délai de 14 jours après la livraison." in text
    assert "Voir votre commande" in html and 'lang="fr"' in html


def test_plural_of_return_days_follows_the_language():
    def returns(days, locale):
        return parts(
            received(
                build_receipt(
                    make_shop(return_days=days), make_order(), sender=SENDER, locale=locale
                )
            )
        )[0]

    assert "within 1 day of delivery." in returns(1, "en")
    assert "within 0 days of delivery." in returns(0, "en")
    assert "délai de 1 jour après" in returns(1, "fr")
    assert "délai de 0 jour après" in returns(0, "fr")  # French: 0 is singular
    assert "délai de 30 jours après" in returns(30, "fr")


@pytest.mark.parametrize(
    "locale, written, total",
    [
        (None, "en", "Total: €28.90"),
        ("xx", "en", "Total: €28.90"),
        ("de_DE", "en", "Total: €28.90"),  # Babel knows German, we have no catalog: English
        ("en_GB", "en_GB", "Total: €28.90"),
        ("fr_CA", "fr_CA", "Total : 28,90\u00a0€"),
    ],
)
def test_unknown_languages_fall_back_to_english(locale, written, total):
    assert mail_locale(locale) == written
    text, _ = parts(
        received(build_receipt(make_shop(), make_order(), sender=SENDER, locale=locale))
    )
    assert total in text


def test_zero_decimal_currency_is_formatted_without_minor_units():
    order = make_order(unit_price=Money(1500, "jpy"), shipping=None, quantity=3)
    text, _ = parts(received(build_receipt(make_shop(), order, sender=SENDER, locale="en")))
    assert (
        "Unit price: ¥1,500" in text
        and "Total: ¥4,500" in text
        and "Shipping:" not in text
        and "Shipping (" not in text
    )


def test_product_name_is_escaped_in_html_and_plain_in_text():
    shop = make_shop(name='Shop "<b>"', return_policy="<img src=https://evil.example/x.png>")
    order = make_order(
        item=EVIL_NAME, buyer_name='<a href="https://evil.example">x</a>', license_key="<i>key</i>"
    )
    receipt = received(build_receipt(shop, order, sender=SENDER))
    new_order = received(build_new_order(shop, order, to="owner@lune.example", sender=SENDER))
    assert new_order["Subject"] == f"New order ord_123: 2 × {EVIL_NAME}"  # a header is text
    assert "Your license key: <i>key</i>" in parts(receipt)[0]
    for message in (receipt, new_order):
        text, html = parts(message)
        assert f"Item: {EVIL_NAME}" in text
        assert "<script" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        soup = BeautifulSoup(html, "html.parser")
        assert soup.find("script") is None and soup.find("b") is None and soup.find("i") is None
        assert [a["href"] for a in soup.find_all("a") if "evil" in a["href"]] == []
        assert EVIL_NAME in soup.get_text()


@pytest.mark.parametrize("build", ["receipt", "shipped", "refunded", "new_order"])
def test_html_fetches_nothing_when_opened(build):
    message = received(_build(build))
    html = parts(message)[1]
    soup = BeautifulSoup(html, "html.parser")
    assert (
        soup.find_all(
            [
                "img",
                "link",
                "script",
                "style",
                "iframe",
                "object",
                "video",
                "audio",
                "source",
                "form",
                "embed",
            ]
        )
        == []
    )
    assert not [
        t for t in soup.find_all(style=True) if "url(" in t["style"] or "@import" in t["style"]
    ]
    assert not [t for t in soup.find_all(src=True)] and "background=" not in html
    assert "http" not in " ".join(str(t.attrs) for t in soup.find_all(lambda t: t.name != "a"))
    assert all(a["href"].startswith("https://") for a in soup.find_all("a"))


def _build(kind: str):
    shop, order = make_shop(), make_order()
    if kind == "receipt":
        return build_receipt(shop, order, sender=SENDER, now=NOW)
    if kind == "shipped":
        return build_shipped(shop, order, make_shipment(), sender=SENDER, now=NOW)
    if kind == "refunded":
        return build_refunded(shop, order, Money(2890, "eur"), sender=SENDER, now=NOW)
    return build_new_order(
        shop,
        order,
        to="Owner <owner@lune.example>",
        sender=SENDER,
        dashboard_url="https://buy.example.com/dashboard/orders/ord_123",
        now=NOW,
    )


# -- the other messages ------------------------------------------------------------------------


def test_shipped_names_the_carrier_and_links_the_tracking_page():
    message = received(
        build_shipped(make_shop(), make_order(), make_shipment(), sender=SENDER, locale="fr")
    )
    text, html = parts(message)
    assert message["Subject"] == "Votre commande chez Atelier Lune a été expédiée"
    assert message["Reply-To"] == "help@lune.example"
    assert "Transporteur : La Poste" in text and "Numéro de suivi : 6A123456789" in text
    assert "Suivre votre colis : https://track.example.com/6A123456789" in text
    links = {a["href"]: a.get_text() for a in BeautifulSoup(html, "html.parser").find_all("a")}
    assert links["https://track.example.com/6A123456789"] == "Suivre votre colis"


def test_shipped_without_tracking_link_still_names_the_carrier():
    text, html = parts(
        received(
            build_shipped(
                make_shop(),
                make_order(),
                make_shipment(tracking_url=None, tracking_number=None),
                sender=SENDER,
                locale="en",
            )
        )
    )
    assert "Carrier: La Poste" in text and "Track" not in text and "Tracking" not in html


def test_refunded_says_how_much_went_back():
    message = received(
        build_refunded(make_shop(), make_order(), Money(1200, "eur"), sender=SENDER, locale="en")
    )
    text, html = parts(message)
    assert message["Subject"] == "Your order from Atelier Lune was refunded"
    assert "Atelier Lune refunded €12.00 for your order ord_123." in text
    assert "€12.00" in BeautifulSoup(html, "html.parser").get_text()


def test_new_order_tells_the_merchant_what_to_ship_and_replies_go_to_the_buyer():
    message = received(_build("new_order"))
    text, html = parts(message)
    assert message["To"] == "Owner <owner@lune.example>"
    assert message["Reply-To"] == "Ana Lopez <ana@example.com>"
    assert message["Subject"] == "New order ord_123: 2 × Moon mug"
    for expected in (
        "Buyer: Ana Lopez (ana@example.com)",
        "Quantity: 2",
        "Shipping (Colissimo 48h): €4.90",
        "Ship to:",
        "1 rue de la Paix",
        "https://buy.example.com/dashboard/orders/ord_123",
    ):
        assert expected in text, expected
    assert "Ana Lopez (ana@example.com)" in BeautifulSoup(html, "html.parser").get_text()


def test_new_order_without_address_says_there_is_nothing_to_ship():
    order = make_order(shipping=None, shipping_address=None, shipping_rate=None)
    text, _ = parts(
        received(
            build_new_order(make_shop(), order, to="owner@lune.example", sender=SENDER, locale="fr")
        )
    )
    assert "Rien à expédier" in text and "Livraison" not in text


def test_shop_without_support_email_sends_without_reply_to():
    message = build_receipt(make_shop(support_email=None), make_order(), sender=SENDER)
    assert message["Reply-To"] is None and "Questions?" not in parts(received(message))[0]


@pytest.mark.parametrize(
    "build, param",
    [
        (
            lambda: build_receipt(
                make_shop(), make_order(url="javascript:alert(1)"), sender=SENDER
            ),
            "url",
        ),
        (
            lambda: build_shipped(
                make_shop(),
                make_order(),
                make_shipment(tracking_url="data:text/html,x"),
                sender=SENDER,
            ),
            "tracking_url",
        ),
        (
            lambda: build_receipt(
                make_shop(), make_order(buyer_email="not an address"), sender=SENDER
            ),
            "buyer_email",
        ),
        (
            lambda: build_receipt(
                make_shop(support_email="a@b.example\nBcc: x@y.example"),
                make_order(),
                sender=SENDER,
            ),
            "support_email",
        ),
        (lambda: build_receipt(make_shop(), make_order(), sender="nobody"), "sender"),
        (lambda: build_receipt(make_shop(), make_order(quantity=0), sender=SENDER), "quantity"),
        (
            lambda: build_receipt(make_shop(), make_order(shipping=Money(5, "usd")), sender=SENDER),
            "shipping",
        ),
        (
            lambda: build_refunded(make_shop(), make_order(), Money(5, "usd"), sender=SENDER),
            "refund",
        ),
        (lambda: build_new_order(make_shop(), make_order(), to="a@b, c@d", sender=SENDER), "to"),
    ],
)
def test_builders_refuse_unsafe_or_inconsistent_data(build, param):
    with pytest.raises(InvalidRequest) as caught:
        build()
    assert caught.value.param == param


def test_a_buyer_name_cannot_add_recipients():
    order = make_order(buyer_name='Eve, <eve@evil.example>, "x"')
    message = received(build_receipt(make_shop(), order, sender=SENDER))
    assert [a.addr_spec for a in message["To"].addresses] == ["ana@example.com"]


# -- the catalogs ------------------------------------------------------------------------------


def template_msgids() -> set:
    """Every msgid of the templates, extracted by Babel with the package's own babel.cfg."""
    with (MAIL / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f)
    return {
        message if isinstance(message, str) else tuple(message)
        for _, _, message, _, _ in extract_from_dir(TEMPLATES, method_map, options_map)
    }


def french_catalog():
    with (LOCALES / "fr" / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return read_po(f, locale="fr")


def test_every_template_msgid_has_a_french_translation():
    catalog = french_catalog()
    ids = template_msgids()
    assert len(ids) > 40
    missing = []
    for msgid in ids:
        entry = catalog.get(msgid[0] if isinstance(msgid, tuple) else msgid)
        strings = entry and (entry.string if isinstance(entry.string, tuple) else (entry.string,))
        if (
            not entry
            or entry.fuzzy
            or not all(strings)
            or len(strings) != (catalog.num_plurals if entry.pluralizable else 1)
        ):
            missing.append(msgid)
    assert missing == []


def test_french_catalog_has_no_stale_entries_and_placeholders_match():
    catalog = french_catalog()
    extracted = {m[0] if isinstance(m, tuple) else m for m in template_msgids()}
    assert {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id} == extracted
    assert list(catalog.check()) == []  # python-format: same %(name)s in msgid and msgstr


def test_documented_catalog_commands_leave_the_catalog_unchanged(tmp_path):
    pybabel = Path(sys.executable).parent / "pybabel"
    pot = tmp_path / "mail.pot"
    # The commands of buybutton/mail/__init__.py's docstring, with --check on the update.
    subprocess.run(
        [
            pybabel,
            "--quiet",
            "extract",
            "-F",
            "buybutton/mail/babel.cfg",
            "--no-location",
            "-o",
            pot,
            "buybutton/mail/templates",
        ],
        cwd=REPO,
        check=True,
    )
    update = subprocess.run(
        [
            pybabel,
            "--quiet",
            "update",
            "-i",
            pot,
            "-d",
            "buybutton/mail/locales",
            "--ignore-pot-creation-date",
            "--check",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert update.returncode == 0, update.stdout + update.stderr


def test_runtime_translations_come_from_the_po_file():
    assert translations("fr").gettext("Total") == "Total"
    assert translations("fr").gettext("Quantity") == "Quantité"
    assert translations("fr").ngettext(
        "You can return it within %(count)s day of delivery.",
        "You can return it within %(count)s days of delivery.",
        5,
    ) % {"count": 5} == ("Vous pouvez le retourner dans un délai de 5 jours après la livraison.")


# -- packaging ---------------------------------------------------------------------------------


def test_wheels_ship_every_template_and_catalog():
    import tomllib

    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    package = REPO / "buybutton"
    shipped = {
        path
        for pattern in config["tool"]["setuptools"]["package-data"]["buybutton"]
        for path in package.glob(pattern)
    }
    data = {
        path
        for path in MAIL.rglob("*")
        if path.is_file() and path.suffix != ".py" and "__pycache__" not in path.parts
    }
    assert data and data <= shipped


def test_importing_mail_loads_no_flask():
    code = (
        "import sys, buybutton.mail; "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('flask', 'buybutton_server')]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
