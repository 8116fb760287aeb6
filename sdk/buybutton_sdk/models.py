"""Typed results: one small dataclass per API object.

Each keeps the full JSON it was built from: :meth:`APIObject.to_dict` returns it, fields this
SDK version does not know yet included (they are also in :attr:`APIObject.extra`), so a newer
server never loses data in an older client. Amounts are integers in minor units (1200 = €12.00);
currencies are lowercase ISO 4217 codes; times are Unix seconds.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

    from ._http import APIResponse

T = TypeVar("T", bound="APIObject")
N = TypeVar("N", bound="DataclassInstance")


@dataclass(frozen=True)
class APIObject:
    """Base of the typed results."""

    OBJECT: ClassVar[str] = ""
    _raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    _response: APIResponse | None = field(default=None, repr=False, compare=False)

    @classmethod
    def from_dict(cls: type[T], data: Mapping[str, Any]) -> T:
        """Build from the API's JSON; unknown fields are kept, missing ones are ``None``."""
        known = {f.name for f in fields(cls) if not f.name.startswith("_")}
        raw = copy.deepcopy(dict(data))
        return cls(_raw=raw, **{name: copy.deepcopy(raw[name]) for name in known if name in raw})

    @classmethod
    def from_response(cls: type[T], response: APIResponse) -> T:
        """Build from an API answer, keeping it as :attr:`last_response`."""
        if not isinstance(response.body, Mapping):
            from .errors import APIError

            raise APIError(
                "The server answered with JSON that is not an object.",
                http_status=response.status,
                request_id=response.request_id,
            )
        built = cls.from_dict(response.body)
        object.__setattr__(built, "_response", response)
        return built

    @property
    def last_response(self) -> APIResponse | None:
        """The HTTP answer this object came from (status, headers, ``request_id``,
        ``idempotent_replayed``, the ``idempotency_key`` sent), or ``None``."""
        return self._response

    def to_dict(self) -> dict[str, Any]:
        """The object as the API sent it (a copy), unknown fields included."""
        return copy.deepcopy(self._raw)

    @property
    def extra(self) -> dict[str, Any]:
        """Fields the server sent that this SDK version has no attribute for."""
        known = {f.name for f in fields(self) if not f.name.startswith("_")}
        return {k: copy.deepcopy(v) for k, v in self._raw.items() if k not in known}


@dataclass(frozen=True)
class Product(APIObject):
    """A product a merchant sells. ``stock`` ``None`` means unlimited."""

    OBJECT: ClassVar[str] = "product"
    id: str = ""
    object: str = "product"
    merchant_id: str | None = None
    name: str | None = None
    description: str | None = None
    image_url: str | None = None
    amount: int | None = None
    currency: str | None = None
    stock: int | None = None
    active: bool | None = None
    allow_promotion_codes: bool | None = None
    #: The most units one order may take.
    max_per_order: int | None = None
    #: Seconds an unpaid order holds its stock; ``None``: the server's default.
    hold_seconds: int | None = None
    #: Listed in the merchant's public catalog feeds.
    in_feed: bool | None = None
    #: Each paid order gets a licence key (verify it with ``client.licenses.retrieve``).
    license_keys: bool | None = None
    #: The file a paid order downloads (a digital good), or ``None``.
    file: ProductFile | None = None
    #: ``None``: it does not ship; else ``{"countries": [...], "rates": [{id, name, amount,
    #: delivery_estimate}]}`` as sent (see :attr:`ships`).
    shipping: dict[str, Any] | None = None
    sku: str | None = None
    gtin: str | None = None
    mpn: str | None = None
    brand: str | None = None
    token_generation: int | None = None
    created_at: int | None = None
    updated_at: int | None = None

    @property
    def ships(self) -> bool:
        """Whether checkout asks for a postal address and a shipping rate."""
        return self.shipping is not None

    @classmethod
    def from_dict(cls: type[T], data: Mapping[str, Any]) -> T:
        built = super().from_dict(data)
        raw_file = data.get("file")
        if isinstance(raw_file, Mapping):
            object.__setattr__(built, "file", ProductFile.from_dict(raw_file))
        return built


@dataclass(frozen=True)
class ProductFile(APIObject):
    """A digital product's file: the ``name`` shoppers download it as, its ``size`` in bytes,
    its ``type`` (sniffed from its bytes by the server), ``sha256`` and ``uploaded_at``."""

    name: str | None = None
    size: int | None = None
    type: str | None = None
    sha256: str | None = None
    uploaded_at: int | None = None


@dataclass(frozen=True)
class License(APIObject):
    """A licence key of a paid order: ``valid`` while the order is paid (``status``
    ``"paid"``), not after a refund (``"refunded"``)."""

    OBJECT: ClassVar[str] = "license"
    key: str = ""
    object: str = "license"
    valid: bool = False
    status: str | None = None
    order_id: str | None = None
    product_id: str | None = None
    created_at: int | None = None


@dataclass(frozen=True)
class Token(APIObject):
    """A signed product token and what to paste to sell with it.

    ``snippet``: the HTML for a web page; ``share_url``: the link for a social post (it unfurls
    as a product card); ``buy_url``: straight to payment; ``qr_url``: an SVG QR code of the link.
    """

    OBJECT: ClassVar[str] = "token"
    token: str = ""
    object: str = "token"
    product_id: str | None = None
    amount: int | None = None
    currency: str | None = None
    ref: str | None = None
    expires_at: int | None = None
    snippet: str | None = None
    share_url: str | None = None
    buy_url: str | None = None
    qr_url: str | None = None


def _nested(cls: type[N], data: Any) -> N | None:
    """A nested part of an object (``order.customer``…) from its JSON; unknown keys dropped."""
    if not isinstance(data, Mapping):
        return None
    known = {f.name for f in fields(cls)}
    return cls(**{k: copy.deepcopy(v) for k, v in data.items() if k in known})


@dataclass(frozen=True)
class Customer:
    """Who bought: the email the receipt goes to, and the name and phone when known."""

    email: str | None = None
    name: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class Address:
    """A postal address; ``country`` is an upper-case ISO code, ``state`` a code where the
    country has a list (``"CA"``), ``line2``/``state`` possibly empty."""

    line1: str = ""
    line2: str = ""
    city: str = ""
    postal_code: str = ""
    state: str = ""
    country: str = ""


@dataclass(frozen=True)
class OrderShipping:
    """Where an order goes and how: recipient, address, the rate chosen and its cost."""

    name: str = ""
    address: Address = field(default_factory=Address)
    rate_id: str | None = None
    rate_name: str | None = None
    amount: int = 0


@dataclass(frozen=True)
class Fulfillment:
    """``status``: unfulfilled, shipped, delivered, or not_required (nothing ships)."""

    status: str = "not_required"
    carrier: str | None = None
    tracking_number: str | None = None
    tracking_url: str | None = None
    shipped_at: int | None = None
    delivered_at: int | None = None


@dataclass(frozen=True)
class Order(APIObject):
    """An order. ``status`` is one of pending, paid, expired, canceled, refunded;
    ``fulfillment.status`` one of unfulfilled, shipped, delivered, not_required.
    ``customer``, ``shipping`` (``None`` when nothing ships) and ``fulfillment`` are typed."""

    OBJECT: ClassVar[str] = "order"
    id: str = ""
    object: str = "order"
    merchant_id: str | None = None
    product_id: str | None = None
    quantity: int | None = None
    unit_amount: int | None = None
    amount: int | None = None
    currency: str | None = None
    status: str | None = None
    ref: str | None = None
    provider: str | None = None
    payment_id: str | None = None
    amount_paid: int | None = None
    flag: str | None = None
    created_at: int | None = None
    updated_at: int | None = None
    paid_at: int | None = None
    expires_at: int | None = None
    customer: Customer = field(default_factory=Customer)
    shipping: OrderShipping | None = None
    fulfillment: Fulfillment = field(default_factory=Fulfillment)
    amount_subtotal: int | None = None
    amount_shipping: int | None = None
    amount_total: int | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Order:
        built = super().from_dict(data)
        shipping = _nested(OrderShipping, data.get("shipping"))
        if shipping is not None:
            address = _nested(Address, data["shipping"].get("address")) or Address()
            shipping = OrderShipping(**{**shipping.__dict__, "address": address})
        object.__setattr__(built, "customer", _nested(Customer, data.get("customer")) or Customer())
        object.__setattr__(built, "shipping", shipping)
        object.__setattr__(
            built, "fulfillment", _nested(Fulfillment, data.get("fulfillment")) or Fulfillment()
        )
        return built


@dataclass(frozen=True)
class ReturnPolicy:
    """Days a buyer has to return an item (0: no returns) and the policy's text."""

    days: int = 0
    text: str = ""


@dataclass(frozen=True)
class WebhookEndpoint(APIObject):
    """Where the server POSTs signed events. ``secret`` is present only in the create answer:
    keep it, it verifies the deliveries (:meth:`~buybutton_sdk.Webhooks.construct_event`)."""

    OBJECT: ClassVar[str] = "webhook_endpoint"
    id: str = ""
    object: str = "webhook_endpoint"
    url: str | None = None
    events: list[str] = field(default_factory=list)
    enabled: bool | None = None
    created_at: int | None = None
    secret: str | None = None


@dataclass(frozen=True)
class Merchant(APIObject):
    """Your merchant account. ``allowed_origins``: your own sites (``https://shop.example``);
    buy pages link back to, and tell the purchase to, only these."""

    OBJECT: ClassVar[str] = "merchant"
    id: str = ""
    object: str = "merchant"
    name: str | None = None
    allowed_origins: list[str] = field(default_factory=list)
    #: Where new-order notifications go.
    email: str | None = None
    #: Shown to buyers for help.
    support_email: str | None = None
    return_policy: ReturnPolicy | None = None
    created_at: int | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Merchant:
        built = super().from_dict(data)
        object.__setattr__(built, "return_policy", _nested(ReturnPolicy, data.get("return_policy")))
        return built


@dataclass(frozen=True)
class Stats(APIObject):
    """The conversion funnel over a period (``from_`` … ``to``, UTC days, ``None``: unbounded):
    ``totals`` and the top refs and products by ``sort``, each a dict with ``impressions``,
    ``clicks``, ``orders``, ``paid_orders``, ``refunded_orders``, ``revenue`` (``{currency:
    minor units}``), ``click_through_rate`` and ``conversion_rate``. ``by_ref_next`` and
    ``by_product_next`` continue the rankings (see :meth:`StatsService.by_ref`)."""

    OBJECT: ClassVar[str] = "stats"
    object: str = "stats"
    to: str | None = None
    sort: str | None = None
    totals: dict[str, Any] = field(default_factory=dict)
    by_ref: list[dict[str, Any]] = field(default_factory=list)
    by_ref_next: str | None = None
    by_product: list[dict[str, Any]] = field(default_factory=list)
    by_product_next: str | None = None

    @property
    def from_(self) -> str | None:
        """The first day counted (``from`` in the JSON), or ``None``."""
        value = self._raw.get("from")
        return value if isinstance(value, str) else None


@dataclass(frozen=True)
class DeletedObject(APIObject):
    """The answer to a delete: the id, its type and ``deleted=True``."""

    id: str = ""
    object: str | None = None
    deleted: bool = False


@dataclass(frozen=True)
class Event(APIObject):
    """A webhook event, e.g. ``order.paid``; ``data["object"]`` is the object it is about."""

    OBJECT: ClassVar[str] = "event"
    id: str = ""
    object: str = "event"
    type: str | None = None
    created: int | None = None
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def data_object(self) -> APIObject | None:
        """The event's object, typed (an :class:`Order` for ``order.*`` events), or ``None``."""
        inner = self.data.get("object") if isinstance(self.data, Mapping) else None
        if not isinstance(inner, Mapping):
            return None
        cls = OBJECT_TYPES.get(str(inner.get("object")))
        return cls.from_dict(inner) if cls is not None else None

    @property
    def order(self) -> Order | None:
        """The order an ``order.*`` event is about, else ``None``."""
        inner = self.data_object
        return inner if isinstance(inner, Order) else None


OBJECT_TYPES: dict[str, type[APIObject]] = {
    cls.OBJECT: cls for cls in (Product, Token, Order, WebhookEndpoint, Event)
}
