import dataclasses

import pytest

from buybutton.addresses import (
    MAX_LENGTHS,
    PostalAddress,
    address_form,
    country_choices,
    country_codes,
    country_name,
    validate_address,
)
from buybutton.errors import InvalidRequest


def form(**fields) -> dict:
    """A valid French address, with ``fields`` (``line1=…`` → ``address_line1``) changed."""
    data = {
        "address_line1": "8 rue de Rivoli",
        "address_line2": "",
        "address_city": "Paris",
        "address_postal_code": "75001",
        "address_state": "",
        "address_country": "FR",
    }
    data.update({f"address_{name}": value for name, value in fields.items()})
    return data


def refused(data, **options) -> InvalidRequest:
    with pytest.raises(InvalidRequest) as caught:
        validate_address(
            data,
            allowed_countries=options.get("allowed_countries"),
            locale=options.get("locale", "en"),
        )
    return caught.value


def test_valid_address_is_a_frozen_postal_address():
    address = validate_address(form(line2="  Bâtiment  B "), allowed_countries=None, locale="fr")
    assert address == PostalAddress(
        line1="8 rue de Rivoli",
        line2="Bâtiment B",
        city="Paris",
        postal_code="75001",
        state="",
        country="FR",
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        address.city = "Lyon"
    assert address.to_form()["address_postal_code"] == "75001"


@pytest.mark.parametrize(
    "country, typed, canonical",
    [
        ("GB", "sw1a1aa", "SW1A 1AA"),
        ("GB", " SW1A   1AA ", "SW1A 1AA"),
        ("GB", "ec1y8sy", "EC1Y 8SY"),
        ("GB", "bfpo 105", "BFPO 105"),
        ("CA", "k1a0b1", "K1A 0B1"),
        ("NL", "1234ab", "1234 AB"),
        ("US", "95014", "95014"),
        ("US", "95014 1234", "95014-1234"),
        ("US", "950141234", "95014-1234"),
        ("FR", "75 001", "75001"),
        ("DE", "10115", "10115"),
        ("ES", "28039", "28039"),
        ("IT", "00144", "00144"),
        ("BE", "1000", "1000"),
        ("CH", "1211", "1211"),
    ],
)
def test_postal_codes_are_checked_and_spelled_canonically(country, typed, canonical):
    state = {"US": "CA", "CA": "ON", "ES": "M", "IT": "RM"}.get(country, "")
    address = validate_address(
        form(country=country, postal_code=typed, state=state), allowed_countries=None, locale="en"
    )
    assert address.postal_code == canonical


@pytest.mark.parametrize(
    "country, typed",
    [
        ("FR", "7500"),
        ("FR", "750011"),
        ("DE", "1011"),
        ("DE", "ABCDE"),
        ("GB", "SW1A 1AAX"),  # the data's pattern is an alternation: anchored as a whole here
        ("GB", "QQ1 1AA"),
        ("CA", "D1A 0B1"),
        ("NL", "0123 AB"),
        ("NL", "1234 SA"),
        ("US", "9501"),
        ("US", "95014-12"),
        ("ES", "2803"),
        ("IT", "0014"),
        ("BE", "10000"),
        ("CH", "12111"),
    ],
)
def test_malformed_postal_codes_are_refused_naming_the_field(country, typed):
    state = {"US": "CA", "CA": "ON", "ES": "M", "IT": "RM"}.get(country, "")
    error = refused(form(country=country, postal_code=typed, state=state))
    assert (error.code, error.param) == ("invalid_address", "address_postal_code")
    assert "is not a postal code of" in error.message


def test_us_zip_must_belong_to_the_state():
    ok = validate_address(
        form(country="US", state="NY", postal_code="10001", city="New York"),
        allowed_countries=None,
        locale="en",
    )
    assert (ok.state, ok.postal_code) == ("NY", "10001")
    error = refused(form(country="US", state="CA", postal_code="10001", city="New York"))
    assert error.param == "address_postal_code"
    assert "United States (CA)" in error.message


@pytest.mark.parametrize(
    "country, typed, code",
    [
        ("US", "california", "CA"),
        ("US", "CA", "CA"),
        ("US", "ny", "NY"),
        ("CA", "Québec", "QC"),
        ("CA", "qc", "QC"),
        ("CA", "Ontario", "ON"),
    ],
)
def test_us_and_canadian_states_are_stored_as_their_codes(country, typed, code):
    postal = {
        "US": "10001" if code == "NY" else "94103",
        "CA": "H3Z 2Y7" if code == "QC" else "K1A 0B1",
    }[country]
    address = validate_address(
        form(country=country, state=typed, postal_code=postal), allowed_countries=None, locale="en"
    )
    assert address.state == code


@pytest.mark.parametrize("country, postal", [("US", "94103"), ("CA", "K1A 0B1")])
def test_state_is_required_in_the_us_and_canada(country, postal):
    error = refused(form(country=country, state="", postal_code=postal))
    assert (error.code, error.param) == ("invalid_address", "address_state")
    assert address_form(country).required >= {"line1", "city", "postal_code", "state"}


def test_unknown_state_is_refused():
    error = refused(form(country="US", state="Atlantis", postal_code="94103"))
    assert error.param == "address_state" and "Atlantis" in error.message


def test_state_is_optional_where_the_country_has_none():
    assert (
        validate_address(
            form(country="DE", postal_code="10115", state=""), allowed_countries=None, locale="en"
        ).state
        == ""
    )
    assert "state" not in address_form("DE").required


@pytest.mark.parametrize(
    "field, param",
    [
        ("line1", "address_line1"),
        ("city", "address_city"),
        ("postal_code", "address_postal_code"),
        ("country", "address_country"),
    ],
)
def test_required_fields_name_themselves_when_missing(field, param):
    error = refused(form(**{field: "   "}))
    assert (error.code, error.param) == ("invalid_address", param)
    data = form()
    del data[param]
    assert refused(data).param == param


def test_countries_without_postal_codes_need_none():
    address = validate_address(
        {
            "address_line1": "1 Queen's Road Central",
            "address_city": "Central",
            "address_state": "Hong Kong Island",
            "address_country": "hk",
        },
        allowed_countries=None,
        locale="en",
    )
    assert (address.country, address.postal_code) == ("HK", "")


@pytest.mark.parametrize(
    "code", ["ZZ", "EU", "UN", "QO", "EZ", "XX", "001", "150", "FRA", "F", "France", "IC", "XA"]
)
def test_country_must_be_a_real_iso_country(code):
    error = refused(form(country=code))
    assert (error.code, error.param) == ("invalid_address", "address_country")
    assert error.message == (
        f"{code!r} is not a country: use its two-letter ISO code, such as FR or US."
    )
    assert code not in country_codes()


def test_country_codes_are_the_real_countries():
    codes = country_codes()
    assert {"FR", "DE", "GB", "US", "CA", "JP", "BR", "XK"} <= codes
    assert 245 <= len(codes) <= 255
    assert all(len(code) == 2 and code.isalpha() and code.isupper() for code in codes)


def test_country_outside_the_shops_list_is_refused_with_its_name_in_the_locale():
    error = refused(form(), allowed_countries=["de", "BE"], locale="de")
    assert (error.code, error.param) == ("country_not_allowed", "address_country")
    assert error.message == "This shop does not ship to Frankreich."
    assert validate_address(form(), allowed_countries=["fr"], locale="en").country == "FR"
    assert refused(form(), allowed_countries=[]).code == "country_not_allowed"


@pytest.mark.parametrize("field", ["line1", "line2", "city", "postal_code", "state", "country"])
def test_field_lengths_are_bounded(field):
    error = refused(form(**{field: "a" * (MAX_LENGTHS[field] + 1)}))
    assert error.param == f"address_{field}" and "too long" in error.message


def test_line_of_exactly_the_limit_is_accepted():
    address = validate_address(
        form(line1="a" * MAX_LENGTHS["line1"]), allowed_countries=None, locale="en"
    )
    assert len(address.line1) == 200


@pytest.mark.parametrize(
    "value",
    [
        "8 rue\nde Rivoli",
        "8 rue\tde Rivoli",
        "8 rue\x00",
        "8 rue\x1b[31m",
        "8 rue\u2028de Rivoli",
        "8 rue \u202eilovir",
        "8 rue\x85",
    ],
)
def test_control_characters_are_refused(value):
    error = refused(form(line1=value))
    assert (error.code, error.param) == ("invalid_address", "address_line1")
    assert "control character" in error.message


def test_non_text_values_are_refused():
    error = refused(form(postal_code=75001))
    assert error.param == "address_postal_code" and error.message.endswith("must be text.")


def test_text_is_nfc_normalised():
    decomposed = "Montre\u0301al"
    address = validate_address(
        form(country="CA", city=decomposed, state="QC", postal_code="H3Z 2Y7"),
        allowed_countries=None,
        locale="en",
    )
    assert address.city == "Montréal"


def test_format_lines_follow_the_countrys_order():
    us = validate_address(
        form(
            country="US",
            line1="1 Infinite Loop",
            city="Cupertino",
            state="California",
            postal_code="95014",
        ),
        allowed_countries=None,
        locale="en",
    )
    assert us.format_lines() == ["1 Infinite Loop", "CUPERTINO, CA 95014", "UNITED STATES"]
    fr = validate_address(form(), allowed_countries=None, locale="en")
    assert fr.format_lines() == ["8 rue de Rivoli", "75001 PARIS", "FRANCE"]


def test_country_name_is_localised():
    assert country_name("de", "fr") == "Allemagne"
    assert country_name("DE", "ja") == "ドイツ"
    assert country_name("DE", "xx-nope") == "Germany"
    with pytest.raises(ValueError):
        country_name("EU", "en")


def test_country_choices_are_sorted_by_localised_name():
    assert country_choices(["FR", "DE", "EG", "AT", "EU"], "fr") == [
        ("DE", "Allemagne"),
        ("AT", "Autriche"),
        ("EG", "Égypte"),
        ("FR", "France"),
    ]
    assert country_choices(["FR", "DE", "EG", "AT"], "en") == [
        ("AT", "Austria"),
        ("EG", "Egypt"),
        ("FR", "France"),
        ("DE", "Germany"),
    ]
    everything = country_choices(None, "en")
    assert len(everything) == len(country_codes())


def test_address_form_lists_states_for_a_select():
    us = address_form("us")
    assert ("CA", "California") in us.states and us.has_state and us.has_postal_code
    assert address_form("FR").states == () and not address_form("FR").has_state
    assert not address_form("HK").has_postal_code
