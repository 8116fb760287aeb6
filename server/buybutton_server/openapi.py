"""The API's OpenAPI 3.1 document, served at ``GET /openapi.json``.

Written as data next to the routes it describes; tests check that every route is in it and
fuzz the API against it.
"""

from __future__ import annotations

from flask import Blueprint

from buybutton import __version__
from buybutton.events import ALL_EVENTS, EVENT_TYPES
from buybutton.money import MAX_AMOUNT
from buybutton.orders import MAX_QUANTITY, STATUSES

bp = Blueprint("openapi", __name__)


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str = "OK") -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*statuses: int) -> dict:
    return {str(s): {"$ref": "#/components/responses/Error"} for s in statuses}


def _body(schema: dict, required: bool = True) -> dict:
    return {"required": required, "content": {"application/json": {"schema": schema}}}


ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "string", "maxLength": 64}}
TOKEN = {"name": "token", "in": "path", "required": True, "schema": {"type": "string", "maxLength": 2048}}
PAGE = [
    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}},
    {"name": "starting_after", "in": "query", "schema": {"type": "string", "maxLength": 64},
     "description": "The last id of the previous page."},
]
AMOUNT = {"type": "integer", "minimum": 1, "maximum": MAX_AMOUNT,
          "description": "Minor units of the currency (1200 = 12.00 EUR)."}
CURRENCY = {"type": "string", "pattern": "^[a-zA-Z]{3}$", "description": "ISO-4217 code; answers are lowercase."}
PRODUCT_FIELDS = {
    "name": {"type": "string", "minLength": 1, "maxLength": 200},
    "description": {"type": "string", "maxLength": 5000},
    "image_url": {"type": ["string", "null"], "format": "uri", "maxLength": 2048},
    "amount": AMOUNT,
    "currency": CURRENCY,
    "stock": {"type": ["integer", "null"], "minimum": 0, "description": "null: unlimited"},
    "active": {"type": "boolean"},
    "allow_promotion_codes": {"type": "boolean"},
}


def _list_of(item: str) -> dict:
    return {"type": "object", "required": ["object", "data", "has_more"], "properties": {
        "object": {"const": "list"}, "url": {"type": "string"},
        "data": {"type": "array", "items": _ref(item)}, "has_more": {"type": "boolean"}}}


SCHEMAS = {
    "Error": {"type": "object", "required": ["error"], "properties": {"error": {
        "type": "object", "required": ["type", "code", "message", "param"], "properties": {
            "type": {"type": "string"}, "code": {"type": "string"}, "message": {"type": "string"},
            "param": {"type": ["string", "null"]}}}}},
    "ProductCreate": {"type": "object", "required": ["name", "amount", "currency"],
                      "properties": PRODUCT_FIELDS, "additionalProperties": False},
    "ProductUpdate": {"type": "object", "properties": PRODUCT_FIELDS, "additionalProperties": False},
    "Product": {"type": "object", "properties": {
        "object": {"const": "product"}, "id": {"type": "string"}, "merchant_id": {"type": "string"},
        **PRODUCT_FIELDS, "token_generation": {"type": "integer"},
        "created_at": {"type": "integer"}, "updated_at": {"type": "integer"}}},
    "DeletedProduct": {"type": "object", "properties": {
        "id": {"type": "string"}, "object": {"const": "product"}, "deleted": {"const": True}}},
    "TokenCreate": {"type": "object", "properties": {
        "ref": {"type": "string", "minLength": 1, "maxLength": 64},
        "expires_in": {"type": "integer", "minimum": 60},
        "expires_at": {"type": "integer"}}},
    "Token": {"type": "object", "properties": {
        "object": {"const": "token"}, "token": {"type": "string"}, "product_id": {"type": "string"},
        "amount": AMOUNT, "currency": CURRENCY, "ref": {"type": ["string", "null"]},
        "expires_at": {"type": ["integer", "null"]}, "snippet": {"type": "string"},
        "share_url": {"type": "string"}, "buy_url": {"type": "string"}, "qr_url": {"type": "string"}}},
    "Order": {"type": "object", "properties": {
        "object": {"const": "order"}, "id": {"type": "string"}, "merchant_id": {"type": "string"},
        "product_id": {"type": "string"}, "quantity": {"type": "integer"},
        "unit_amount": {"type": "integer"}, "amount": {"type": "integer"}, "currency": CURRENCY,
        "status": {"enum": list(STATUSES)}, "ref": {"type": ["string", "null"]},
        "provider": {"type": "string"}, "payment_id": {"type": ["string", "null"]},
        "amount_paid": {"type": ["integer", "null"]}, "flag": {"type": ["string", "null"]},
        "created_at": {"type": "integer"}, "updated_at": {"type": "integer"},
        "paid_at": {"type": ["integer", "null"]}, "expires_at": {"type": "integer"}}},
    "Embed": {"type": "object", "properties": {
        "object": {"const": "embed"}, "token": {"type": "string"},
        "product": {"type": "object", "properties": {
            "id": {"type": "string"}, "name": {"type": "string"}, "description": {"type": "string"},
            "image_url": {"type": ["string", "null"]}}},
        "amount": AMOUNT, "currency": CURRENCY, "price_formatted": {"type": "string"},
        "locale": {"type": "string"}, "available": {"type": "boolean"},
        "sold_out": {"type": "boolean"}, "stock": {"type": ["integer", "null"]},
        "ref": {"type": ["string", "null"]}, "buy_url": {"type": "string"}}},
    "CheckoutRequest": {"type": "object", "required": ["token"], "properties": {
        "token": {"type": "string"},
        "quantity": {"type": "integer", "minimum": 1, "maximum": MAX_QUANTITY, "default": 1},
        "ref": {"type": "string", "minLength": 1, "maxLength": 64},
        "save_card": {"type": "boolean", "default": False}}},
    "Checkout": {"type": "object", "properties": {
        "object": {"const": "checkout"}, "order_id": {"type": "string"},
        "status": {"enum": list(STATUSES)}, "checkout_url": {"type": "string"},
        "status_url": {"type": "string"}}},
    "WebhookEndpointCreate": {"type": "object", "required": ["url", "events"], "properties": {
        "url": {"type": "string", "format": "uri", "maxLength": 2048},
        "events": {"type": "array", "minItems": 1,
                   "items": {"enum": list(EVENT_TYPES) + [ALL_EVENTS]}}}},
    "WebhookEndpoint": {"type": "object", "properties": {
        "id": {"type": "string"}, "object": {"const": "webhook_endpoint"}, "url": {"type": "string"},
        "events": {"type": "array", "items": {"type": "string"}}, "enabled": {"type": "boolean"},
        "created_at": {"type": "integer"},
        "secret": {"type": "string", "description": "whsec_…, only in the create response"}}},
    "DeletedWebhookEndpoint": {"type": "object", "properties": {
        "id": {"type": "string"}, "object": {"const": "webhook_endpoint"}, "deleted": {"const": True}}},
    "Merchant": {"type": "object", "properties": {
        "object": {"const": "merchant"}, "id": {"type": "string"}, "name": {"type": "string"},
        "allowed_origins": {"type": "array", "items": {"type": "string", "format": "uri"},
                            "description": "Origins (scheme://host[:port]) of the merchant's "
                                           "own sites: buy pages link back to and tell only these"},
        "created_at": {"type": "integer"}}},
    "MerchantUpdate": {"type": "object", "additionalProperties": False, "properties": {
        "allowed_origins": {"type": "array", "maxItems": 20,
                            "items": {"type": "string", "format": "uri", "maxLength": 2048}}}},
    "Health": {"type": "object", "properties": {
        "status": {"enum": ["ok", "unavailable"]}, "database": {"type": "string"},
        "payment_provider": {"type": "string"}}},
}

MERCHANT = [{"bearerAuth": []}]

PATHS = {
    "/v1/merchant": {
        "get": {"summary": "Retrieve your merchant account and its settings", "security": MERCHANT,
                "responses": {"200": _json(_ref("Merchant")), **_errors(401)}},
        "patch": {"summary": "Change your settings (allowed_origins: the whole list)",
                  "security": MERCHANT, "requestBody": _body(_ref("MerchantUpdate")),
                  "responses": {"200": _json(_ref("Merchant")), **_errors(400, 401)}},
    },
    "/v1/products": {
        "get": {"summary": "List products", "security": MERCHANT, "parameters": PAGE + [
            {"name": "active", "in": "query", "schema": {"type": "boolean"}}],
            "responses": {"200": _json(_list_of("Product")), **_errors(400, 401)}},
        "post": {"summary": "Create a product", "security": MERCHANT,
                 "requestBody": _body(_ref("ProductCreate")),
                 "responses": {"201": _json(_ref("Product"), "Created"), **_errors(400, 401)}},
    },
    "/v1/products/{id}": {
        "parameters": [ID],
        "get": {"summary": "Retrieve a product", "security": MERCHANT,
                "responses": {"200": _json(_ref("Product")), **_errors(401, 404)}},
        "patch": {"summary": "Update a product (a new price revokes its tokens)", "security": MERCHANT,
                  "requestBody": _body(_ref("ProductUpdate")),
                  "responses": {"200": _json(_ref("Product")), **_errors(400, 401, 404)}},
        "delete": {"summary": "Withdraw a product", "security": MERCHANT,
                   "responses": {"200": _json(_ref("DeletedProduct")), **_errors(401, 404)}},
    },
    "/v1/products/{id}/tokens": {
        "parameters": [ID],
        "post": {"summary": "Mint a product token with its snippet and links", "security": MERCHANT,
                 "requestBody": _body(_ref("TokenCreate"), required=False),
                 "responses": {"201": _json(_ref("Token"), "Created"), **_errors(400, 401, 404, 410)}},
    },
    "/v1/products/{id}/revoke_tokens": {
        "parameters": [ID],
        "post": {"summary": "Revoke every token of a product", "security": MERCHANT,
                 "responses": {"200": _json(_ref("Product")), **_errors(401, 404)}},
    },
    "/v1/orders": {
        "get": {"summary": "List orders", "security": MERCHANT, "parameters": PAGE + [
            {"name": "status", "in": "query", "schema": {"enum": list(STATUSES)}},
            {"name": "ref", "in": "query", "schema": {"type": "string", "maxLength": 64}},
            {"name": "product_id", "in": "query", "schema": {"type": "string", "maxLength": 64}}],
            "responses": {"200": _json(_list_of("Order")), **_errors(400, 401)}},
    },
    "/v1/orders/{id}": {
        "parameters": [ID],
        "get": {"summary": "Retrieve an order", "security": MERCHANT,
                "responses": {"200": _json(_ref("Order")), **_errors(401, 404)}},
    },
    "/v1/orders/{id}/refund": {
        "parameters": [ID],
        "post": {"summary": "Refund a paid order in full", "security": MERCHANT,
                 "responses": {"200": _json(_ref("Order")), **_errors(401, 404, 409, 502, 503)}},
    },
    "/v1/webhook_endpoints": {
        "get": {"summary": "List webhook endpoints", "security": MERCHANT, "parameters": PAGE,
                "responses": {"200": _json(_list_of("WebhookEndpoint")), **_errors(400, 401)}},
        "post": {"summary": "Register a webhook endpoint (its signing secret is shown once)",
                 "security": MERCHANT, "requestBody": _body(_ref("WebhookEndpointCreate")),
                 "responses": {"201": _json(_ref("WebhookEndpoint"), "Created"), **_errors(400, 401)}},
    },
    "/v1/webhook_endpoints/{id}": {
        "parameters": [ID],
        "get": {"summary": "Retrieve a webhook endpoint", "security": MERCHANT,
                "responses": {"200": _json(_ref("WebhookEndpoint")), **_errors(401, 404)}},
        "delete": {"summary": "Delete a webhook endpoint (pending deliveries are dropped)",
                   "security": MERCHANT,
                   "responses": {"200": _json(_ref("DeletedWebhookEndpoint")), **_errors(401, 404)}},
    },
    "/v1/stats": {
        "get": {"summary": "The conversion funnel per ref and per product: impressions, clicks, "
                           "orders, paid orders, revenue per currency, rates (no shopper data)",
                "security": MERCHANT,
                "responses": {"200": _json({"type": "object", "properties": {
                    "totals": {"type": "object"},
                    "by_ref": {"type": "array", "items": {"type": "object"}},
                    "by_product": {"type": "array", "items": {"type": "object"}}}}),
                    **_errors(401)}},
    },
    "/v1/events": {
        "post": {"summary": "Count a widget impression or click (sendBeacon; no cookies, CORS open)",
                 "security": [],
                 "requestBody": _body({"type": "object", "required": ["type", "token"], "properties": {
                     "type": {"enum": ["impression", "click"]}, "token": {"type": "string"}}}),
                 "responses": {"204": {"description": "Counted"}, **_errors(400, 410, 413, 429)}},
    },
    "/v1/embed/{token}": {
        "parameters": [TOKEN, {"name": "locale", "in": "query", "schema": {"type": "string", "maxLength": 35}}],
        "get": {"summary": "The product card a widget shows (CORS open)", "security": [],
                "responses": {"200": _json(_ref("Embed")), **_errors(400, 404, 410, 429)}},
    },
    "/v1/checkout": {
        "post": {"summary": "Create an order and open its payment session", "security": [],
                 "description": "Refused (403) when sent by a browser page of another origin; "
                                "with the saved-card cookie or save_card, it also needs the buy "
                                "page's X-CSRF-Token.",
                 "parameters": [{"name": "Idempotency-Key", "in": "header",
                                 "schema": {"type": "string", "minLength": 8, "maxLength": 255}},
                                {"name": "X-CSRF-Token", "in": "header",
                                 "schema": {"type": "string"}}],
                 "requestBody": _body(_ref("CheckoutRequest")),
                 "responses": {"201": _json(_ref("Checkout"), "Created"),
                               **_errors(400, 403, 404, 409, 410, 429, 502, 503)}},
    },
    "/oembed": {
        "get": {"summary": "oEmbed 1.0 provider for share links (rich type, an iframe card)",
                "security": [], "parameters": [
                    {"name": "url", "in": "query", "required": True,
                     "schema": {"type": "string", "maxLength": 4096}},
                    {"name": "format", "in": "query", "schema": {"enum": ["json", "xml"]}},
                    {"name": "maxwidth", "in": "query", "schema": {"type": "integer", "minimum": 1}},
                    {"name": "maxheight", "in": "query", "schema": {"type": "integer", "minimum": 1}}],
                "responses": {"200": _json({"type": "object", "required": ["type", "version"],
                                            "properties": {"type": {"const": "rich"},
                                                           "version": {"const": "1.0"},
                                                           "html": {"type": "string"},
                                                           "width": {"type": "integer"},
                                                           "height": {"type": "integer"}}}),
                              **_errors(400, 404, 501)}},
    },
    **{f"/v1/feeds/{{id}}.{kind}": {
        "parameters": [ID],
        "get": {"summary": f"The merchant's active products as a {label} catalog feed "
                           "(Meta and Google Merchant Center columns)", "security": [],
                "responses": {"200": {"description": "The feed",
                                      "content": {media: {"schema": {"type": "string"}}}},
                              **_errors(404)}},
    } for kind, label, media in (("csv", "CSV", "text/csv"), ("xml", "RSS 2.0", "application/xml"))},
    "/healthz": {
        "get": {"summary": "Liveness and readiness", "security": [],
                "responses": {"200": _json(_ref("Health")), "503": _json(_ref("Health"), "Unavailable")}},
    },
    "/openapi.json": {
        "get": {"summary": "This document", "security": [],
                "responses": {"200": {"description": "OpenAPI 3.1", "content": {"application/json": {}}}}},
    },
}


def document() -> dict:
    """The OpenAPI 3.1 document of the JSON API."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "buybutton API", "version": __version__,
                 "description": "Self-hosted one-click Buy Now buttons. Money is integer minor units."},
        "paths": PATHS,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer",
                                               "description": "A merchant secret key, bb_sk_…"}},
            "responses": {"Error": _json(_ref("Error"), "Error")},
        },
    }


@bp.get("/openapi.json")
def openapi_json():
    return document(), 200, {"Access-Control-Allow-Origin": "*", "Cache-Control": "public, max-age=300"}
