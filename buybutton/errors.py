"""The one error hierarchy of buybutton.

Every error the core raises on purpose is a :class:`BuyButtonError`. It carries everything the
HTTP boundary needs to answer with ``{"error": {type, code, message, param}}`` and the right status,
so routes never assemble errors by hand. ``code`` values are stable: clients branch on them.
"""

from __future__ import annotations


class BuyButtonError(Exception):
    """Base of all buybutton errors.

    ``status`` is the HTTP status the boundary answers with, ``type`` the broad family,
    ``code`` a stable machine code, ``param`` the offending input field (or ``None``).
    """

    status = 400
    type = "invalid_request_error"
    code = "invalid_request"
    #: Seconds a client should wait before retrying (sent as ``Retry-After``), or ``None``.
    retry_after: int | None = None

    def __init__(self, message: str, *, code: str | None = None, param: str | None = None,
                 status: int | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.param = param

    def to_dict(self) -> dict:
        return {"type": self.type, "code": self.code, "message": self.message, "param": self.param}


class InvalidRequest(BuyButtonError):
    """The request is malformed or a field is invalid (400)."""


class Unprocessable(BuyButtonError):
    """The request is well formed but cannot be carried out as asked (422)."""

    status = 422


class AuthenticationFailed(BuyButtonError):
    """No valid merchant API key was presented (401)."""

    status = 401
    type = "authentication_error"
    code = "invalid_api_key"


class Forbidden(BuyButtonError):
    """The request is understood but refused: e.g. a shopper form posted from another origin,
    or without this browser's form token (403)."""

    status = 403
    code = "forbidden"


class NotFound(BuyButtonError):
    """The named resource does not exist, or is not the caller's (404)."""

    status = 404
    code = "not_found"


class Conflict(BuyButtonError):
    """The resource's current state forbids the request (409)."""

    status = 409
    code = "conflict"


class Gone(BuyButtonError):
    """The resource existed but is no longer offered (410)."""

    status = 410
    code = "gone"


class InvalidToken(BuyButtonError):
    """A product token's signature or payload is not valid (400)."""

    code = "invalid_token"


class TokenExpired(Gone):
    """A product token's expiry has passed (410)."""

    code = "token_expired"


class TokenRevoked(Gone):
    """A product token was revoked by bumping its product's token generation (410)."""

    code = "token_revoked"


class ProductUnavailable(Gone):
    """The product behind a token is inactive or deleted (410)."""

    code = "product_unavailable"


class SoldOut(Conflict):
    """Not enough stock is left for the quantity asked (409)."""

    code = "sold_out"


class RangeNotSatisfiable(BuyButtonError):
    """A download's ``Range`` header asks for bytes the file does not have (416). ``size`` is
    the file's size, for the answer's ``Content-Range: bytes */size`` header."""

    status = 416
    code = "range_not_satisfiable"

    def __init__(self, size: int, message: str | None = None):
        super().__init__(message or f"The range asked is outside the file ({size} bytes).",
                         param="Range")
        self.size = size


class ProviderError(BuyButtonError):
    """The payment provider failed or refused; nothing was charged (502, or 503 when unreachable)."""

    status = 502
    type = "api_error"
    code = "payment_provider_error"


class ServiceUnavailable(BuyButtonError):
    """A dependency we cannot do without (the database) cannot be used right now; retrying
    shortly may succeed (503, with ``Retry-After``)."""

    status = 503
    type = "api_error"
    code = "service_unavailable"
    retry_after = 5


class RateLimited(BuyButtonError):
    """Too many requests (429)."""

    status = 429
    type = "rate_limit_error"
    code = "rate_limited"


class PaymentDeclined(BuyButtonError):
    """The shopper's bank declined the payment (402); nothing was charged. ``code`` is the
    provider's decline code (``card_declined``, ``insufficient_funds``, …)."""

    status = 402
    type = "card_error"
    code = "card_declined"


# Every ``type`` and ``code`` an error answer can carry, with what it means: the OpenAPI
# document's ``ErrorType`` and ``ErrorCode`` enums and docs/api.md's table are built from, or
# checked against, these. A new code is added here (a test finds codes raised but not listed).
ERROR_TYPES = ("invalid_request_error", "authentication_error", "card_error", "rate_limit_error",
               "api_error")

ERROR_CODES = {
    # 400
    "invalid_request": "The request or one of its fields is invalid (param names it).",
    "invalid_json": "The body is not a JSON object, or not sent as application/json.",
    "invalid_amount": "amount is not an integer of minor units in range.",
    "invalid_currency": "currency is not an ISO-4217 code.",
    "invalid_token": "The product token is malformed or its signature is wrong.",
    "invalid_card": "The sandbox card number is not a test card.",
    "invalid_idempotency_key": "The Idempotency-Key header is empty, too long or not printable.",
    "invalid_signature": "A provider webhook's signature does not verify.",
    "invalid_payload": "A provider webhook's body is not an event.",
    "too_many_webhook_endpoints": "The merchant has as many webhook endpoints as allowed.",
    "url_not_allowed": "A webhook URL's host is loopback, private or link-local.",
    "quantity_over_max": "quantity is over the product's max_per_order (the message names it).",
    "untrusted_host": "The request's Host (or X-Forwarded-Host) is not one this server answers to.",
    "invalid_configuration": "The server's configuration is unusable (command line only).",
    "invalid_address": "A shipping address field is missing or invalid (param names it).",
    "country_not_allowed": "The shop does not ship to this country.",
    "empty_file": "The uploaded file is empty.",
    "invalid_image": "The upload is not an image that can be decoded.",
    "unsupported_image_format": "The image is not JPEG, PNG or WebP.",
    "image_too_many_pixels": "The image has more pixels than allowed (width × height).",
    # 401, 403
    "invalid_api_key": "No valid merchant secret key was presented.",
    "unauthorized": "Authentication is required.",
    "forbidden": "The request is not allowed.",
    "cross_origin_request": "A shopper form or checkout was sent by a page of another origin; nothing was done.",
    "csrf_token_missing": "A shopper form came without this browser's form token (reload the page).",
    "csrf_token_invalid": "A shopper form's token belongs to another browser.",
    "confirmation_missing": "A one click came without the buy page's signed confirmation.",
    "confirmation_invalid": "The one-click confirmation expired or is forged (reload the page).",
    "confirmation_mismatch": "The one click does not match the product, quantity or total shown.",
    # 402
    "card_declined": "The card was declined; nothing was charged.",
    "insufficient_funds": "The card has insufficient funds; nothing was charged.",
    "expired_card": "The card has expired; nothing was charged.",
    "payment_not_completed": "The saved card needs the shopper on the hosted payment page.",
    # 404
    "not_found": "No such resource (or URL).",
    "product_not_found": "No such product, or not yours.",
    "order_not_found": "No such order, or not yours.",
    "merchant_not_found": "No such merchant.",
    "webhook_endpoint_not_found": "No such webhook endpoint, or not yours.",
    "session_not_found": "No such sandbox checkout.",
    "file_not_found": "No such stored file.",
    "payment_not_found": "No such sandbox payment.",
    "oembed_url_not_found": "The url is not a live share link of this shop.",
    "oembed_too_small": "No card fits in maxwidth × maxheight.",
    # 405, 413, 415, 416
    "method_not_allowed": "The URL does not take this method (see the Allow header).",
    "request_too_large": "The body is over the size limit.",
    "file_too_large": "The uploaded file is over BUYBUTTON_MAX_UPLOAD_BYTES.",
    "image_too_large": "The uploaded image is over BUYBUTTON_MAX_IMAGE_BYTES.",
    "unsupported_media_type": "The body's Content-Type is not accepted.",
    "range_not_satisfiable": "The Range header asks for bytes past the end of the file.",
    # 409
    "conflict": "The resource's state forbids the request.",
    "sold_out": "Not enough stock is left for the quantity asked.",
    "order_not_refundable": "Only a paid order can be refunded.",
    "one_click_unavailable": "This shop's payment provider cannot charge saved cards.",
    "idempotency_key_reused": "The Idempotency-Key was used for another request.",
    "idempotency_key_in_use": "A request with this Idempotency-Key is still running; retry.",
    # 410
    "gone": "The resource existed but is no longer offered.",
    "token_expired": "The offer's expiry has passed.",
    "token_revoked": "The merchant withdrew the offer (its product's tokens were revoked).",
    "product_unavailable": "The product is inactive or deleted.",
    "session_expired": "The checkout expired or was closed.",
    # 429
    "rate_limited": "Too many requests; wait (Retry-After) and retry.",
    "too_many_held_units": "This client already holds as many units in unpaid orders as allowed.",
    # 5xx
    "internal_error": "The server failed; nothing was charged.",
    "http_error": "Another HTTP error.",
    "oembed_format_not_implemented": "oEmbed format other than json or xml (501).",
    "payment_provider_error": "The payment provider failed or refused; nothing was charged.",
    "payment_provider_unavailable": "The payment provider is unreachable or busy; retry shortly.",
    "payment_provider_misconfigured": "The shop's payment provider set-up is incomplete.",
    "webhook_not_configured": "The provider's webhook secret is not set.",
    "service_unavailable": "The database cannot be used right now; retry after Retry-After.",
    "database_not_migrated": "The database schema is behind this version (command line only: "
                             "run buybutton db upgrade).",
    "database_schema_unknown": "The database schema is newer than this version (command line "
                               "only: upgrade buybutton).",
    "mail_delivery_failed": "A message could not be handed to the mail server (mail only).",
}
