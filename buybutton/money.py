"""Money: an integer amount in minor units and an ISO-4217 currency.

No floats: 1200 EUR means €12.00, 1200 JPY means ¥1,200. The number of minor digits comes from
CLDR through Babel, so zero-decimal currencies (JPY, KRW, …) are right without a table of our own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from babel.numbers import format_currency, get_currency_precision, list_currencies

from .errors import ErrorCode, InvalidRequest

#: The largest amount accepted (Stripe's own limit for a charge: eight digits).
MAX_AMOUNT = 99_999_999


@lru_cache(maxsize=1)
def _known_currencies() -> frozenset[str]:
    return frozenset(code.lower() for code in list_currencies())


def validate_currency(currency: object, *, param: str = "currency") -> str:
    """Return ``currency`` as a lowercase ISO-4217 code, or raise :class:`InvalidRequest`."""
    if not isinstance(currency, str) or currency.lower() not in _known_currencies():
        raise InvalidRequest(
            f"{currency!r} is not a known ISO-4217 currency code.",
            code=ErrorCode.INVALID_CURRENCY,
            param=param,
        )
    return currency.lower()


def validate_amount(amount: object, *, param: str = "amount") -> int:
    """Return ``amount`` if it is an integer from 1 to :data:`MAX_AMOUNT`, else raise."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise InvalidRequest(
            "amount must be an integer number of minor units (1200 for 12.00).",
            code=ErrorCode.INVALID_AMOUNT,
            param=param,
        )
    if not 1 <= amount <= MAX_AMOUNT:
        raise InvalidRequest(
            f"amount must be between 1 and {MAX_AMOUNT}.",
            code=ErrorCode.INVALID_AMOUNT,
            param=param,
        )
    return amount


def minor_digits(currency: str) -> int:
    """How many minor digits ``currency`` has (2 for EUR, 0 for JPY, 3 for KWD)."""
    return get_currency_precision(currency.upper())


_PRICE = re.compile(r"(\d+)(?:[.,](\d*))?", re.ASCII)


def parse_price(text: object, currency: str, *, param: str = "amount") -> int:
    """The minor units of a price typed by a person in major units: ``"12"``, ``"12.5"``,
    ``"12,50"`` (a comma is a decimal point too), ``"1 200"`` (spaces between digits ignored).
    :class:`InvalidRequest` (``invalid_amount``) for anything else, more decimals than the
    currency has, or an amount out of range."""
    digits = minor_digits(currency)
    raw = "".join(text.split()) if isinstance(text, str) else ""
    match = _PRICE.fullmatch(raw)
    if match is None or len(match.group(2) or "") > digits:
        raise InvalidRequest(
            f"Enter a price such as {'12.50' if digits == 2 else '1200'}.",
            code=ErrorCode.INVALID_AMOUNT,
            param=param,
        )
    whole, fraction = match.group(1), (match.group(2) or "").ljust(digits, "0")
    return validate_amount(int(whole + fraction), param=param)


def price_input(amount: int, currency: str) -> str:
    """``amount`` (minor units) written back as :func:`parse_price` reads it: ``"12.50"``."""
    return str(Money(amount, currency).decimal)


def resolve_locale(locale: str | None, default: str = "en") -> str:
    """Return ``locale`` if Babel knows it (``fr``, ``fr-CA``, ``pt_BR``), else ``default``."""
    if locale:
        try:
            return str(Locale.parse(locale.replace("-", "_")))
        except (ValueError, UnknownLocaleError):
            pass
    return default


@dataclass(frozen=True, slots=True)
class Money:
    """An amount of money: ``amount`` in minor units of ``currency`` (lowercase ISO code)."""

    amount: int
    currency: str

    def __post_init__(self) -> None:
        if isinstance(self.amount, bool) or not isinstance(self.amount, int):
            raise TypeError("Money.amount must be an int of minor units")
        object.__setattr__(self, "currency", validate_currency(self.currency))

    @property
    def decimal(self) -> Decimal:
        """The amount in major units, exactly (``Decimal('12.00')``)."""
        return Decimal(self.amount).scaleb(-minor_digits(self.currency))

    def __mul__(self, quantity: int) -> Money:
        return Money(self.amount * quantity, self.currency)

    def format(self, locale: str | None = "en") -> str:
        """Format for people in ``locale``: ``"€12.00"`` in en, ``"12,00 €"`` in fr."""
        return format_currency(self.decimal, self.currency.upper(), locale=resolve_locale(locale))

    def plain(self) -> str:
        """The form catalog feeds use: ``"12.00 EUR"``, ``"1200 JPY"``."""
        return f"{self.decimal} {self.currency.upper()}"
