"""Products, their stock and the tokens that offer them.

Stock is ``None`` for unlimited, else a count that :func:`reserve_stock` decrements with one
conditional UPDATE, so concurrent checkouts can never oversell, on SQLite or PostgreSQL.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Connection, Row, insert, select, update

from .errors import ErrorCode, InvalidRequest, NotFound, ProductUnavailable, SoldOut, TokenRevoked
from .ids import new_id
from .money import Money, validate_amount, validate_currency
from .social import validate_ref
from .store import fetch_page
from .store.schema import products
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
    deleted_at: int | None = None

    @property
    def price(self) -> Money:
        return Money(self.amount, self.currency)

    @property
    def available(self) -> bool:
        """Whether a shopper can buy it right now."""
        return self.active and self.deleted_at is None and (self.stock is None or self.stock > 0)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("deleted_at")
        return {"object": "product", **data}


def _product(row: Row[Any]) -> Product:
    return Product(**{name: getattr(row, name) for name in Product.__slots__})


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
}


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
        "created_at": stamp,
        "updated_at": stamp,
        **values,
    }
    conn.execute(insert(products).values(**row))
    return get_product(conn, row["id"], merchant_id=merchant_id)


def get_product(
    conn: Connection,
    product_id: str,
    *,
    merchant_id: str | None = None,
    include_deleted: bool = False,
) -> Product:
    """The product ``product_id`` (of ``merchant_id``, when given); :class:`NotFound` otherwise."""
    query = select(products).where(products.c.id == product_id)
    if merchant_id is not None:
        query = query.where(products.c.merchant_id == merchant_id)
    row = conn.execute(query).first()
    if row is None or (row.deleted_at is not None and not include_deleted):
        raise NotFound(
            f"No such product: {product_id!r}.", code=ErrorCode.PRODUCT_NOT_FOUND, param="id"
        )
    return _product(row)


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
    conn.execute(update(products).where(products.c.id == product.id).values(**values))
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
    product: Product, *, ref: object = None, expires_at: int | None = None
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
    )


def resolve_token(conn: Connection, claims: TokenClaims) -> Product:
    """The product a verified token offers, if that offer still stands.

    Raises :class:`NotFound` (``product_not_found``) for an unknown product,
    :class:`TokenRevoked` when the product's generation moved on, and
    :class:`ProductUnavailable` when it was deactivated or deleted.
    """
    row = conn.execute(select(products).where(products.c.id == claims.product_id)).first()
    if row is None or row.merchant_id != claims.merchant_id:
        raise NotFound(
            "The product of this offer does not exist.",
            code=ErrorCode.PRODUCT_NOT_FOUND,
            param="token",
        )
    product = _product(row)
    if product.token_generation != claims.generation:
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
