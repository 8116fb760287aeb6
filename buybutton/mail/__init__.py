"""Email: receipts and notices for shoppers and merchants, and the transports that deliver them.

Build a message from plain data, then hand it to the transport the settings name::

    from buybutton.config import load_settings
    from buybutton.mail import MailDeliveryError, OrderSummary, Shop, build_receipt, make_transport
    from buybutton.money import Money

    settings = load_settings()
    shop = Shop("Atelier Lune", support_email="help@lune.example", return_days=14)
    order = OrderSummary(id="ord_123", item="Mug", quantity=2, unit_price=Money(1200, "eur"),
                         buyer_email="ana@example.com", url="https://buy.example.com/o/ord_123")
    message = build_receipt(shop, order, sender=settings.mail_from, locale="fr")
    try:
        message_id = make_transport(settings).send(message)
    except MailDeliveryError as exc:
        ...  # exc.retryable: back off and try again, or give up

Without ``BUYBUTTON_SMTP_URL`` messages are written as ``.eml`` files under
``$BUYBUTTON_HOME/mail/`` (open them with any mail client); with it they go to that server.

Builders (each returns an ``EmailMessage``, multipart/alternative, text and HTML):
:func:`build_receipt`, :func:`build_shipped`, :func:`build_refunded` (to the shopper, Reply-To the
shop's support address) and :func:`build_new_order` (to the merchant, Reply-To the buyer).

Sending from the order state machine goes through the outbox, not straight to a transport:
:mod:`buybutton.mail.outbox` queues a message in the order's transaction, and the worker in
:mod:`buybutton.mail.delivery` (run by ``buybutton serve`` and ``buybutton mail deliver``)
renders, sends and retries it; :func:`buybutton.mail.delivery.resend_receipt` queues a receipt
again. See docs/fulfilment.md.

Languages: English (the templates' own text) and every catalog under ``locales/``. After changing
a template, refresh the catalogs and translate what is new (tests fail while a msgid has no
French translation)::

    pybabel extract -F buybutton/mail/babel.cfg --no-location -o /tmp/mail.pot buybutton/mail/templates
    pybabel update -i /tmp/mail.pot -d buybutton/mail/locales --ignore-pot-creation-date
"""

from ..errors import MailDeliveryError
from .messages import (
    OrderSummary,
    Shipment,
    ShippingAddress,
    Shop,
    available_languages,
    build_new_order,
    build_receipt,
    build_refunded,
    build_shipped,
    mail_locale,
)
from .transport import (
    FileTransport,
    MailTransport,
    SmtpTransport,
    make_transport,
)

__all__ = [
    "FileTransport",
    "MailDeliveryError",
    "MailTransport",
    "OrderSummary",
    "Shipment",
    "ShippingAddress",
    "Shop",
    "SmtpTransport",
    "available_languages",
    "build_new_order",
    "build_receipt",
    "build_refunded",
    "build_shipped",
    "mail_locale",
    "make_transport",
]
