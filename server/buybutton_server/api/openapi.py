"""The API's OpenAPI 3.1 document, served at ``GET /openapi.json``: the contract.

Written as data next to the routes it describes, one entry per schema in :data:`SCHEMAS` and one
per path in :data:`PATHS`. Tests lint it with Redocly, generate a client from it with
openapi-python-client, check every route's real answers against its schemas, and fuzz the API
against it. Conventions, so generated clients come out right:

- every field the server always sends is ``required``; a field that may be ``null`` says so with
  ``"type": [..., "null"]`` (an object: ``anyOf`` with ``{"type": "null"}``);
- enums are named schemas (``OrderStatus``, ``ErrorCode``…), so clients get one type for each;
- every operation has an ``operationId`` (the generated function's name) and a tag.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask.typing import ResponseReturnValue

from buybutton import __version__
from buybutton.catalog import (
    DEFAULT_MAX_PER_ORDER,
    IDENTIFIER_LENGTHS,
    MAX_DELIVERY_DAYS,
    MAX_HOLD_SECONDS,
    MAX_SHIPPING_COUNTRIES,
    MAX_SHIPPING_RATES,
    MIN_HOLD_SECONDS,
)
from buybutton.checkout import CHECKOUT_OUTCOMES
from buybutton.errors import ERROR_CODES, ERROR_TYPES
from buybutton.funnel import MAX_LIMIT as STATS_MAX_LIMIT
from buybutton.funnel import SORTS as STATS_SORTS
from buybutton.merchants import MAX_RETURN_DAYS, MAX_RETURN_POLICY_LENGTH
from buybutton.money import MAX_AMOUNT
from buybutton.orders import FULFILLMENT_STATUSES, MAX_QUANTITY, STATUSES
from buybutton.qrcodes import MAX_MARGIN, MAX_SIZE, MIN_MARGIN, MIN_SIZE
from buybutton.webhooks import ALL_EVENTS, EVENT_TYPES

from ..errors import json_blueprint
from ..links import public_url
from ..validation import MAX_TIME

bp = json_blueprint(Blueprint("openapi", __name__))

#: A fragment of the document (JSON): a schema, a response, an operation.
Schema = dict[str, Any]


# -- building blocks -------------------------------------------------------------------------


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: Schema) -> Schema:
    """``schema`` or ``null``."""
    return {"anyOf": [schema, {"type": "null"}]}


def _object(properties: Schema, *, optional: tuple[str, ...] = (), **extra: Any) -> Schema:
    """An object whose properties are all required but ``optional`` ones."""
    return {
        "type": "object",
        "required": [name for name in properties if name not in optional],
        "properties": properties,
        **extra,
    }


def _const(value: str) -> Schema:
    return {"type": "string", "const": value}


def _json(schema: Schema, description: str = "OK") -> Schema:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _content(description: str, media_type: str) -> Schema:
    """A response whose body is not JSON: text (a feed) or bytes (an image)."""
    schema: Schema = {"type": "string"}
    if not media_type.startswith("text/"):
        schema["contentMediaType"] = media_type
    return {"description": description, "content": {media_type: {"schema": schema}}}


def _errors(*statuses: int, response: str = "Error") -> Schema:
    return {str(s): {"$ref": f"#/components/responses/{response}"} for s in statuses}


def _body(schema: Schema, required: bool = True) -> Schema:
    return {"required": required, "content": {"application/json": {"schema": schema}}}


def _operation(
    operation_id: str,
    tag: str,
    summary: str,
    responses: Schema,
    *,
    merchant: bool = False,
    **extra: Any,
) -> Schema:
    return {
        "operationId": operation_id,
        "tags": [tag],
        "summary": summary,
        "security": MERCHANT if merchant else [],
        **extra,
        "responses": responses,
    }


MERCHANT: list[dict[str, list[str]]] = [{"bearerAuth": []}]
ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "string", "maxLength": 64}}
TOKEN = {
    "name": "token",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "maxLength": 2048},
    "description": "A product token.",
}
PAGE = [
    {
        "name": "limit",
        "in": "query",
        "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
    },
    {
        "name": "starting_after",
        "in": "query",
        "schema": {"type": "string", "maxLength": 64},
        "description": "The last id of the previous page.",
    },
]
AMOUNT = {
    "type": "integer",
    "minimum": 1,
    "maximum": MAX_AMOUNT,
    "description": "Minor units of the currency (1200 = 12.00 EUR).",
}
CURRENCY = {
    "type": "string",
    "pattern": "^[a-zA-Z]{3}$",
    "description": "ISO-4217 code; answers are lowercase.",
}
CURRENCY_OUT = {
    "type": "string",
    "pattern": "^[a-z]{3}$",
    "description": "Lowercase ISO-4217 code.",
}
TIME = {"type": "integer", "description": "Unix seconds."}
NULLABLE_TIME = {"type": ["integer", "null"], "description": "Unix seconds."}

# What a merchant sets on a product (create and update); answers carry them too.
PRODUCT_FIELDS = {
    "name": {"type": "string", "minLength": 1, "maxLength": 200},
    "description": {"type": "string", "maxLength": 5000},
    "image_url": {"type": ["string", "null"], "format": "uri", "maxLength": 2048},
    "amount": AMOUNT,
    "currency": CURRENCY,
    "stock": {"type": ["integer", "null"], "minimum": 0, "description": "null: unlimited"},
    "active": {"type": "boolean"},
    "allow_promotion_codes": {"type": "boolean"},
    "max_per_order": {
        "type": "integer",
        "minimum": 1,
        "maximum": MAX_QUANTITY,
        "default": DEFAULT_MAX_PER_ORDER,
        "description": "The most units one order may take.",
    },
    "hold_seconds": {
        "type": ["integer", "null"],
        "minimum": MIN_HOLD_SECONDS,
        "maximum": MAX_HOLD_SECONDS,
        "description": "How long an unpaid order holds its stock; null: the "
        "server's BUYBUTTON_CHECKOUT_TTL_SECONDS.",
    },
    "in_feed": {
        "type": "boolean",
        "default": False,
        "description": "Listed in the public catalog feeds /v1/feeds/{merchant}.csv/.xml.",
    },
    "shipping": {
        "anyOf": [{"$ref": "#/components/schemas/ShippingOptions"}, {"type": "null"}],
        "description": "null: the product does not ship; else checkout asks for an address "
        "in one of its countries and one of its rates (docs/fulfilment.md).",
    },
    "sku": {"type": ["string", "null"], "maxLength": IDENTIFIER_LENGTHS["sku"]},
    "gtin": {
        "type": ["string", "null"],
        "pattern": "^([0-9]{8}|[0-9]{12,14})$",
        "description": "GTIN-8/12/13/14 (EAN, UPC) with a valid check digit.",
    },
    "mpn": {"type": ["string", "null"], "maxLength": IDENTIFIER_LENGTHS["mpn"]},
    "brand": {"type": ["string", "null"], "maxLength": IDENTIFIER_LENGTHS["brand"]},
    "license_keys": {
        "type": "boolean",
        "default": False,
        "description": "Each paid order gets a licence key (GET /v1/licenses/{key} verifies it).",
    },
}

DAYS = {"type": "integer", "minimum": 0, "maximum": MAX_DELIVERY_DAYS}
NULLABLE_TEXT = {"type": ["string", "null"]}
EMAIL = {"type": ["string", "null"], "format": "email", "maxLength": 254}

# The filters GET /v1/orders and /v1/orders.csv share (besides status).
ORDER_FILTERS = [
    {"name": "ref", "in": "query", "schema": {"type": "string", "maxLength": 64}},
    {"name": "product_id", "in": "query", "schema": {"type": "string", "maxLength": 64}},
    {
        "name": "fulfillment",
        "in": "query",
        "schema": _ref("FulfillmentStatus"),
        "description": "unfulfilled: paid orders still to ship.",
    },
]

# One row of the conversion funnel (GET /v1/stats).
FUNNEL_FIELDS = {
    "impressions": {"type": "integer", "minimum": 0},
    "clicks": {"type": "integer", "minimum": 0},
    "orders": {"type": "integer", "minimum": 0, "description": "Checkouts started."},
    "paid_orders": {"type": "integer", "minimum": 0, "description": "Refunded ones included."},
    "refunded_orders": {"type": "integer", "minimum": 0},
    "revenue": {
        "type": "object",
        "additionalProperties": {"type": "integer"},
        "description": "Minor units per currency, paid minus refunded.",
    },
    "click_through_rate": {"type": ["number", "null"], "description": "null: no impressions"},
    "conversion_rate": {"type": ["number", "null"], "description": "null: no impressions"},
}


def _list_of(item: str) -> Schema:
    return _object(
        {
            "object": _const("list"),
            "url": {"type": "string"},
            "data": {"type": "array", "items": _ref(item)},
            "has_more": {"type": "boolean"},
        }
    )


CURSOR: Schema = {
    "type": ["string", "null"],
    "description": "starting_after for the next page of this ranking; null: no more rows",
}


def _ranking_of(item: str) -> Schema:
    return _object(
        {
            "object": _const("list"),
            "url": {"type": "string"},
            "data": {"type": "array", "items": _ref(item)},
            "has_more": {"type": "boolean"},
            "next_cursor": CURSOR,
        }
    )


def _deleted(object_name: str) -> Schema:
    return _object(
        {
            "id": {"type": "string"},
            "object": _const(object_name),
            "deleted": {"type": "boolean", "enum": [True]},
        }
    )


# -- schemas: one entry each -----------------------------------------------------------------

SCHEMAS = {
    "ErrorType": {"type": "string", "enum": list(ERROR_TYPES)},
    "ErrorCode": {
        "type": "string",
        "enum": list(ERROR_CODES),
        "description": "Stable machine codes; clients branch on them (docs/api.md).",
    },
    "ErrorDetail": _object(
        {
            "type": _ref("ErrorType"),
            "code": _ref("ErrorCode"),
            "message": {"type": "string"},
            "param": {"type": ["string", "null"], "description": "The offending field or header."},
        }
    ),
    "Error": _object({"error": _ref("ErrorDetail")}),
    "ProductCreate": {
        "type": "object",
        "required": ["name", "amount", "currency"],
        "properties": PRODUCT_FIELDS,
        "additionalProperties": False,
    },
    "ProductUpdate": {
        "type": "object",
        "properties": PRODUCT_FIELDS,
        "additionalProperties": False,
    },
    "Product": _object(
        {
            "object": _const("product"),
            "id": {"type": "string"},
            "merchant_id": {"type": "string"},
            **PRODUCT_FIELDS,
            "currency": CURRENCY_OUT,
            "token_generation": {"type": "integer", "minimum": 1},
            "file": _nullable(_ref("ProductFile")),
            "created_at": TIME,
            "updated_at": TIME,
        }
    ),
    "ProductFile": _object(
        {
            "name": {
                "type": "string",
                "minLength": 1,
                "maxLength": 255,
                "description": "What shoppers download it as (the upload's file name, cleaned).",
            },
            "size": {"type": "integer", "minimum": 1, "description": "Bytes."},
            "type": {
                "type": "string",
                "description": "The media type sniffed from its bytes (not its name).",
            },
            "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
            "uploaded_at": TIME,
        },
        description="A digital product's file, delivered after payment.",
    ),
    "FileUpload": _object(
        {"file": {"type": "string", "contentMediaType": "application/octet-stream"}},
        description="multipart/form-data with the file in the part named file.",
    ),
    "License": _object(
        {
            "object": _const("license"),
            "key": {"type": "string", "pattern": "^[0-9A-Z]{5}(-[0-9A-Z]{5}){4}$"},
            "valid": {"type": "boolean", "description": "True while its order is paid."},
            "status": {
                "type": "string",
                "enum": ["paid", "refunded"],
                "description": "Its order's status.",
            },
            "order_id": {"type": "string"},
            "product_id": {"type": "string"},
            "created_at": TIME,
        }
    ),
    "ProductList": _list_of("Product"),
    "DeletedProduct": _deleted("product"),
    "TokenCreate": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "ref": {"type": "string", "minLength": 1, "maxLength": 64},
            "expires_in": {"type": "integer", "minimum": 60},
            "expires_at": TIME,
        },
    },
    "Token": _object(
        {
            "object": _const("token"),
            "token": {"type": "string"},
            "product_id": {"type": "string"},
            "amount": AMOUNT,
            "currency": CURRENCY_OUT,
            "ref": {"type": ["string", "null"]},
            "expires_at": NULLABLE_TIME,
            "snippet": {"type": "string"},
            "share_url": {"type": "string"},
            "buy_url": {"type": "string"},
            "qr_url": {"type": "string"},
            "link_id": {
                "type": "string",
                "description": "The offer link this token is (listed and revocable alone on "
                "the dashboard's product page).",
            },
        }
    ),
    "OfferLink": _object(
        {
            "object": _const("offer_link"),
            "id": {"type": "string"},
            "product_id": {"type": "string"},
            "ref": {"type": ["string", "null"]},
            "amount": AMOUNT,
            "currency": CURRENCY_OUT,
            "status": {
                "type": "string",
                "enum": ["live", "revoked", "withdrawn", "expired"],
                "description": "withdrawn: the product's price changed, or all its tokens "
                "were revoked, since the link was issued.",
            },
            "expires_at": NULLABLE_TIME,
            "created_at": TIME,
            "revoked_at": NULLABLE_TIME,
            "token": {"type": "string"},
            "share_url": {"type": "string"},
            "buy_url": {"type": "string"},
        }
    ),
    "OfferLinkList": _list_of("OfferLink"),
    "DeliveryEstimate": _object(
        {"min_days": DAYS, "max_days": DAYS},
        additionalProperties=False,
        description="Business days from payment to delivery.",
    ),
    "ShippingRate": _object(
        {
            "id": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"},
            "name": {"type": "string", "minLength": 1, "maxLength": 100},
            "amount": {
                "type": "integer",
                "minimum": 0,
                "maximum": 10_000_000,
                "description": "Minor units of the product's currency, per order; 0: free.",
            },
            "delivery_estimate": _nullable(_ref("DeliveryEstimate")),
        },
        optional=("delivery_estimate",),
        additionalProperties=False,
    ),
    "ShippingOptions": _object(
        {
            "countries": {
                "type": "array",
                "minItems": 1,
                "maxItems": MAX_SHIPPING_COUNTRIES,
                "items": {"type": "string", "pattern": "^[A-Za-z]{2}$"},
                "description": "ISO 3166-1 alpha-2 codes; answers are upper case.",
            },
            "rates": {
                "type": "array",
                "minItems": 1,
                "maxItems": MAX_SHIPPING_RATES,
                "items": _ref("ShippingRate"),
            },
        },
        additionalProperties=False,
    ),
    "OrderStatus": {"type": "string", "enum": list(STATUSES)},
    "FulfillmentStatus": {"type": "string", "enum": list(FULFILLMENT_STATUSES)},
    "Customer": _object({"email": EMAIL, "name": NULLABLE_TEXT, "phone": NULLABLE_TEXT}),
    "Address": _object(
        {
            "line1": {"type": "string"},
            "line2": {"type": "string"},
            "city": {"type": "string"},
            "postal_code": {"type": "string"},
            "state": {"type": "string"},
            "country": {"type": "string", "pattern": "^[A-Z]{2}$"},
        }
    ),
    "OrderShipping": _object(
        {
            "name": {"type": "string"},
            "address": _ref("Address"),
            "rate_id": NULLABLE_TEXT,
            "rate_name": NULLABLE_TEXT,
            "amount": {"type": "integer", "minimum": 0},
        }
    ),
    "Fulfillment": _object(
        {
            "status": _ref("FulfillmentStatus"),
            "carrier": NULLABLE_TEXT,
            "tracking_number": NULLABLE_TEXT,
            "tracking_url": NULLABLE_TEXT,
            "shipped_at": NULLABLE_TIME,
            "delivered_at": NULLABLE_TIME,
        }
    ),
    "FulfillRequest": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "carrier": {"type": ["string", "null"], "maxLength": 100},
            "tracking_number": {"type": ["string", "null"], "maxLength": 100},
            "tracking_url": {"type": ["string", "null"], "format": "uri", "maxLength": 2048},
        },
    },
    "Order": _object(
        {
            "object": _const("order"),
            "id": {"type": "string"},
            "merchant_id": {"type": "string"},
            "product_id": {"type": "string"},
            "quantity": {"type": "integer", "minimum": 1},
            "unit_amount": {"type": "integer"},
            "amount": {"type": "integer"},
            "currency": CURRENCY_OUT,
            "status": _ref("OrderStatus"),
            "ref": {"type": ["string", "null"]},
            "provider": {"type": "string"},
            "payment_id": {"type": ["string", "null"]},
            "amount_paid": {"type": ["integer", "null"]},
            "flag": {"type": ["string", "null"], "description": "oversold, amount_mismatch, …"},
            "created_at": TIME,
            "updated_at": TIME,
            "paid_at": NULLABLE_TIME,
            "expires_at": TIME,
            "customer": _ref("Customer"),
            "shipping": _nullable(_ref("OrderShipping")),
            "fulfillment": _ref("Fulfillment"),
            "amount_subtotal": {"type": "integer", "description": "The goods (= amount)."},
            "amount_shipping": {"type": "integer", "minimum": 0},
            "amount_total": {
                "type": "integer",
                "description": "Goods plus shipping, before any promotion code.",
            },
        }
    ),
    "OrderList": _list_of("Order"),
    "EmbedProduct": _object(
        {
            "id": {"type": "string"},
            "name": {"type": "string"},
            "description": {"type": "string"},
            "image_url": {"type": ["string", "null"]},
        }
    ),
    "Embed": _object(
        {
            "object": _const("embed"),
            "token": {"type": "string"},
            "product": _ref("EmbedProduct"),
            "amount": AMOUNT,
            "currency": CURRENCY_OUT,
            "price_formatted": {"type": "string"},
            "locale": {"type": "string"},
            "available": {"type": "boolean"},
            "sold_out": {"type": "boolean"},
            "stock": {"type": ["integer", "null"]},
            "max_per_order": {"type": "integer", "minimum": 1},
            "ref": {"type": ["string", "null"]},
            "buy_url": {"type": "string"},
        }
    ),
    "CheckoutRequest": {
        "type": "object",
        "required": ["token"],
        "properties": {
            "token": {"type": "string"},
            "quantity": {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_QUANTITY,
                "default": 1,
                "description": "At most the product's max_per_order (400 quantity_over_max);"
                " 429 too_many_held_units when this client already holds "
                "too many units in unpaid orders.",
            },
            "ref": {"type": "string", "minLength": 1, "maxLength": 64},
            "save_card": {"type": "boolean", "default": False},
            "checkout_id": {
                "type": "string",
                "pattern": "^[0-9a-f]{32}$",
                "description": "The widget's random id of the click (from the buy page's "
                "?checkout_id=), so that GET /v1/checkouts/{id} can tell the button "
                "how its checkout ended.",
            },
            "locale": {
                "type": "string",
                "maxLength": 35,
                "description": "The shopper's language (fr, pt-BR); their mail is written "
                "in it. Default: the browser's Accept-Language.",
            },
        },
    },
    "Checkout": _object(
        {
            "object": _const("checkout"),
            "order_id": {"type": "string"},
            "status": _ref("OrderStatus"),
            "checkout_url": {"type": "string"},
            "status_url": {"type": "string"},
        }
    ),
    "CheckoutOutcome": _object(
        {
            "object": _const("checkout_outcome"),
            "status": {"type": "string", "enum": list(CHECKOUT_OUTCOMES)},
        }
    ),
    "FunnelEventType": {"type": "string", "enum": ["impression", "click"]},
    "FunnelEvent": _object({"type": _ref("FunnelEventType"), "token": {"type": "string"}}),
    "WebhookEventType": {"type": "string", "enum": list(EVENT_TYPES) + [ALL_EVENTS]},
    "WebhookEndpointCreate": {
        "type": "object",
        "required": ["url", "events"],
        "properties": {
            "url": {"type": "string", "format": "uri", "maxLength": 2048},
            "events": {"type": "array", "minItems": 1, "items": _ref("WebhookEventType")},
        },
    },
    "WebhookEndpoint": _object(
        {
            "id": {"type": "string"},
            "object": _const("webhook_endpoint"),
            "url": {"type": "string"},
            "events": {"type": "array", "items": _ref("WebhookEventType")},
            "enabled": {"type": "boolean"},
            "created_at": TIME,
            "secret": {"type": "string", "description": "whsec_…, only in the create response"},
        },
        optional=("secret",),
    ),
    "WebhookEndpointList": _list_of("WebhookEndpoint"),
    "DeletedWebhookEndpoint": _deleted("webhook_endpoint"),
    "FunnelTotals": _object(FUNNEL_FIELDS),
    "FunnelByRef": _object(
        {
            "ref": {
                "type": ["string", "null"],
                "description": "null: orders and events without a ref",
            },
            **FUNNEL_FIELDS,
        }
    ),
    "FunnelByProduct": _object(
        {"product_id": {"type": "string"}, "name": {"type": ["string", "null"]}, **FUNNEL_FIELDS}
    ),
    "Stats": _object(
        {
            "object": _const("stats"),
            "from": {"type": ["string", "null"], "format": "date", "description": "null: ever"},
            "to": {"type": ["string", "null"], "format": "date", "description": "null: today"},
            "sort": _ref("StatsSort"),
            "totals": _ref("FunnelTotals"),
            "by_ref": {"type": "array", "items": _ref("FunnelByRef")},
            "by_ref_next": CURSOR,
            "by_product": {"type": "array", "items": _ref("FunnelByProduct")},
            "by_product_next": CURSOR,
        }
    ),
    "StatsSort": {"type": "string", "enum": list(STATS_SORTS)},
    "FunnelByRefList": _ranking_of("FunnelByRef"),
    "FunnelByProductList": _ranking_of("FunnelByProduct"),
    "OEmbed": _object(
        {
            "version": _const("1.0"),
            "type": _const("rich"),
            "title": {"type": "string"},
            "author_name": {"type": "string"},
            "author_url": {"type": "string"},
            "provider_name": {"type": "string"},
            "provider_url": {"type": "string"},
            "cache_age": {"type": "integer"},
            "html": {"type": "string"},
            "width": {"type": "integer"},
            "height": {"type": "integer"},
            "thumbnail_url": {"type": "string"},
            "thumbnail_width": {"type": "integer"},
            "thumbnail_height": {"type": "integer"},
        }
    ),
    "HealthStatus": {"type": "string", "enum": ["ok", "unavailable"]},
    "Merchant": _object(
        {
            "object": _const("merchant"),
            "id": {"type": "string"},
            "name": {"type": "string"},
            "allowed_origins": {
                "type": "array",
                "items": {"type": "string", "format": "uri"},
                "description": "Origins (scheme://host[:port]) of the merchant's "
                "own sites: buy pages link back to and tell only these",
            },
            "email": EMAIL,
            "support_email": EMAIL,
            "return_policy": _nullable(_ref("ReturnPolicy")),
            "created_at": TIME,
        }
    ),
    "ReturnPolicy": _object(
        {
            "text": {"type": "string", "maxLength": MAX_RETURN_POLICY_LENGTH},
            "days": {
                "type": "integer",
                "minimum": 0,
                "maximum": MAX_RETURN_DAYS,
                "description": "Days to return an item; 0: no returns.",
            },
        },
        optional=("text",),
        additionalProperties=False,
    ),
    "MerchantUpdate": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "allowed_origins": {
                "type": "array",
                "maxItems": 20,
                "items": {"type": "string", "format": "uri", "maxLength": 2048},
            },
            "email": {**EMAIL, "description": "Where new-order notifications go."},
            "support_email": {**EMAIL, "description": "Shown to buyers for help."},
            "return_policy": _nullable(_ref("ReturnPolicy")),
        },
    },
    "Health": _object(
        {
            "status": _ref("HealthStatus"),
            "database": {
                "type": "string",
                "description": "ok, or why not: unreachable, read_only, "
                "disk_full, busy, io_error, not_migrated, error",
            },
            "payment_provider": {"type": "string", "description": "absent when unavailable"},
        },
        optional=("payment_provider",),
    ),
}

# -- paths: one entry each -------------------------------------------------------------------

IMAGE_QUERY = [
    {
        "name": "size",
        "in": "query",
        "schema": {"type": "integer", "minimum": MIN_SIZE, "maximum": MAX_SIZE},
    },
    {
        "name": "margin",
        "in": "query",
        "schema": {"type": "integer", "minimum": MIN_MARGIN, "maximum": MAX_MARGIN},
    },
]

STATS_QUERY = [
    {
        "name": "from",
        "in": "query",
        "description": "First UTC day counted (YYYY-MM-DD); absent: from the start",
        "schema": {"type": "string", "format": "date"},
    },
    {
        "name": "to",
        "in": "query",
        "description": "Last UTC day counted, included (YYYY-MM-DD); absent: up to now",
        "schema": {"type": "string", "format": "date"},
    },
    {
        "name": "sort",
        "in": "query",
        "description": "What ranks the refs and products, most first (ties by name)",
        "schema": {**_ref("StatsSort"), "default": "orders"},
    },
]
STATS_CURSOR = {
    "name": "starting_after",
    "in": "query",
    "schema": {"type": "string", "maxLength": 512},
    "description": "The next_cursor of the previous page.",
}


def _limit(default: int) -> Schema:
    return {
        "name": "limit",
        "in": "query",
        "schema": {"type": "integer", "minimum": 1, "maximum": STATS_MAX_LIMIT, "default": default},
    }


PATHS = {
    "/v1/merchant": {
        "get": _operation(
            "retrieve_merchant",
            "merchant",
            "Retrieve your merchant account and its settings",
            {"200": _json(_ref("Merchant")), **_errors(401)},
            merchant=True,
        ),
        "patch": _operation(
            "update_merchant",
            "merchant",
            "Change your settings (allowed_origins: the whole list)",
            {"200": _json(_ref("Merchant")), **_errors(400, 401)},
            merchant=True,
            requestBody=_body(_ref("MerchantUpdate")),
        ),
    },
    "/v1/products": {
        "get": _operation(
            "list_products",
            "products",
            "List products, newest first",
            {"200": _json(_ref("ProductList")), **_errors(400, 401)},
            merchant=True,
            parameters=PAGE + [{"name": "active", "in": "query", "schema": {"type": "boolean"}}],
        ),
        "post": _operation(
            "create_product",
            "products",
            "Create a product",
            {"201": _json(_ref("Product"), "Created"), **_errors(400, 401, 409)},
            merchant=True,
            requestBody=_body(_ref("ProductCreate")),
        ),
    },
    "/v1/products/{id}": {
        "parameters": [ID],
        "get": _operation(
            "retrieve_product",
            "products",
            "Retrieve a product",
            {"200": _json(_ref("Product")), **_errors(400, 401, 404)},
            merchant=True,
        ),
        "patch": _operation(
            "update_product",
            "products",
            "Update a product (a new price revokes its tokens)",
            {"200": _json(_ref("Product")), **_errors(400, 401, 404, 409)},
            merchant=True,
            requestBody=_body(_ref("ProductUpdate")),
        ),
        "delete": _operation(
            "delete_product",
            "products",
            "Withdraw a product",
            {"200": _json(_ref("DeletedProduct")), **_errors(400, 401, 404, 409)},
            merchant=True,
        ),
    },
    "/v1/products/{id}/tokens": {
        "parameters": [ID],
        "post": _operation(
            "create_token",
            "products",
            "Mint a product token with its snippet and links",
            {"201": _json(_ref("Token"), "Created"), **_errors(400, 401, 404, 409, 410)},
            merchant=True,
            requestBody=_body(_ref("TokenCreate"), required=False),
        ),
    },
    "/v1/products/{id}/links": {
        "parameters": [ID],
        "get": _operation(
            "list_offer_links",
            "products",
            "List every token (offer link) issued for a product, newest first, with its status",
            {"200": _json(_ref("OfferLinkList")), **_errors(400, 401, 404)},
            merchant=True,
        ),
    },
    "/v1/products/{id}/links/{link}/revoke": {
        "parameters": [
            ID,
            {
                "name": "link",
                "in": "path",
                "required": True,
                "schema": {"type": "string", "maxLength": 64},
                "description": "The link_id of a token.",
            },
        ],
        "post": _operation(
            "revoke_offer_link",
            "products",
            "Revoke one offer link (its token stops selling); the product's others keep selling",
            {"200": _json(_ref("OfferLink")), **_errors(400, 401, 404, 409)},
            merchant=True,
        ),
    },
    "/v1/products/{id}/revoke_tokens": {
        "parameters": [ID],
        "post": _operation(
            "revoke_product_tokens",
            "products",
            "Revoke every token of a product",
            {"200": _json(_ref("Product")), **_errors(400, 401, 404, 409)},
            merchant=True,
        ),
    },
    "/v1/products/{id}/file": {
        "parameters": [ID],
        "post": _operation(
            "upload_product_file",
            "products",
            "Upload the product's file (replaces any; up to BUYBUTTON_MAX_UPLOAD_BYTES)",
            {"200": _json(_ref("Product")), **_errors(400, 401, 404, 413, 415)},
            merchant=True,
            requestBody={
                "required": True,
                "content": {"multipart/form-data": {"schema": _ref("FileUpload")}},
            },
        ),
        "delete": _operation(
            "delete_product_file",
            "products",
            "Remove the product's file (its orders' downloads stop)",
            {"200": _json(_ref("Product")), **_errors(400, 401, 404)},
            merchant=True,
        ),
    },
    "/v1/licenses/{key}": {
        "parameters": [
            {
                "name": "key",
                "in": "path",
                "required": True,
                "schema": {"type": "string", "maxLength": 64},
                "description": "A licence key (case, spaces and dashes do not matter).",
            }
        ],
        "get": _operation(
            "retrieve_license",
            "licenses",
            "Verify a licence key: its order, product and whether it is still valid",
            {"200": _json(_ref("License")), **_errors(400, 401, 404)},
            merchant=True,
        ),
    },
    "/v1/orders": {
        "get": _operation(
            "list_orders",
            "orders",
            "List orders, newest first",
            {"200": _json(_ref("OrderList")), **_errors(400, 401)},
            merchant=True,
            parameters=PAGE
            + [
                {"name": "status", "in": "query", "schema": _ref("OrderStatus")},
                *ORDER_FILTERS,
                {
                    "name": "created[gte]",
                    "in": "query",
                    "description": "Only orders created at or after this Unix time",
                    "schema": {"type": "integer", "minimum": 0, "maximum": MAX_TIME},
                },
                {
                    "name": "created[lt]",
                    "in": "query",
                    "description": "Only orders created before this Unix time",
                    "schema": {"type": "integer", "minimum": 0, "maximum": MAX_TIME},
                },
            ],
        ),
    },
    "/v1/orders.csv": {
        "get": _operation(
            "export_orders",
            "orders",
            "Export orders with buyer and address as CSV (oldest first, formula-safe)",
            {"200": _content("CSV, one row per order", "text/csv"), **_errors(400, 401)},
            merchant=True,
            parameters=[{"name": "status", "in": "query", "schema": _ref("OrderStatus")}]
            + ORDER_FILTERS,
        ),
    },
    "/v1/orders/{id}": {
        "parameters": [ID],
        "get": _operation(
            "retrieve_order",
            "orders",
            "Retrieve an order",
            {"200": _json(_ref("Order")), **_errors(400, 401, 404)},
            merchant=True,
        ),
    },
    "/v1/orders/{id}/refund": {
        "parameters": [ID],
        "post": _operation(
            "refund_order",
            "orders",
            "Refund a paid order in full",
            {"200": _json(_ref("Order")), **_errors(400, 401, 404, 409, 502, 503)},
            merchant=True,
        ),
    },
    "/v1/orders/{id}/fulfill": {
        "parameters": [ID],
        "post": _operation(
            "fulfill_order",
            "orders",
            "Mark a paid order shipped, with its tracking (idempotent)",
            {"200": _json(_ref("Order")), **_errors(400, 401, 404, 409)},
            merchant=True,
            requestBody=_body(_ref("FulfillRequest"), required=False),
        ),
    },
    "/v1/orders/{id}/deliver": {
        "parameters": [ID],
        "post": _operation(
            "deliver_order",
            "orders",
            "Mark a paid order delivered (idempotent)",
            {"200": _json(_ref("Order")), **_errors(400, 401, 404, 409)},
            merchant=True,
        ),
    },
    "/v1/webhook_endpoints": {
        "get": _operation(
            "list_webhook_endpoints",
            "webhook_endpoints",
            "List webhook endpoints",
            {"200": _json(_ref("WebhookEndpointList")), **_errors(400, 401)},
            merchant=True,
            parameters=PAGE,
        ),
        "post": _operation(
            "create_webhook_endpoint",
            "webhook_endpoints",
            "Register a webhook endpoint (its signing secret is shown once)",
            {"201": _json(_ref("WebhookEndpoint"), "Created"), **_errors(400, 401, 409)},
            merchant=True,
            requestBody=_body(_ref("WebhookEndpointCreate")),
        ),
    },
    "/v1/webhook_endpoints/{id}": {
        "parameters": [ID],
        "get": _operation(
            "retrieve_webhook_endpoint",
            "webhook_endpoints",
            "Retrieve a webhook endpoint",
            {"200": _json(_ref("WebhookEndpoint")), **_errors(400, 401, 404)},
            merchant=True,
        ),
        "delete": _operation(
            "delete_webhook_endpoint",
            "webhook_endpoints",
            "Delete a webhook endpoint (pending deliveries are dropped)",
            {"200": _json(_ref("DeletedWebhookEndpoint")), **_errors(400, 401, 404, 409)},
            merchant=True,
        ),
    },
    "/v1/stats": {
        "get": _operation(
            "retrieve_stats",
            "stats",
            "The conversion funnel per ref and per product: impressions, clicks, "
            "orders, paid orders, revenue per currency, rates (no shopper data)",
            {"200": _json(_ref("Stats")), **_errors(400, 401)},
            merchant=True,
            parameters=STATS_QUERY + [_limit(10)],
        ),
    },
    "/v1/stats/refs": {
        "get": _operation(
            "list_stats_by_ref",
            "stats",
            "The funnel per ref over the period, ranked by sort, one page at a time",
            {"200": _json(_ref("FunnelByRefList")), **_errors(400, 401)},
            merchant=True,
            parameters=STATS_QUERY + [_limit(20), STATS_CURSOR],
        ),
    },
    "/v1/stats/products": {
        "get": _operation(
            "list_stats_by_product",
            "stats",
            "The funnel per product over the period, ranked by sort, one page at a time",
            {"200": _json(_ref("FunnelByProductList")), **_errors(400, 401)},
            merchant=True,
            parameters=STATS_QUERY + [_limit(20), STATS_CURSOR],
        ),
    },
    "/v1/funnel": {
        "post": _operation(
            "record_funnel_event",
            "widget",
            "Count a widget impression or click (sendBeacon; no cookies, CORS open)",
            {"204": {"description": "Counted"}, **_errors(400, 410, 413, 429)},
            requestBody=_body(_ref("FunnelEvent")),
        ),
    },
    "/v1/events": {
        "post": _operation(
            "record_funnel_event_deprecated",
            "widget",
            "Deprecated alias of POST /v1/funnel (widgets deployed before it)",
            {"204": {"description": "Counted"}, **_errors(400, 410, 413, 429)},
            requestBody=_body(_ref("FunnelEvent")),
            deprecated=True,
        ),
    },
    "/v1/embed/{token}": {
        "parameters": [
            TOKEN,
            {"name": "locale", "in": "query", "schema": {"type": "string", "maxLength": 35}},
        ],
        "get": _operation(
            "retrieve_embed",
            "widget",
            "The product card a widget shows (CORS open)",
            {"200": _json(_ref("Embed")), **_errors(400, 404, 410, 429)},
        ),
    },
    "/v1/checkout": {
        "post": _operation(
            "create_checkout",
            "checkout",
            "Create an order and open its payment session",
            {
                "201": _json(_ref("Checkout"), "Created"),
                **_errors(400, 403, 404, 409, 410, 429, 502, 503),
            },
            description="Refused (403) when sent by a browser page of another "
            "origin; with the saved-card cookie or save_card, it also "
            "needs the buy page's X-CSRF-Token.",
            parameters=[
                {
                    "name": "Idempotency-Key",
                    "in": "header",
                    "schema": {"type": "string", "minLength": 8, "maxLength": 255},
                },
                {"name": "X-CSRF-Token", "in": "header", "schema": {"type": "string"}},
            ],
            requestBody=_body(_ref("CheckoutRequest")),
        ),
    },
    "/v1/checkouts/{id}": {
        "parameters": [
            {
                "name": "id",
                "in": "path",
                "required": True,
                "schema": {"type": "string", "pattern": "^[0-9a-f]{32}$"},
                "description": "The widget's checkout id: 16 random bytes in hex, made by "
                "the browser for one click; it says nothing about the shopper.",
            }
        ],
        "get": _operation(
            "retrieve_checkout_outcome",
            "checkout",
            "How the checkout a widget's click opened stands (CORS open, never cached)",
            {"200": _json(_ref("CheckoutOutcome")), **_errors(400, 429)},
            description="pending (also for an id no order carries yet), paid, canceled or "
            "expired; nothing else: no amount, no order, nothing about the shopper.",
        ),
    },
    "/v1/feeds/{id}.csv": {
        "parameters": [ID],
        "get": _operation(
            "retrieve_catalog_feed_csv",
            "social",
            "The merchant's active products opted in with in_feed as a CSV catalog "
            "feed (Meta and Google Merchant Center columns); links expire after "
            "BUYBUTTON_FEED_LINK_TTL_SECONDS",
            {"200": _content("The feed", "text/csv"), **_errors(400, 404)},
        ),
    },
    "/v1/feeds/{id}.xml": {
        "parameters": [ID],
        "get": _operation(
            "retrieve_catalog_feed_rss",
            "social",
            "The merchant's active products opted in with in_feed as an RSS 2.0 "
            "catalog feed (Google Merchant Center's g: namespace); links expire "
            "after BUYBUTTON_FEED_LINK_TTL_SECONDS",
            {"200": _content("The feed", "application/rss+xml"), **_errors(400, 404)},
        ),
    },
    "/oembed": {
        "get": _operation(
            "retrieve_oembed",
            "social",
            "oEmbed 1.0 provider for share links (rich type, an iframe card)",
            {
                "200": {
                    "description": "The oEmbed answer: JSON, or XML with format=xml",
                    "content": {
                        "application/json": {"schema": _ref("OEmbed")},
                        "text/xml": {"schema": {"type": "string"}},
                    },
                },
                **_errors(400, 404, 501),
            },
            parameters=[
                {
                    "name": "url",
                    "in": "query",
                    "required": True,
                    "schema": {"type": "string", "maxLength": 4096},
                },
                {
                    "name": "format",
                    "in": "query",
                    "schema": {"type": "string", "enum": ["json", "xml"]},
                },
                {
                    "name": "maxwidth",
                    "in": "query",
                    "schema": {"type": "integer", "minimum": 1, "maximum": 10000},
                },
                {
                    "name": "maxheight",
                    "in": "query",
                    "schema": {"type": "integer", "minimum": 1, "maximum": 10000},
                },
            ],
        ),
    },
    **{
        f"/p/{{token}}/qr.{kind}": {
            "parameters": [TOKEN],
            "get": _operation(
                f"retrieve_qr_code_{kind}",
                "social",
                f"A QR code of the offer's share link ({kind.upper()})",
                {
                    "200": _content("The QR code", media),
                    "304": {"description": "Not modified (If-None-Match)"},
                    **_errors(400, 404, 410, response="PageError"),
                },
                parameters=IMAGE_QUERY,
            ),
        }
        for kind, media in (("svg", "image/svg+xml"), ("png", "image/png"))
    },
    "/p/{token}/card.png": {
        "parameters": [TOKEN],
        "get": _operation(
            "retrieve_card_image",
            "social",
            "The offer's social card image (Open Graph, 1200×630 PNG)",
            {
                "200": _content("The card image", "image/png"),
                "304": {"description": "Not modified (If-None-Match)"},
                **_errors(400, 404, 410, response="PageError"),
            },
        ),
    },
    "/healthz": {
        "get": _operation(
            "retrieve_health",
            "meta",
            "Liveness and readiness",
            {
                "200": _json(_ref("Health")),
                **_errors(400),
                "503": _json(_ref("Health"), "Unavailable"),
            },
        ),
    },
    "/openapi.json": {
        "get": _operation(
            "retrieve_openapi_document",
            "meta",
            "This document",
            {
                "200": {
                    "description": "OpenAPI 3.1",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                },
                **_errors(400),
            },
        ),
    },
}

TAGS = [
    {"name": "merchant", "description": "The merchant's own account and settings."},
    {"name": "products", "description": "The merchant's products and the tokens that sell them."},
    {"name": "orders", "description": "The merchant's orders and refunds."},
    {"name": "licenses", "description": "Licence keys of paid orders (digital goods)."},
    {"name": "webhook_endpoints", "description": "Where the merchant's signed events go."},
    {"name": "stats", "description": "The merchant's conversion funnel."},
    {"name": "widget", "description": "What the <buy-button> widget reads and reports."},
    {"name": "checkout", "description": "The buy page's checkout."},
    {"name": "social", "description": "Share links' oEmbed, QR codes, card images and feeds."},
    {"name": "meta", "description": "Health and this document."},
]


def document(server_url: str = "/") -> Schema:
    """The OpenAPI 3.1 document of the API, served from ``server_url``."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "buybutton API",
            "version": __version__,
            "description": "Self-hosted one-click Buy Now buttons. Money is integer minor units.",
            "license": {"name": "MIT", "identifier": "MIT"},
        },
        "servers": [{"url": server_url, "description": "This buybutton server"}],
        "tags": TAGS,
        "paths": PATHS,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A merchant secret key, bb_sk_…",
                }
            },
            "responses": {
                "Error": _json(_ref("Error"), "Error"),
                "PageError": {
                    "description": "Error (a small HTML page)",
                    "content": {"text/html": {"schema": {"type": "string"}}},
                },
            },
        },
    }


@bp.get("/openapi.json")
def openapi_json() -> ResponseReturnValue:
    return (
        document(public_url()),
        200,
        {"Access-Control-Allow-Origin": "*", "Cache-Control": "public, max-age=300"},
    )
