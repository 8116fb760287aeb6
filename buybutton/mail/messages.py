"""Messages to shoppers and merchants, built from plain data into multipart emails.

Each builder takes small dataclasses (:class:`Shop`, :class:`OrderSummary`, …: plain values,
never database rows) and returns an :class:`~email.message.EmailMessage` with a plain-text part
and an HTML part (``multipart/alternative``), both rendered from the Jinja templates in
``templates/``. HTML is autoescaped; it has no images, no tracking pixels and no external CSS
(inline ``style=`` only), so nothing is fetched when the message is opened.

Languages come from gettext catalogs, ``locales/<lang>/LC_MESSAGES/messages.po``, read at run
time with Babel (``read_po``), once per process and language. There is no build step and no
compiled ``.mo`` to fall out of date with its ``.po``: the ``.po`` file is the catalog. A locale
whose language has no catalog is written in English; ``fr_CA`` uses ``fr``'s catalog, and formats
money and country names the Canadian way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from babel import Locale
from babel.support import NullTranslations
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from ..config import parse_address
from ..errors import ConfigError, InvalidRequest
from ..i18n import catalog_languages, catalog_locale, load_translations
from ..money import Money

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
LOCALES = HERE / "locales"


# -- plain data --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Shop:
    """The merchant as shoppers see it. ``support_email`` becomes the Reply-To of shopper mail;
    ``return_policy`` is the merchant's own text (shown as written, not translated) and
    ``return_days`` how many days a shopper has to return an item."""

    name: str
    support_email: str | None = None
    return_policy: str | None = None
    return_days: int | None = None


@dataclass(frozen=True)
class ShippingAddress:
    """A postal address; ``country`` is an ISO 3166-1 code (``"FR"``), shown by its name."""

    name: str
    line1: str
    line2: str = ""
    postal_code: str = ""
    city: str = ""
    region: str = ""
    country: str = ""


@dataclass(frozen=True)
class OrderSummary:
    """What was bought. ``unit_price`` and ``shipping`` share one currency; ``url`` is the
    shopper's order page; ``download_url`` and ``license_key`` are for digital goods."""

    id: str
    item: str
    quantity: int
    unit_price: Money
    buyer_email: str
    buyer_name: str | None = None
    shipping: Money | None = None
    #: The shipping rate's name (``"Colissimo, 48 h"``).
    shipping_rate: str | None = None
    shipping_address: ShippingAddress | None = None
    url: str | None = None
    download_url: str | None = None
    license_key: str | None = None

    @property
    def subtotal(self) -> Money:
        return self.unit_price * self.quantity

    @property
    def total(self) -> Money:
        shipping = self.shipping.amount if self.shipping else 0
        return Money(self.subtotal.amount + shipping, self.unit_price.currency)


@dataclass(frozen=True)
class Shipment:
    """A parcel on its way: the carrier's name, its tracking number and tracking page."""

    carrier: str
    tracking_number: str | None = None
    tracking_url: str | None = None


# -- languages ---------------------------------------------------------------------------------


def available_languages() -> tuple[str, ...]:
    """The languages messages can be written in: English and every catalog in ``locales/``."""
    return catalog_languages(LOCALES)


def mail_locale(locale: str | None) -> str:
    """The locale a message for ``locale`` is written in: ``locale`` itself (normalized,
    ``"fr-CA"`` → ``"fr_CA"``) when its language has a catalog, else ``"en"``."""
    return catalog_locale(LOCALES, locale)


def translations(language: str) -> NullTranslations:
    """The gettext translations of ``language`` (``"fr"``), read from its ``.po`` catalog.

    Fuzzy and empty entries are left out, so they fall back to the English text.
    """
    return load_translations(LOCALES, language)


@cache
def environment(language: str) -> Environment:
    """The Jinja environment rendering in ``language``: ``*.html`` autoescaped, the rest not."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(
            enabled_extensions=("html",), default_for_string=False, default=False
        ),
        extensions=["jinja2.ext.i18n"],
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.policies["ext.i18n.trimmed"] = True  # the same option babel.cfg gives the extractor
    # install_gettext_translations is added at run time by the jinja2.ext.i18n extension.
    env.install_gettext_translations(translations(language), newstyle=True)  # type: ignore[attr-defined]
    return env


# -- building ----------------------------------------------------------------------------------


def _address(value: str, *, param: str, display_name: str | None = None) -> Address:
    """``value`` (``shop@example.com`` or ``Shop <shop@example.com>``) as one Address."""
    try:
        address = parse_address(value, name=param)
    except ConfigError as exc:
        raise InvalidRequest(exc.message, param=param) from None
    if display_name is None:
        return address
    return Address(display_name=display_name, username=address.username, domain=address.domain)


def _web_link(url: str | None, *, param: str) -> str | None:
    """``url`` if it is an absolute http(s) URL (never ``javascript:``), else raise."""
    if url is None:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c in url for c in "\r\n"):
        raise InvalidRequest(f"{param} must be an absolute http(s) URL.", param=param)
    return url


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _check_order(order: OrderSummary) -> None:
    if (
        isinstance(order.quantity, bool)
        or not isinstance(order.quantity, int)
        or order.quantity < 1
    ):
        raise InvalidRequest("quantity must be a whole number of at least 1.", param="quantity")
    if order.shipping is not None and order.shipping.currency != order.unit_price.currency:
        raise InvalidRequest("shipping must be in the currency of unit_price.", param="shipping")
    for name in ("url", "download_url"):
        _web_link(getattr(order, name), param=name)


def _address_lines(address: ShippingAddress | None, locale: str) -> list[str]:
    if address is None:
        return []
    country = Locale.parse(locale).territories.get(address.country.upper(), address.country)
    city = " ".join(part for part in (address.postal_code, address.city) if part)
    lines = [address.name, address.line1, address.line2, city, address.region, country]
    return [_one_line(line) for line in lines if line and line.strip()]


def _compose(
    template: str,
    *,
    locale: str | None,
    sender: str,
    to: Address,
    reply_to: Address | None,
    context: dict[str, Any],
    now: datetime | None,
) -> EmailMessage:
    locale = mail_locale(locale)
    language = Locale.parse(locale).language
    env = environment(language)
    context = {**context, "lang": language}
    subject = _one_line(env.get_template(f"{template}.subject.txt").render(context))
    # Optional sections leave runs of blank lines in the text part: keep one.
    text = re.sub(r"\n{3,}", "\n\n", env.get_template(f"{template}.txt").render(context))
    html = env.get_template(f"{template}.html").render(context)

    sender_address = _address(sender, param="sender")
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = sender_address
    message["To"] = to
    if reply_to is not None:
        message["Reply-To"] = reply_to
    message["Date"] = format_datetime(now or datetime.now(UTC))
    message["Message-ID"] = make_msgid(domain=sender_address.domain)
    # RFC 3834: automatic mail; out-of-office responders must not answer it.
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "All"
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    message["Content-Language"] = locale.replace("_", "-")  # after set_content, which drops it
    return message


def _shopper_context(shop: Shop, order: OrderSummary, locale: str) -> dict[str, Any]:
    _check_order(order)
    if shop.return_days is not None and (
        isinstance(shop.return_days, bool)
        or not isinstance(shop.return_days, int)
        or shop.return_days < 0
    ):
        raise InvalidRequest("return_days must be a whole number of days.", param="return_days")
    return {
        "shop": shop,
        "order": order,
        "unit_price": order.unit_price.format(locale),
        "subtotal": order.subtotal.format(locale),
        "shipping": order.shipping.format(locale) if order.shipping else None,
        "total": order.total.format(locale),
        "address_lines": _address_lines(order.shipping_address, locale),
    }


def _shopper(order: OrderSummary) -> Address:
    return _address(order.buyer_email, param="buyer_email", display_name=order.buyer_name or "")


def _support(shop: Shop) -> Address | None:
    return _address(shop.support_email, param="support_email") if shop.support_email else None


def build_receipt(
    shop: Shop,
    order: OrderSummary,
    *,
    sender: str,
    locale: str | None = None,
    now: datetime | None = None,
) -> EmailMessage:
    """The shopper's receipt once ``order`` is paid: item, quantity, unit price, subtotal,
    shipping, total, address, order and download links, license key, support and returns.

    ``sender`` is the From (``settings.mail_from``); ``locale`` the shopper's; ``now`` the Date
    (default: the current time). Raises :class:`~buybutton.errors.InvalidRequest` (``param``
    names the field) for an unusable address, link, quantity or currency mix.
    """
    locale = mail_locale(locale)
    return _compose(
        "receipt",
        locale=locale,
        sender=sender,
        to=_shopper(order),
        reply_to=_support(shop),
        context=_shopper_context(shop, order, locale),
        now=now,
    )


def build_shipped(
    shop: Shop,
    order: OrderSummary,
    shipment: Shipment,
    *,
    sender: str,
    locale: str | None = None,
    now: datetime | None = None,
) -> EmailMessage:
    """ "Your order has shipped", with the carrier, tracking number and tracking link.

    Errors as :func:`build_receipt` (``tracking_url`` must be an http(s) URL).
    """
    locale = mail_locale(locale)
    _web_link(shipment.tracking_url, param="tracking_url")
    context = {**_shopper_context(shop, order, locale), "shipment": shipment}
    return _compose(
        "shipped",
        locale=locale,
        sender=sender,
        to=_shopper(order),
        reply_to=_support(shop),
        context=context,
        now=now,
    )


def build_refunded(
    shop: Shop,
    order: OrderSummary,
    refund: Money,
    *,
    sender: str,
    locale: str | None = None,
    now: datetime | None = None,
) -> EmailMessage:
    """ "Your order was refunded": how much went back to the shopper's payment method.

    Errors as :func:`build_receipt` (``refund`` must be in the order's currency).
    """
    locale = mail_locale(locale)
    if refund.currency != order.unit_price.currency:
        raise InvalidRequest("refund must be in the order's currency.", param="refund")
    context = {**_shopper_context(shop, order, locale), "refund": refund.format(locale)}
    return _compose(
        "refunded",
        locale=locale,
        sender=sender,
        to=_shopper(order),
        reply_to=_support(shop),
        context=context,
        now=now,
    )


def build_new_order(
    shop: Shop,
    order: OrderSummary,
    *,
    to: str,
    sender: str,
    locale: str | None = None,
    dashboard_url: str | None = None,
    now: datetime | None = None,
) -> EmailMessage:
    """The merchant's "new order" notice at ``to``: what to ship, to whom, at which rate.

    Its Reply-To is the buyer (when ``order.buyer_email`` is not empty), so answering writes to
    them. Errors as :func:`build_receipt`.
    """
    locale = mail_locale(locale)
    context = {
        **_shopper_context(shop, order, locale),
        "dashboard_url": _web_link(dashboard_url, param="dashboard_url"),
    }
    return _compose(
        "new_order",
        locale=locale,
        sender=sender,
        to=_address(to, param="to"),
        reply_to=_shopper(order) if order.buyer_email else None,
        context=context,
        now=now,
    )
