"""The buyer at checkout: who they are (email, name, phone) and, for goods that ship, where to
(a postal address) and how (one of the product's shipping rates).

The payment pages (the sandbox's TEST MODE page here, Stripe Checkout for real money) collect
these; :func:`collect_buyer` validates what a form posted, with the field names of
:mod:`buybutton.addresses` plus ``email``, ``name`` and ``shipping_rate``. The price of
shipping always comes from the product's rate, never from the form: the shopper only picks
which rate.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from email_validator import EmailNotValidError
from email_validator import validate_email as _check_email

from .addresses import PostalAddress, validate_address
from .catalog import Product
from .errors import ErrorCode, InvalidRequest

#: Longest values kept, in characters (an email address is at most 254 by RFC 5321).
MAX_EMAIL_LENGTH = 254
MAX_NAME_LENGTH = 200
MAX_PHONE_LENGTH = 40


@dataclass(frozen=True, slots=True)
class Customer:
    """Who bought: ``email`` (where the receipt goes), ``name`` and ``phone`` when known."""

    email: str | None = None
    name: str | None = None
    phone: str | None = None


@dataclass(frozen=True, slots=True)
class Shipping:
    """Where an order goes and how: the recipient, the address, the rate chosen (its id and
    name as the product had them) and what shipping cost, in the order's currency."""

    name: str
    address: PostalAddress
    rate_id: str | None
    rate_name: str | None
    amount: int


@dataclass(frozen=True, slots=True)
class Recipient:
    """Who and where a parcel goes, without a rate: what a provider keeps for a returning
    shopper (a Stripe customer's ``shipping``), offered again in one click."""

    name: str
    address: PostalAddress

    def label_lines(self) -> list[str]:
        """The name, then the address as a label prints it."""
        return [self.name, *self.address.format_lines()]

    def fingerprint(self) -> list[str]:
        """Every field, in order: what a one-click confirmation signs."""
        a = self.address
        return [self.name, a.line1, a.line2, a.city, a.postal_code, a.state, a.country]


def validate_email(value: object, *, param: str = "email") -> str:
    """An email address as typed, checked for syntax only (no DNS: checkouts work offline) by
    ``email-validator``, returned normalised (the domain lower-cased, IDNA-decoded).
    :class:`InvalidRequest` (``invalid_email``) naming ``param`` otherwise."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequest("Enter an email address.", code=ErrorCode.INVALID_EMAIL, param=param)
    text = value.strip()
    if len(text) > MAX_EMAIL_LENGTH:
        raise InvalidRequest(
            f"An email address has at most {MAX_EMAIL_LENGTH} characters.",
            code=ErrorCode.INVALID_EMAIL,
            param=param,
        )
    try:
        checked = _check_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidRequest(
            f"{text[:100]!r} is not an email address: {exc}",
            code=ErrorCode.INVALID_EMAIL,
            param=param,
        ) from None
    return str(checked.normalized)


def _one_line(value: object, param: str, label: str, max_length: int, *, required: bool) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise InvalidRequest(f"Enter the {label}.", code=ErrorCode.INVALID_ADDRESS, param=param)
        return ""
    if not isinstance(value, str):
        raise InvalidRequest(f"The {label} must be text.", param=param)
    text = " ".join(unicodedata.normalize("NFC", value).split())
    if not text.isprintable() or any(unicodedata.category(ch) == "Cf" for ch in text):
        raise InvalidRequest(
            f"The {label} contains a control character; type it as plain text.", param=param
        )
    if len(text) > max_length:
        raise InvalidRequest(
            f"The {label} is too long: at most {max_length} characters.", param=param
        )
    return text


def validate_phone(value: object, *, param: str = "phone") -> str | None:
    """A phone number as the buyer typed it (digits, spaces, ``+ - ( ) .``), or ``None``."""
    text = _one_line(value, param, "phone number", MAX_PHONE_LENGTH, required=False)
    if not text:
        return None
    if (
        not all(ch.isdigit() or ch in " +-()." for ch in text)
        or sum(ch.isdigit() for ch in text) < 4
    ):
        raise InvalidRequest(f"{text!r} is not a phone number.", param=param)
    return text


def shipping_choice(product: Product, rate_id: object) -> tuple[str, str, int]:
    """``(rate_id, rate_name, amount)`` of the product's rate ``rate_id``: the price is the
    product's. :class:`InvalidRequest` (``invalid_shipping_rate``) for an unknown rate."""
    options = product.shipping
    assert options is not None, "only a product that ships has rates"
    rate = options.rate(rate_id) if isinstance(rate_id, str) else None
    if rate is None:
        if len(options.rates) == 1 and rate_id in (None, ""):
            rate = options.rates[0]  # one way to ship: nothing to choose
        else:
            raise InvalidRequest(
                "Choose a shipping option.",
                code=ErrorCode.INVALID_SHIPPING_RATE,
                param="shipping_rate",
            )
    return rate.id, rate.name, rate.amount


def ship_with(product: Product, recipient: Recipient, rate_id: object) -> Shipping:
    """The :class:`Shipping` of ``recipient`` by the product's rate ``rate_id`` (its price the
    product's). :class:`InvalidRequest`: ``country_not_allowed`` when the product does not ship
    there, ``invalid_shipping_rate``."""
    options = product.shipping
    assert options is not None, "only a product that ships has rates"
    if recipient.address.country not in options.countries:
        raise InvalidRequest(
            "This shop does not ship to the saved address's country.",
            code=ErrorCode.COUNTRY_NOT_ALLOWED,
            param="address_country",
        )
    rate, name, amount = shipping_choice(product, rate_id)
    return Shipping(
        name=recipient.name, address=recipient.address, rate_id=rate, rate_name=name, amount=amount
    )


def collect_buyer(
    form: Mapping[str, object], product: Product, *, locale: str | None = "en"
) -> tuple[Customer, Shipping | None]:
    """Validate a checkout form: ``email`` always; for a product that ships, ``name``, the
    address (``address_line1`` …, per the country's rules and the product's countries) and
    ``shipping_rate`` (one of the product's rate ids). Raises :class:`InvalidRequest` naming
    the first bad field (``invalid_email``, ``invalid_address``, ``country_not_allowed``,
    ``invalid_shipping_rate``)."""
    email = validate_email(form.get("email"))
    if product.shipping is None:
        name = _one_line(form.get("name"), "name", "name", MAX_NAME_LENGTH, required=False)
        return Customer(email=email, name=name or None), None
    name = _one_line(form.get("name"), "name", "full name", MAX_NAME_LENGTH, required=True)
    address = validate_address(form, allowed_countries=product.shipping.countries, locale=locale)
    rate_id, rate_name, amount = shipping_choice(product, form.get("shipping_rate"))
    shipping = Shipping(
        name=name, address=address, rate_id=rate_id, rate_name=rate_name, amount=amount
    )
    return Customer(email=email, name=name), shipping
