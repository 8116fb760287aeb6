"""Products, their stock and the tokens that offer them.

Stock is ``None`` for unlimited, else a count that :func:`reserve_stock` decrements with one
conditional UPDATE, so concurrent checkouts can never oversell, on SQLite or PostgreSQL.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Connection, Row, bindparam, insert, select, update

from .addresses import country_codes
from .errors import ErrorCode, InvalidRequest, NotFound, ProductUnavailable, SoldOut, TokenRevoked
from .ids import new_id
from .money import Money, validate_amount, validate_currency
from .social import validate_ref
from .storage import StoredFile
from .store import fetch_page
from .store.schema import offer_links, products
from .tokens import TokenClaims

MAX_STOCK = 1_000_000_000
#: The most units any one order may take, whatever a product allows.
MAX_QUANTITY = 100
#: What a product allows per order unless its merchant says otherwise: one anonymous checkout
#: must not be able to hold a whole product's stock.
DEFAULT_MAX_PER_ORDER = 10
#: Bounds of a product's own hold time (how long an unpaid order keeps its stock): long enough
#: to type a card number, at most the day a payment session can stay open.
MIN_HOLD_SECONDS = 120
MAX_HOLD_SECONDS = 86400
#: Bounds of a product's shipping options: rates offered, countries named, days of delivery.
MAX_SHIPPING_RATES = 10
MAX_SHIPPING_COUNTRIES = 250
MAX_DELIVERY_DAYS = 365
#: Longest listing identifiers (Google's merchant listing limits: SKU 50 is ours, MPN 70,
#: brand 70; a GTIN is 8, 12, 13 or 14 digits).
IDENTIFIER_LENGTHS = {"sku": 64, "mpn": 70, "brand": 70}


@dataclass(frozen=True, slots=True)
class DeliveryEstimate:
    """Business days from payment to the door, as Stripe Checkout shows them."""

    min_days: int
    max_days: int


@dataclass(frozen=True, slots=True)
class ShippingRate:
    """One way to ship a product: ``amount`` in the product's currency, per order."""

    id: str
    name: str
    amount: int
    delivery_estimate: DeliveryEstimate | None = None


@dataclass(frozen=True, slots=True)
class ShippingOptions:
    """Where a product ships (ISO country codes, upper case) and how (at least one rate)."""

    countries: tuple[str, ...]
    rates: tuple[ShippingRate, ...]

    def rate(self, rate_id: str) -> ShippingRate | None:
        """The rate called ``rate_id``, or ``None``."""
        return next((rate for rate in self.rates if rate.id == rate_id), None)

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | None) -> ShippingOptions | None:
        """What :meth:`to_json` wrote (``None`` for ``None``): stored data, already valid."""
        if text is None:
            return None
        data = json.loads(text)
        return cls(
            countries=tuple(data["countries"]),
            rates=tuple(
                ShippingRate(
                    id=rate["id"],
                    name=rate["name"],
                    amount=rate["amount"],
                    delivery_estimate=(
                        DeliveryEstimate(**rate["delivery_estimate"])
                        if rate.get("delivery_estimate")
                        else None
                    ),
                )
                for rate in data["rates"]
            ),
        )


@dataclass(frozen=True, slots=True)
class Product:
    id: str
    merchant_id: str
    name: str
    description: str
    image_url: str | None
    amount: int
    currency: str
    stock: int | None
    active: bool
    allow_promotion_codes: bool
    #: Listed in the public catalog feeds (opt-in: a feed mints offers anyone can fetch).
    in_feed: bool
    token_generation: int
    created_at: int
    updated_at: int
    max_per_order: int = DEFAULT_MAX_PER_ORDER
    #: Seconds an unpaid order of it holds stock; ``None``: the server's checkout TTL.
    hold_seconds: int | None = None
    #: Where and how it ships; ``None``: it does not ship (a digital good, a service).
    shipping: ShippingOptions | None = None
    sku: str | None = None
    gtin: str | None = None
    mpn: str | None = None
    brand: str | None = None
    deleted_at: int | None = None
    #: Each paid order gets a licence key (:mod:`buybutton.digital`).
    license_keys: bool = False
    #: The product's file (a digital good), by its storage key; ``None``: no file.
    file_key: str | None = None
    file_name: str | None = None
    file_size: int | None = None
    file_type: str | None = None
    file_uploaded_at: int | None = None

    @property
    def ships(self) -> bool:
        """Whether buying it asks for a postal address and a shipping rate."""
        return self.shipping is not None

    @property
    def price(self) -> Money:
        return Money(self.amount, self.currency)

    @property
    def available(self) -> bool:
        """Whether a shopper can buy it right now."""
        return self.active and self.deleted_at is None and (self.stock is None or self.stock > 0)

    @property
    def file(self) -> ProductFile | None:
        """The product's file, if it has one."""
        if self.file_key is None:
            return None
        return ProductFile(
            key=self.file_key,
            name=self.file_name or "download",
            size=self.file_size or 0,
            type=self.file_type or "application/octet-stream",
            uploaded_at=self.file_uploaded_at or self.updated_at,
        )

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for private in ("deleted_at", *(f"file_{part}" for part in _FILE_PARTS)):
            data.pop(private)
        file = self.file
        data["file"] = None if file is None else file.to_dict()
        return {"object": "product", **data}


_FILE_PARTS = ("key", "name", "size", "type", "uploaded_at")


@dataclass(frozen=True, slots=True)
class ProductFile:
    """What a digital product delivers: ``key`` in storage (the SHA-256 of the bytes), the
    ``name`` shoppers download it as, its ``size`` in bytes and ``type`` sniffed from its bytes."""

    key: str
    name: str
    size: int
    type: str
    uploaded_at: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "size": self.size,
            "type": self.type,
            "sha256": self.key,
            "uploaded_at": self.uploaded_at,
        }


def product_from_row(row: Row[Any]) -> Product:
    """The :class:`Product` of a ``products`` row."""
    values = {name: getattr(row, name) for name in Product.__slots__}
    values["shipping"] = ShippingOptions.from_json(row.shipping)
    return Product(**values)


_product = product_from_row


# -- validation of merchant input: each raises InvalidRequest naming the field ------------------


def _text(value: object, param: str, *, max_length: int, required: bool) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise InvalidRequest(
            f"{param} must be a non-empty string." if required else f"{param} must be a string.",
            param=param,
        )
    if len(value) > max_length:
        raise InvalidRequest(f"{param} must be at most {max_length} characters.", param=param)
    return value.strip() if required else value


def _image_url(value: object) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > 2048:
        raise InvalidRequest(
            "image_url must be an http(s) URL of at most 2048 characters.", param="image_url"
        )
    parts = urlsplit(value)
    # A path on our own server (the demo's images) or an absolute http(s) URL.
    if not (value.startswith("/") and not value.startswith("//")) and not (
        parts.scheme in ("http", "https") and parts.netloc
    ):
        raise InvalidRequest("image_url must be an http(s) URL.", param="image_url")
    return value


def _stock(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_STOCK:
        raise InvalidRequest(
            f"stock must be null (unlimited) or an integer from 0 to {MAX_STOCK}.", param="stock"
        )
    return value


def _max_per_order(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_QUANTITY:
        raise InvalidRequest(
            f"max_per_order must be an integer from 1 to {MAX_QUANTITY}.", param="max_per_order"
        )
    return value


def _hold_seconds(value: object) -> int | None:
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not (MIN_HOLD_SECONDS <= value <= MAX_HOLD_SECONDS)
    ):
        raise InvalidRequest(
            f"hold_seconds must be null (the server's default) or an integer "
            f"from {MIN_HOLD_SECONDS} to {MAX_HOLD_SECONDS}.",
            param="hold_seconds",
        )
    return value


def _flag(value: object, param: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidRequest(f"{param} must be true or false.", param=param)
    return value


def _whole(value: object, param: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidRequest(f"{param} must be an integer from {low} to {high}.", param=param)
    return value


_RATE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def _shipping_rate(value: object, param: str) -> ShippingRate:
    if not isinstance(value, Mapping):
        raise InvalidRequest(
            f"{param} must be an object with id, name, amount and optional delivery_estimate.",
            param=param,
        )
    unknown = sorted(set(value) - {"id", "name", "amount", "delivery_estimate"})
    if unknown:
        raise InvalidRequest(f"Unknown field {unknown[0]!r}.", param=f"{param}.{unknown[0]}")
    rate_id = value.get("id")
    if not isinstance(rate_id, str) or not _RATE_ID.fullmatch(rate_id):
        raise InvalidRequest(
            f"{param}.id must be 1 to 64 letters, digits, '-' or '_' (e.g. \"colissimo\").",
            param=f"{param}.id",
        )
    name = _text(value.get("name"), f"{param}.name", max_length=100, required=True)
    amount = value.get("amount")
    if isinstance(amount, bool) or not isinstance(amount, int) or not 0 <= amount <= 10_000_000:
        raise InvalidRequest(
            f"{param}.amount must be an integer of minor units from 0 (free) to 10000000.",
            param=f"{param}.amount",
        )
    estimate = value.get("delivery_estimate")
    if estimate is not None:
        where = f"{param}.delivery_estimate"
        if not isinstance(estimate, Mapping) or set(estimate) - {"min_days", "max_days"}:
            raise InvalidRequest(f"{where} must be {{min_days, max_days}}.", param=where)
        low = _whole(estimate.get("min_days"), f"{where}.min_days", 0, MAX_DELIVERY_DAYS)
        high = _whole(estimate.get("max_days"), f"{where}.max_days", 0, MAX_DELIVERY_DAYS)
        if high < low:
            raise InvalidRequest(
                f"{where}.max_days must be at least min_days.", param=f"{where}.max_days"
            )
        estimate = DeliveryEstimate(low, high)
    return ShippingRate(id=rate_id, name=name, amount=amount, delivery_estimate=estimate)


def validate_shipping(value: object) -> ShippingOptions | None:
    """``null`` (the product does not ship) or ``{"countries": [...], "rates": [...]}``: at
    least one real ISO country code (any case; returned upper case, duplicates dropped) and
    1 to :data:`MAX_SHIPPING_RATES` rates with distinct ids. Raises :class:`InvalidRequest`
    naming the field (``shipping.rates[0].amount``)."""
    if value is None:
        return None
    if not isinstance(value, Mapping) or set(value) - {"countries", "rates"}:
        raise InvalidRequest(
            "shipping must be null (does not ship) or an object with countries and rates.",
            param="shipping",
        )
    countries = value.get("countries")
    if (
        not isinstance(countries, (list, tuple))
        or not 1 <= len(countries) <= MAX_SHIPPING_COUNTRIES
    ):
        raise InvalidRequest(
            "shipping.countries must list the ISO codes of the countries it ships to "
            '(at least one, e.g. ["FR", "BE"]).',
            param="shipping.countries",
        )
    known = country_codes()
    codes: list[str] = []
    for index, code in enumerate(countries):
        if not isinstance(code, str) or code.upper() not in known:
            raise InvalidRequest(
                f"shipping.countries[{index}] is not a two-letter ISO country code.",
                param=f"shipping.countries[{index}]",
            )
        if code.upper() not in codes:
            codes.append(code.upper())
    rates = value.get("rates")
    if not isinstance(rates, (list, tuple)) or not 1 <= len(rates) <= MAX_SHIPPING_RATES:
        raise InvalidRequest(
            f"shipping.rates must list 1 to {MAX_SHIPPING_RATES} shipping rates.",
            param="shipping.rates",
        )
    parsed = [_shipping_rate(rate, f"shipping.rates[{i}]") for i, rate in enumerate(rates)]
    ids = [rate.id for rate in parsed]
    for index, rate_id in enumerate(ids):
        if ids.index(rate_id) != index:
            raise InvalidRequest(
                f"Two shipping rates have the id {rate_id!r}.", param=f"shipping.rates[{index}].id"
            )
    return ShippingOptions(countries=tuple(codes), rates=tuple(parsed))


def _identifier(value: object, param: str) -> str | None:
    if value is None or value == "":
        return None
    text = _text(value, param, max_length=IDENTIFIER_LENGTHS[param], required=True)
    if not text.isprintable():
        raise InvalidRequest(f"{param} must be printable text on one line.", param=param)
    return text


def _gtin(value: object) -> str | None:
    """A GTIN-8/12/13/14 (EAN, UPC) whose check digit is right."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not re.fullmatch(r"\d{8}|\d{12,14}", value):
        raise InvalidRequest("gtin must be 8, 12, 13 or 14 digits (EAN/UPC).", param="gtin")
    digits = [int(d) for d in value]
    weighted = sum(d * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits[:-1])))
    if (10 - weighted % 10) % 10 != digits[-1]:
        raise InvalidRequest("gtin's check digit is wrong: check the number.", param="gtin")
    return value


_VALIDATORS: dict[str, Callable[[Any], Any]] = {
    "name": lambda v: _text(v, "name", max_length=200, required=True),
    "description": lambda v: _text(v, "description", max_length=5000, required=False),
    "image_url": _image_url,
    "amount": validate_amount,
    "currency": validate_currency,
    "stock": _stock,
    "active": lambda v: _flag(v, "active"),
    "allow_promotion_codes": lambda v: _flag(v, "allow_promotion_codes"),
    "max_per_order": _max_per_order,
    "hold_seconds": _hold_seconds,
    "in_feed": lambda v: _flag(v, "in_feed"),
    "license_keys": lambda v: _flag(v, "license_keys"),
    "shipping": validate_shipping,
    "sku": lambda v: _identifier(v, "sku"),
    "gtin": _gtin,
    "mpn": lambda v: _identifier(v, "mpn"),
    "brand": lambda v: _identifier(v, "brand"),
}


def _stored(values: dict[str, Any]) -> dict[str, Any]:
    """Validated fields as columns (the shipping options as JSON)."""
    if "shipping" in values:
        shipping = values["shipping"]
        values = {**values, "shipping": shipping.to_json() if shipping else None}
    return values


def validate_product_fields(data: Mapping[str, Any], *, partial: bool) -> dict[str, Any]:
    """Check merchant-supplied product fields; unknown fields and missing required ones raise."""
    unknown = sorted(set(data) - set(_VALIDATORS))
    if unknown:
        raise InvalidRequest(f"Unknown field {unknown[0]!r}.", param=unknown[0])
    if not partial:
        for required in ("name", "amount", "currency"):
            if required not in data:
                raise InvalidRequest(f"{required} is required.", param=required)
    return {key: _VALIDATORS[key](value) for key, value in data.items()}


# -- products --------------------------------------------------------------------------------


def create_product(
    conn: Connection, merchant_id: str, fields: Mapping[str, Any], *, now: float | None = None
) -> Product:
    """Create a product for ``merchant_id`` from unvalidated ``fields``."""
    values = validate_product_fields(fields, partial=False)
    stamp = int(now if now is not None else time.time())
    row = {
        "id": new_id("prod"),
        "merchant_id": merchant_id,
        "description": "",
        "image_url": None,
        "stock": None,
        "active": True,
        "allow_promotion_codes": False,
        "in_feed": False,
        "token_generation": 1,
        "max_per_order": DEFAULT_MAX_PER_ORDER,
        "hold_seconds": None,
        "license_keys": False,
        "created_at": stamp,
        "updated_at": stamp,
        **_stored(values),
    }
    conn.execute(insert(products).values(**row))
    return get_product(conn, row["id"], merchant_id=merchant_id)


# Built once (every checkout reads its product): building the select cost more than running it.
_PRODUCT_BY_ID = select(products).where(products.c.id == bindparam("product_id"))
_MERCHANT_PRODUCT_BY_ID = _PRODUCT_BY_ID.where(products.c.merchant_id == bindparam("merchant_id"))


def get_product(
    conn: Connection,
    product_id: str,
    *,
    merchant_id: str | None = None,
    include_deleted: bool = False,
) -> Product:
    """The product ``product_id`` (of ``merchant_id``, when given); :class:`NotFound` otherwise."""
    if merchant_id is None:
        row = conn.execute(_PRODUCT_BY_ID, {"product_id": product_id}).first()
    else:
        params = {"product_id": product_id, "merchant_id": merchant_id}
        row = conn.execute(_MERCHANT_PRODUCT_BY_ID, params).first()
    if row is None or (row.deleted_at is not None and not include_deleted):
        raise NotFound(
            f"No such product: {product_id!r}.", code=ErrorCode.PRODUCT_NOT_FOUND, param="id"
        )
    return _product(row)


def product_names(conn: Connection, merchant_id: str) -> dict[str, str]:
    """``{product id: name}`` of all the merchant's products, deleted ones included (their
    orders still name them)."""
    rows = conn.execute(
        select(products.c.id, products.c.name).where(products.c.merchant_id == merchant_id)
    )
    return {row.id: row.name for row in rows}


def list_products(
    conn: Connection,
    merchant_id: str,
    *,
    limit: int = 20,
    starting_after: str | None = None,
    active: bool | None = None,
) -> tuple[list[Product], bool]:
    """A page of the merchant's products, newest first: ``(products, has_more)``."""
    where = (products.c.merchant_id == merchant_id) & products.c.deleted_at.is_(None)
    if active is not None:
        where &= products.c.active == active
    rows, has_more = fetch_page(conn, products, where, limit=limit, starting_after=starting_after)
    return [_product(r) for r in rows], has_more


def update_product(
    conn: Connection,
    merchant_id: str,
    product_id: str,
    fields: Mapping[str, Any],
    *,
    now: float | None = None,
) -> Product:
    """Change some fields of a product.

    Changing the price or the currency revokes every outstanding token of the product (the
    generation is bumped): a posted button must never sell at a price the merchant withdrew.
    """
    product = get_product(conn, product_id, merchant_id=merchant_id)
    values = validate_product_fields(fields, partial=True)
    if ("amount" in values and values["amount"] != product.amount) or (
        "currency" in values and values["currency"] != product.currency
    ):
        values["token_generation"] = products.c.token_generation + 1
    values["updated_at"] = int(now if now is not None else time.time())
    conn.execute(update(products).where(products.c.id == product.id).values(**_stored(values)))
    return get_product(conn, product.id)


def delete_product(
    conn: Connection, merchant_id: str, product_id: str, *, now: float | None = None
) -> Product:
    """Withdraw a product: it stays for its orders' sake, but is gone from the catalog and its
    tokens stop selling."""
    product = get_product(conn, product_id, merchant_id=merchant_id)
    stamp = int(now if now is not None else time.time())
    conn.execute(
        update(products)
        .where(products.c.id == product.id)
        .values(deleted_at=stamp, active=False, updated_at=stamp)
    )
    return get_product(conn, product.id, include_deleted=True)


def revoke_tokens(conn: Connection, merchant_id: str, product_id: str) -> Product:
    """Bump the product's token generation: every token issued before stops selling."""
    product = get_product(conn, product_id, merchant_id=merchant_id)
    conn.execute(
        update(products)
        .where(products.c.id == product.id)
        .values(token_generation=products.c.token_generation + 1)
    )
    return get_product(conn, product.id)


# -- tokens ----------------------------------------------------------------------------------


def offer_claims(
    product: Product,
    *,
    ref: object = None,
    expires_at: int | None = None,
    link_id: str | None = None,
) -> TokenClaims:
    """The claims of a token offering ``product`` at its current price."""
    if ref is not None:
        ref = validate_ref(ref)
    if not product.active:
        raise ProductUnavailable("An inactive product cannot be offered.", param="id")
    return TokenClaims(
        merchant_id=product.merchant_id,
        product_id=product.id,
        amount=product.amount,
        currency=product.currency,
        generation=product.token_generation,
        expires_at=expires_at,
        ref=ref or None,
        link_id=link_id,
    )


def resolve_token(conn: Connection, claims: TokenClaims) -> Product:
    """The product a verified token offers, if that offer still stands.

    Raises :class:`NotFound` (``product_not_found``) for an unknown product,
    :class:`TokenRevoked` when the product's generation moved on or the token's offer link was
    revoked, and :class:`ProductUnavailable` when it was deactivated or deleted.
    """
    query = select(products).where(products.c.id == claims.product_id)
    if claims.link_id is not None:  # the link's state in the same statement
        query = query.add_columns(
            offer_links.c.id.label("link_row"), offer_links.c.revoked_at.label("link_revoked_at")
        ).outerjoin(
            offer_links,
            (offer_links.c.id == claims.link_id) & (offer_links.c.product_id == products.c.id),
        )
    row = conn.execute(query).first()
    if row is None or row.merchant_id != claims.merchant_id:
        raise NotFound(
            "The product of this offer does not exist.",
            code=ErrorCode.PRODUCT_NOT_FOUND,
            param="token",
        )
    product = _product(row)
    if product.token_generation != claims.generation:
        raise TokenRevoked("This offer was withdrawn by the merchant.", param="token")
    if claims.link_id is not None and (row.link_row is None or row.link_revoked_at is not None):
        raise TokenRevoked("This offer was withdrawn by the merchant.", param="token")
    if not product.active or product.deleted_at is not None:
        raise ProductUnavailable("This product is no longer available.", param="token")
    return product


def reserve_stock(conn: Connection, product_id: str, quantity: int) -> bool:
    """Take ``quantity`` from the product's stock; :class:`SoldOut` when not enough is left.
    Returns whether anything was counted (False for unlimited stock)."""
    result = conn.execute(
        update(products)
        .where(
            products.c.id == product_id, products.c.stock.is_not(None), products.c.stock >= quantity
        )
        .values(stock=products.c.stock - quantity)
    )
    if result.rowcount == 1:
        return True
    stock = conn.execute(select(products.c.stock).where(products.c.id == product_id)).scalar_one()
    if stock is None:
        return False
    raise SoldOut("Sold out." if stock == 0 else f"Only {stock} left.", param="quantity")


def release_stock(conn: Connection, product_id: str, quantity: int) -> None:
    """Give back stock an order reserved (on expiry or cancellation)."""
    conn.execute(
        update(products)
        .where(products.c.id == product_id, products.c.stock.is_not(None))
        .values(stock=products.c.stock + quantity)
    )


# -- a digital product's file ------------------------------------------------------------------

#: The longest file name kept (the shopper's download is saved under it).
MAX_FILE_NAME = 255


def clean_file_name(raw: object) -> str:
    """A name to offer a download under, from an upload's (untrusted) file name: its last path
    part, without control characters or characters file systems refuse, at most
    :data:`MAX_FILE_NAME` characters (the extension kept); ``"download"`` when nothing is left."""
    name = raw if isinstance(raw, str) else ""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join("_" if ch in '<>:"|?*' or not ch.isprintable() else ch for ch in name)
    name = name.strip(" .") or "download"
    if len(name) > MAX_FILE_NAME:
        stem, dot, ext = name.rpartition(".")
        if dot and 0 < len(ext) <= 16:
            name = stem[: MAX_FILE_NAME - len(ext) - 1] + "." + ext
        else:
            name = name[:MAX_FILE_NAME]
    return name


def attach_file(
    conn: Connection,
    merchant_id: str,
    product_id: str,
    stored: StoredFile,
    *,
    name: str,
    now: float | None = None,
) -> tuple[Product, str | None]:
    """Make ``stored`` the product's file, offered as ``name`` (see :func:`clean_file_name`).

    Returns the product and the storage key of the file it replaces (``None`` if none or the
    same bytes): the caller removes that one from storage if :func:`file_in_use` says no product
    needs it any more. :class:`NotFound` for another merchant's or a deleted product.
    """
    product = get_product(conn, product_id, merchant_id=merchant_id)
    stamp = int(now if now is not None else time.time())
    conn.execute(
        update(products)
        .where(products.c.id == product.id)
        .values(
            file_key=stored.key,
            file_name=name,
            file_size=stored.size,
            file_type=stored.content_type,
            file_uploaded_at=stamp,
            updated_at=stamp,
        )
    )
    replaced = product.file_key if product.file_key != stored.key else None
    return get_product(conn, product.id), replaced


def detach_file(
    conn: Connection, merchant_id: str, product_id: str, *, now: float | None = None
) -> tuple[Product, str]:
    """Remove the product's file: its paid orders' downloads stop. Returns the product and the
    storage key it let go of (see :func:`attach_file`); :class:`NotFound` (``file_not_found``)
    when the product has no file."""
    product = get_product(conn, product_id, merchant_id=merchant_id)
    if product.file_key is None:
        raise NotFound("This product has no file.", code=ErrorCode.FILE_NOT_FOUND, param="id")
    stamp = int(now if now is not None else time.time())
    conn.execute(
        update(products)
        .where(products.c.id == product.id)
        .values(
            file_key=None,
            file_name=None,
            file_size=None,
            file_type=None,
            file_uploaded_at=None,
            updated_at=stamp,
        )
    )
    return get_product(conn, product.id), product.file_key


def file_in_use(conn: Connection, key: str) -> bool:
    """Whether any product (deleted ones included: their orders may still download) has the
    stored file ``key``."""
    return (
        conn.execute(select(products.c.id).where(products.c.file_key == key).limit(1)).first()
        is not None
    )
