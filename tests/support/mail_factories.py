"""Plain data for the mail tests: a shop, an order with every optional part, and parsing."""

from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage

from buybutton.mail import OrderSummary, Shipment, ShippingAddress, Shop
from buybutton.money import Money

NOW = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
SENDER = "Atelier Lune <orders@lune.example>"
EVIL_NAME = "<script>alert(1)</script>"


def make_shop(**changes) -> Shop:
    values = dict(
        name="Atelier Lune",
        support_email="help@lune.example",
        return_policy="Unused items in their box.",
        return_days=14,
    )
    return Shop(**{**values, **changes})


def make_order(**changes) -> OrderSummary:
    values = dict(
        id="ord_123",
        item="Moon mug",
        quantity=2,
        unit_price=Money(1200, "eur"),
        buyer_email="ana@example.com",
        buyer_name="Ana Lopez",
        shipping=Money(490, "eur"),
        shipping_rate="Colissimo 48h",
        shipping_address=ShippingAddress(
            "Ana Lopez", "1 rue de la Paix", postal_code="75002", city="Paris", country="FR"
        ),
        url="https://buy.example.com/orders/ord_123",
        download_url="https://buy.example.com/downloads/dl_9",
        license_key="LUNE-1234-ABCD",
    )
    return OrderSummary(**{**values, **changes})


def make_shipment(**changes) -> Shipment:
    values = dict(
        carrier="La Poste",
        tracking_number="6A123456789",
        tracking_url="https://track.example.com/6A123456789",
    )
    return Shipment(**{**values, **changes})


def parse(raw: bytes) -> EmailMessage:
    """What a mail client sees: the bytes parsed with the modern policy."""
    return message_from_bytes(raw, policy=policy.default)


def parts(message: EmailMessage) -> tuple[str, str]:
    """The (text, html) bodies of a multipart/alternative message."""
    assert message.get_content_type() == "multipart/alternative"
    kinds = [part.get_content_type() for part in message.iter_parts()]
    assert kinds == ["text/plain", "text/html"]
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    return text, html
