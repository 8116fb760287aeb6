import pytest

from buybutton.errors import InvalidRequest
from buybutton.money import MAX_AMOUNT, Money, validate_amount, validate_currency


@pytest.mark.parametrize(
    "amount, currency, locale, expected",
    [
        (1200, "eur", "en", "€12.00"),
        (1200, "eur", "fr", "12,00\xa0€"),
        (1200, "usd", "en_US", "$12.00"),
        (1200, "jpy", "en", "¥1,200"),
        (1200, "jpy", "ja", "￥1,200"),
        (1234, "kwd", "en", "KWD1.234"),
    ],
)
def test_money_formats_per_locale_and_currency_precision(amount, currency, locale, expected):
    assert Money(amount, currency).format(locale) == expected


def test_money_unknown_locale_falls_back_to_english():
    assert Money(1200, "eur").format("xx-nope") == "€12.00"


def test_money_plain_form_uses_major_units_and_upper_code():
    assert Money(1200, "eur").plain() == "12.00 EUR"
    assert Money(1200, "jpy").plain() == "1200 JPY"


def test_money_normalizes_currency_to_lowercase():
    assert Money(100, "EUR").currency == "eur"


def test_money_multiplies_by_quantity():
    assert Money(1200, "eur") * 3 == Money(3600, "eur")


@pytest.mark.parametrize("currency", ["xxx1", "euro", "", None, 12, "ZZZ"])
def test_unknown_currency_is_rejected_with_param(currency):
    with pytest.raises(InvalidRequest) as info:
        validate_currency(currency)
    assert (info.value.code, info.value.param) == ("invalid_currency", "currency")


@pytest.mark.parametrize("amount", [0, -1, MAX_AMOUNT + 1, 10**30, 12.5, "1200", True, None])
def test_invalid_amounts_are_rejected(amount):
    with pytest.raises(InvalidRequest) as info:
        validate_amount(amount)
    assert info.value.param == "amount"


def test_money_refuses_float_amounts():
    with pytest.raises(TypeError):
        Money(12.0, "eur")
