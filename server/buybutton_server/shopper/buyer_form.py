"""What the payment page needs to ask for the buyer's details: the fields (labels in the
shopper's language), the countries and rates of the product, and an error message per field.

English and French, like the other shopper pages' strings; a language without a table falls
back to English. Messages of errors raised by the core are English; in French the page shows
the field's own French message instead (the code and ``param`` say which).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from buybutton.addresses import country_choices
from buybutton.catalog import Product, ShippingRate
from buybutton.errors import BuyButtonError
from buybutton.money import Money

#: The names the form posts (the no-JS form and any script alike), in the page's order.
FIELDS = (
    "email",
    "name",
    "address_line1",
    "address_line2",
    "address_city",
    "address_postal_code",
    "address_state",
    "address_country",
    "shipping_rate",
    "card_number",
)

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "contact": "Contact",
        "email": "Email",
        "name": "Full name",
        "shipping_address": "Shipping address",
        "address_line1": "Address",
        "address_line2": "Apartment, suite, etc. (optional)",
        "address_city": "City",
        "address_postal_code": "Postal code",
        "address_state": "State / province / region",
        "address_country": "Country",
        "shipping_rate": "Shipping method",
        "payment": "Payment",
        "card_number": "Card number",
        "subtotal": "Subtotal",
        "shipping": "Shipping",
        "total": "Total",
        "free": "Free",
        "days": "{min}–{max} business days",
        "pay": "Pay",
        "cancel": "Cancel and go back",
        "choose_country": "Choose…",
    },
    "fr": {
        "contact": "Contact",
        "email": "E-mail",
        "name": "Nom complet",
        "shipping_address": "Adresse de livraison",
        "address_line1": "Adresse",
        "address_line2": "Appartement, bâtiment, etc. (facultatif)",
        "address_city": "Ville",
        "address_postal_code": "Code postal",
        "address_state": "État / province / région",
        "address_country": "Pays",
        "shipping_rate": "Mode de livraison",
        "payment": "Paiement",
        "card_number": "Numéro de carte",
        "subtotal": "Sous-total",
        "shipping": "Livraison",
        "total": "Total",
        "free": "Gratuit",
        "days": "{min} à {max} jours ouvrés",
        "pay": "Payer",
        "cancel": "Annuler et revenir",
        "choose_country": "Choisir…",
    },
}

#: French messages per field, for errors whose English message the core wrote.
_FRENCH_ERRORS = {
    "email": "Saisissez une adresse e-mail valide.",
    "name": "Saisissez votre nom complet.",
    "address_line1": "Saisissez l'adresse.",
    "address_line2": "Vérifiez le complément d'adresse.",
    "address_city": "Saisissez la ville.",
    "address_postal_code": "Ce code postal n'est pas valide pour ce pays.",
    "address_state": "Choisissez ou vérifiez l'état, la province ou la région.",
    "address_country": "Choisissez un pays de livraison proposé.",
    "shipping_rate": "Choisissez un mode de livraison.",
}
_FRENCH_CARD_ERRORS = {
    "card_declined": "Votre carte a été refusée.",
    "insufficient_funds": "Le solde de votre carte est insuffisant.",
    "expired_card": "Votre carte a expiré.",
    "invalid_card": "Mode test : utilisez la carte de test 4242 4242 4242 4242.",
}


def page_language(locale: str) -> str:
    """The language of the page's strings: ``fr`` for any French locale, else ``en``."""
    return "fr" if locale.lower().startswith("fr") else "en"


def error_message(error: BuyButtonError, lang: str) -> str:
    """``error``'s message in ``lang`` (the core's own message in English)."""
    if lang == "fr":
        if error.param == "card_number":
            return _FRENCH_CARD_ERRORS.get(str(error.code), error.message)
        if error.param == "address_country" and error.code == "country_not_allowed":
            return "Cette boutique ne livre pas dans ce pays."
        return _FRENCH_ERRORS.get(error.param or "", error.message)
    return error.message


@dataclass(frozen=True, slots=True)
class RateChoice:
    """One shipping option as the page lists it."""

    id: str
    name: str
    price: str
    estimate: str | None
    total: str


def rate_choices(
    product: Product, subtotal: Money, locale: str, lang: str
) -> tuple[RateChoice, ...]:
    """The product's shipping rates, each with its price and the order's total with it."""
    if product.shipping is None:
        return ()
    labels = LABELS[lang]

    def choice(rate: ShippingRate) -> RateChoice:
        estimate = rate.delivery_estimate
        return RateChoice(
            id=rate.id,
            name=rate.name,
            price=labels["free"]
            if rate.amount == 0
            else Money(rate.amount, subtotal.currency).format(locale),
            estimate=labels["days"].format(min=estimate.min_days, max=estimate.max_days)
            if estimate
            else None,
            total=Money(subtotal.amount + rate.amount, subtotal.currency).format(locale),
        )

    return tuple(choice(rate) for rate in product.shipping.rates)


def countries(product: Product, locale: str) -> list[tuple[str, str]]:
    """``(code, name)`` of the countries the product ships to, sorted by name in ``locale``."""
    if product.shipping is None:
        return []
    return country_choices(product.shipping.countries, locale)


def kept_values(form: Mapping[str, str]) -> dict[str, str]:
    """What the shopper typed, to fill the form again after an error (never the CSRF token)."""
    return {name: form.get(name, "") for name in FIELDS}
