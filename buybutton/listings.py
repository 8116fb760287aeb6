"""What a product knows beyond its name and price, in the schema.org vocabulary Google's merchant
listings read: listing identifiers, shipping details, the return policy, how long the price holds.
The share page adds these to its Product + Offer markup (:func:`buybutton.social.share_tags`).
"""

from __future__ import annotations

import time
from typing import Any

from .catalog import Product, ShippingOptions
from .merchants import ReturnPolicy
from .money import Money
from .social import price_amount


def _days(low: int, high: int) -> dict[str, Any]:
    return {"@type": "QuantitativeValue", "minValue": low, "maxValue": high, "unitCode": "DAY"}


def shipping_details(options: ShippingOptions, currency: str) -> list[dict[str, Any]]:
    """schema.org ``OfferShippingDetails``, one per shipping rate, to every country it ships
    to. A rate's delivery estimate counts from payment to the door: it is given as the
    transit time, and no handling time is claimed that the merchant never stated."""
    destinations = [
        {"@type": "DefinedRegion", "addressCountry": country} for country in options.countries
    ]
    details = []
    for rate in options.rates:
        detail: dict[str, Any] = {
            "@type": "OfferShippingDetails",
            "name": rate.name,
            "shippingRate": {
                "@type": "MonetaryAmount",
                "value": price_amount(Money(rate.amount, currency)),
                "currency": currency.upper(),
            },
            "shippingDestination": destinations,
        }
        if rate.delivery_estimate is not None:
            estimate = rate.delivery_estimate
            detail["deliveryTime"] = {
                "@type": "ShippingDeliveryTime",
                "transitTime": _days(estimate.min_days, estimate.max_days),
            }
        details.append(detail)
    return details


def return_policy_markup(policy: ReturnPolicy, countries: tuple[str, ...] | None) -> dict[str, Any]:
    """schema.org ``MerchantReturnPolicy``: a finite window of ``days``, or no returns (0);
    ``applicableCountry`` is where the product ships, when it ships."""
    markup: dict[str, Any] = {"@type": "MerchantReturnPolicy"}
    if countries:
        markup["applicableCountry"] = list(countries)
    if policy.days == 0:
        markup["returnPolicyCategory"] = "https://schema.org/MerchantReturnNotPermitted"
    else:
        markup["returnPolicyCategory"] = "https://schema.org/MerchantReturnFiniteReturnWindow"
        markup["merchantReturnDays"] = policy.days
    if policy.text:
        markup["description"] = policy.text
    return markup


def listing_markup(
    product: Product,
    money: Money,
    return_policy: ReturnPolicy | None,
    price_valid_until: int | None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """What the product knows beyond name and price, as schema.org properties of the Product
    (``sku``, ``gtin``, ``mpn``, ``brand``) and of its Offer (``shippingDetails``,
    ``hasMerchantReturnPolicy``, ``priceValidUntil``, a UTC date)."""
    item: dict[str, Any] = {}
    for name in ("sku", "gtin", "mpn"):
        if getattr(product, name):
            item[name] = getattr(product, name)
    if product.brand:
        item["brand"] = {"@type": "Brand", "name": product.brand}
    offer: dict[str, Any] = {}
    if product.shipping is not None:
        offer["shippingDetails"] = shipping_details(product.shipping, money.currency)
    if return_policy is not None:
        countries = product.shipping.countries if product.shipping else None
        offer["hasMerchantReturnPolicy"] = return_policy_markup(return_policy, countries)
    if price_valid_until is not None:
        offer["priceValidUntil"] = time.strftime("%Y-%m-%d", time.gmtime(price_valid_until))
    return item, offer
