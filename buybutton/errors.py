"""The one error catalogue of buybutton: every error class, type and code.

Every error the core raises on purpose is a :class:`BuyButtonError`. It carries everything the
HTTP boundary needs to answer with ``{"error": {type, code, message, param}}`` and the right status,
so routes never assemble errors by hand. ``code`` values are stable: clients branch on them.
They are the members of :class:`ErrorCode` (a ``str``: ``ErrorCode.SOLD_OUT == "sold_out"``), each
with what it means; :data:`ERROR_CODES` and :data:`ERROR_TYPES`, from which the OpenAPI document's
enums and docs/api.md's table are built or checked, are derived from the two enums. A new code is
added to :class:`ErrorCode` (a test finds codes raised but not listed). The one exception raised
elsewhere is a provider's own decline code, passed through :class:`PaymentDeclined`.

This module imports nothing of buybutton: every other module may import it.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorType(StrEnum):
    """The broad family of an error answer (``error.type``)."""

    INVALID_REQUEST_ERROR = "invalid_request_error"
    AUTHENTICATION_ERROR = "authentication_error"
    CARD_ERROR = "card_error"
    RATE_LIMIT_ERROR = "rate_limit_error"
    API_ERROR = "api_error"


class ErrorCode(StrEnum):
    """Every ``error.code`` an answer can carry; ``.description`` says what it means."""

    description: str

    def __new__(cls, value: str, description: str) -> ErrorCode:
        member = str.__new__(cls, value)
        member._value_ = value
        member.description = description
        return member

    # 400
    INVALID_REQUEST = (
        "invalid_request",
        "The request or one of its fields is invalid (param names it).",
    )
    INVALID_JSON = "invalid_json", "The body is not a JSON object, or not sent as application/json."
    INVALID_AMOUNT = "invalid_amount", "amount is not an integer of minor units in range."
    INVALID_CURRENCY = "invalid_currency", "currency is not an ISO-4217 code."
    INVALID_TOKEN = "invalid_token", "The product token is malformed or its signature is wrong."
    INVALID_CARD = "invalid_card", "The sandbox card number is not a test card."
    INVALID_IDEMPOTENCY_KEY = (
        "invalid_idempotency_key",
        "The Idempotency-Key header is empty, over 255 characters or not printable ASCII.",
    )
    INVALID_SIGNATURE = "invalid_signature", "A provider webhook's signature does not verify."
    INVALID_PAYLOAD = "invalid_payload", "A provider webhook's body is not an event."
    TOO_MANY_WEBHOOK_ENDPOINTS = (
        "too_many_webhook_endpoints",
        "The merchant has as many webhook endpoints as allowed.",
    )
    URL_NOT_ALLOWED = "url_not_allowed", "A webhook URL's host is loopback, private or link-local."
    QUANTITY_OVER_MAX = (
        "quantity_over_max",
        "quantity is over the product's max_per_order (the message names it).",
    )
    UNTRUSTED_HOST = (
        "untrusted_host",
        "The request's Host (or X-Forwarded-Host) is not one this server answers to.",
    )
    INVALID_CONFIGURATION = (
        "invalid_configuration",
        "The server's configuration is unusable (command line only).",
    )
    INVALID_ADDRESS = (
        "invalid_address",
        "A shipping address field is missing or invalid (param names it).",
    )
    COUNTRY_NOT_ALLOWED = "country_not_allowed", "The shop does not ship to this country."
    INVALID_EMAIL = "invalid_email", "An email address is missing or malformed (param names it)."
    INVALID_SHIPPING_RATE = (
        "invalid_shipping_rate",
        "shipping_rate is not one of the product's shipping rates.",
    )
    EMPTY_FILE = "empty_file", "The uploaded file is empty."
    INVALID_IMAGE = "invalid_image", "The upload is not an image that can be decoded."
    UNSUPPORTED_IMAGE_FORMAT = "unsupported_image_format", "The image is not JPEG, PNG or WebP."
    IMAGE_TOO_MANY_PIXELS = (
        "image_too_many_pixels",
        "The image has more pixels than allowed (width × height).",
    )
    # 401, 403
    INVALID_API_KEY = "invalid_api_key", "No valid merchant secret key was presented."
    UNAUTHORIZED = "unauthorized", "Authentication is required."
    FORBIDDEN = "forbidden", "The request is not allowed."
    CROSS_ORIGIN_REQUEST = (
        "cross_origin_request",
        "A shopper form or checkout was sent by a page of another origin; nothing was done.",
    )
    CSRF_TOKEN_MISSING = (
        "csrf_token_missing",
        "A shopper form came without this browser's form token (reload the page).",
    )
    CSRF_TOKEN_INVALID = "csrf_token_invalid", "A shopper form's token belongs to another browser."
    CONFIRMATION_MISSING = (
        "confirmation_missing",
        "A one click came without the buy page's signed confirmation.",
    )
    CONFIRMATION_INVALID = (
        "confirmation_invalid",
        "The one-click confirmation expired or is forged (reload the page).",
    )
    CONFIRMATION_MISMATCH = (
        "confirmation_mismatch",
        "The one click does not match the product, quantity or total shown.",
    )
    DOWNLOAD_NOT_PAID = (
        "download_not_paid",
        "The order of this download is not paid (yet): nothing to download.",
    )
    # 402
    CARD_DECLINED = "card_declined", "The card was declined; nothing was charged."
    INSUFFICIENT_FUNDS = (
        "insufficient_funds",
        "The card has insufficient funds; nothing was charged.",
    )
    EXPIRED_CARD = "expired_card", "The card has expired; nothing was charged."
    PAYMENT_NOT_COMPLETED = (
        "payment_not_completed",
        "The saved card needs the shopper on the hosted payment page.",
    )
    # 404
    NOT_FOUND = "not_found", "No such resource (or URL)."
    PRODUCT_NOT_FOUND = "product_not_found", "No such product, or not yours."
    ORDER_NOT_FOUND = "order_not_found", "No such order, or not yours."
    MERCHANT_NOT_FOUND = "merchant_not_found", "No such merchant."
    WEBHOOK_ENDPOINT_NOT_FOUND = (
        "webhook_endpoint_not_found",
        "No such webhook endpoint, or not yours.",
    )
    SESSION_NOT_FOUND = "session_not_found", "No such sandbox checkout."
    PAYMENT_NOT_FOUND = "payment_not_found", "No such sandbox payment."
    FILE_NOT_FOUND = "file_not_found", "No such stored file."
    DOWNLOAD_NOT_FOUND = "download_not_found", "The download link is not one of this shop's."
    LICENSE_NOT_FOUND = "license_not_found", "No such licence key, or not yours."
    OEMBED_URL_NOT_FOUND = "oembed_url_not_found", "The url is not a live share link of this shop."
    OEMBED_TOO_SMALL = "oembed_too_small", "No card fits in maxwidth × maxheight."
    # 405, 413, 415, 416
    METHOD_NOT_ALLOWED = (
        "method_not_allowed",
        "The URL does not take this method (see the Allow header).",
    )
    REQUEST_TOO_LARGE = "request_too_large", "The body is over the size limit."
    FILE_TOO_LARGE = "file_too_large", "The uploaded file is over BUYBUTTON_MAX_UPLOAD_BYTES."
    IMAGE_TOO_LARGE = "image_too_large", "The uploaded image is over BUYBUTTON_MAX_IMAGE_BYTES."
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type", "The body's Content-Type is not accepted."
    RANGE_NOT_SATISFIABLE = (
        "range_not_satisfiable",
        "The Range header asks for bytes past the end of the file.",
    )
    # 409
    CONFLICT = "conflict", "The resource's state forbids the request."
    SOLD_OUT = "sold_out", "Not enough stock is left for the quantity asked."
    ORDER_NOT_REFUNDABLE = "order_not_refundable", "Only a paid order can be refunded."
    ORDER_NOT_PAID = "order_not_paid", "Only a paid order has a receipt to send."
    NO_BUYER_EMAIL = "no_buyer_email", "The order has no buyer email address to write to."
    ORDER_NOT_FULFILLABLE = (
        "order_not_fulfillable",
        "Only a paid, unrefunded order can be shipped or delivered.",
    )
    ONE_CLICK_UNAVAILABLE = (
        "one_click_unavailable",
        "This shop's payment provider cannot charge saved cards.",
    )
    IDEMPOTENCY_KEY_REUSED = (
        "idempotency_key_reused",
        "The Idempotency-Key was used for another request.",
    )
    IDEMPOTENCY_KEY_IN_USE = (
        "idempotency_key_in_use",
        "A request with this Idempotency-Key is still running; retry.",
    )
    # 410
    GONE = "gone", "The resource existed but is no longer offered."
    TOKEN_EXPIRED = "token_expired", "The offer's expiry has passed."
    TOKEN_REVOKED = (
        "token_revoked",
        "The merchant withdrew the offer (its product's tokens were revoked).",
    )
    PRODUCT_UNAVAILABLE = "product_unavailable", "The product is inactive or deleted."
    SESSION_EXPIRED = "session_expired", "The checkout expired or was closed."
    DOWNLOAD_EXPIRED = "download_expired", "The download link's time is up."
    DOWNLOAD_LIMIT_REACHED = (
        "download_limit_reached",
        "The download link was used as many times as it allows.",
    )
    DOWNLOAD_REFUNDED = "download_refunded", "The order was refunded: its download is withdrawn."
    # 429
    RATE_LIMITED = "rate_limited", "Too many requests; wait (Retry-After) and retry."
    TOO_MANY_HELD_UNITS = (
        "too_many_held_units",
        "This client already holds as many units in unpaid orders as allowed.",
    )
    # 5xx
    INTERNAL_ERROR = "internal_error", "The server failed; nothing was charged."
    HTTP_ERROR = "http_error", "Another HTTP error."
    OEMBED_FORMAT_NOT_IMPLEMENTED = (
        "oembed_format_not_implemented",
        "oEmbed format other than json or xml (501).",
    )
    PAYMENT_PROVIDER_ERROR = (
        "payment_provider_error",
        "The payment provider failed or refused; nothing was charged.",
    )
    PAYMENT_PROVIDER_UNAVAILABLE = (
        "payment_provider_unavailable",
        "The payment provider is unreachable or busy; retry shortly.",
    )
    PAYMENT_PROVIDER_MISCONFIGURED = (
        "payment_provider_misconfigured",
        "The shop's payment provider set-up is incomplete.",
    )
    WEBHOOK_NOT_CONFIGURED = "webhook_not_configured", "The provider's webhook secret is not set."
    SERVICE_UNAVAILABLE = (
        "service_unavailable",
        "The database cannot be used right now; retry after Retry-After.",
    )
    DATABASE_NOT_MIGRATED = (
        "database_not_migrated",
        "The database schema is behind this version (command line only: run buybutton db upgrade).",
    )
    MAIL_DELIVERY_FAILED = (
        "mail_delivery_failed",
        "A message could not be handed to the mail server (mail only).",
    )
    DATABASE_SCHEMA_UNKNOWN = (
        "database_schema_unknown",
        "The database schema is newer than this version (command line only: upgrade buybutton).",
    )


#: ``{code: what it means}`` for every code, in the catalogue's order.
ERROR_CODES: dict[str, str] = {code.value: code.description for code in ErrorCode}
ERROR_TYPES: tuple[str, ...] = tuple(kind.value for kind in ErrorType)


class BuyButtonError(Exception):
    """Base of all buybutton errors.

    ``status`` is the HTTP status the boundary answers with, ``type`` the broad family,
    ``code`` a stable machine code, ``param`` the offending input field (or ``None``).
    """

    status: int = 400
    type: ErrorType = ErrorType.INVALID_REQUEST_ERROR
    #: A catalogue code (:class:`ErrorCode`); a provider's decline code for ``PaymentDeclined``.
    code: str = ErrorCode.INVALID_REQUEST
    #: Seconds a client should wait before retrying (sent as ``Retry-After``), or ``None``.
    retry_after: int | None = None

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        status: int | None = None,
        retry_after: int | None = None,
    ):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        if retry_after is not None:
            self.retry_after = retry_after
        self.param = param

    def to_dict(self) -> dict[str, str | None]:

        return {"type": self.type, "code": self.code, "message": self.message, "param": self.param}


class InvalidRequest(BuyButtonError):
    """The request is malformed or a field is invalid (400)."""


class AddressNotAllowed(InvalidRequest):
    """A webhook URL's host is (or resolves to) a loopback, private or link-local address (400)."""

    code = ErrorCode.URL_NOT_ALLOWED


class ConfigError(BuyButtonError):
    """The configuration is unusable (a bad URL, an unreadable key file, …); the command line
    prints it in one line."""

    code = ErrorCode.INVALID_CONFIGURATION


class AuthenticationFailed(BuyButtonError):
    """No valid merchant API key was presented (401)."""

    status = 401
    type = ErrorType.AUTHENTICATION_ERROR
    code = ErrorCode.INVALID_API_KEY


class Forbidden(BuyButtonError):
    """The request is understood but refused: e.g. a shopper form posted from another origin,
    or without this browser's form token (403)."""

    status = 403
    code = ErrorCode.FORBIDDEN


class NotFound(BuyButtonError):
    """The named resource does not exist, or is not the caller's (404)."""

    status = 404
    code = ErrorCode.NOT_FOUND


class Conflict(BuyButtonError):
    """The resource's current state forbids the request (409)."""

    status = 409
    code = ErrorCode.CONFLICT


class Gone(BuyButtonError):
    """The resource existed but is no longer offered (410)."""

    status = 410
    code = ErrorCode.GONE


class InvalidToken(BuyButtonError):
    """A product token's signature or payload is not valid (400)."""

    code = ErrorCode.INVALID_TOKEN


class TokenExpired(Gone):
    """A product token's expiry has passed (410)."""

    code = ErrorCode.TOKEN_EXPIRED


class TokenRevoked(Gone):
    """A product token was revoked by bumping its product's token generation (410)."""

    code = ErrorCode.TOKEN_REVOKED


class ProductUnavailable(Gone):
    """The product behind a token is inactive or deleted (410)."""

    code = ErrorCode.PRODUCT_UNAVAILABLE


class SoldOut(Conflict):
    """Not enough stock is left for the quantity asked (409)."""

    code = ErrorCode.SOLD_OUT


class RangeNotSatisfiable(BuyButtonError):
    """A download's ``Range`` header asks for bytes the file does not have (416). ``size`` is
    the file's size, for the answer's ``Content-Range: bytes */size`` header."""

    status = 416
    code = ErrorCode.RANGE_NOT_SATISFIABLE

    def __init__(self, size: int, message: str | None = None):
        super().__init__(
            message or f"The range asked is outside the file ({size} bytes).", param="Range"
        )
        self.size = size


class MailDeliveryError(BuyButtonError):
    """A message could not be handed to the mail server.

    ``retryable`` is true when trying again later may succeed (a 4xx reply, a refused or timed
    out connection), false when it will not without a change (a 5xx reply, credentials refused,
    a certificate that does not verify, credentials that would travel unencrypted).
    ``smtp_code`` is the server's reply code when there was one.
    """

    status = 502
    type = ErrorType.API_ERROR
    code = ErrorCode.MAIL_DELIVERY_FAILED

    def __init__(self, message: str, *, retryable: bool, smtp_code: int | None = None):
        super().__init__(message)
        self.retryable = retryable
        self.smtp_code = smtp_code


class ProviderError(BuyButtonError):
    """The payment provider failed or refused; nothing was charged (502, or 503 when unreachable)."""

    status = 502
    type = ErrorType.API_ERROR
    code = ErrorCode.PAYMENT_PROVIDER_ERROR


class ProviderUnavailable(ProviderError):
    """The payment provider could not be reached, or asked us to slow down (503): try again
    shortly."""

    status = 503
    code = ErrorCode.PAYMENT_PROVIDER_UNAVAILABLE


class ServiceUnavailable(BuyButtonError):
    """A dependency we cannot do without (the database) cannot be used right now; retrying
    shortly may succeed (503, with ``Retry-After``)."""

    status = 503
    type = ErrorType.API_ERROR
    code = ErrorCode.SERVICE_UNAVAILABLE
    retry_after = 5


class RateLimited(BuyButtonError):
    """Too many requests (429): the one definition of the 429 answer, whether a request-rate
    limit (``rate_limited``, with ``Retry-After`` when the limiter knows it) or a hoarding cap
    (``too_many_held_units``)."""

    status = 429
    type = ErrorType.RATE_LIMIT_ERROR
    code = ErrorCode.RATE_LIMITED


class PaymentDeclined(BuyButtonError):
    """The shopper's bank declined the payment (402); nothing was charged. ``code`` is the
    provider's decline code (``card_declined``, ``insufficient_funds``, …)."""

    status = 402
    type = ErrorType.CARD_ERROR
    code = ErrorCode.CARD_DECLINED


class DeliveryTimeout(TimeoutError):
    """A merchant webhook's receiver did not send its whole answer within the delivery's total
    deadline. Not an API error: the delivery worker records it as the attempt's error and
    retries (a ``TimeoutError``, so an ``OSError`` like every other failed send)."""
