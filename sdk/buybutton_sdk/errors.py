"""The SDK's one error hierarchy: catch :class:`BuyButtonError`, or a subclass by type.

The class is chosen by what the server said, as stripe-python does: the error body's ``code``
first (``sold_out`` → :class:`SoldOutError`, ``token_expired`` → :class:`TokenExpiredError`…),
then its ``type`` (``card_error`` → :class:`CardError`, ``rate_limit_error`` →
:class:`RateLimitError`…), then the HTTP status. Each specific class subclasses the one its
status chose before, so ``except InvalidRequestError`` still catches an expired token (410) and
``except ConflictError`` a sold-out product (409).

Every error carries what the server said (``http_status``, ``code``, ``message``, ``param``,
``type``) and the ``request_id`` of the failed request (the ``X-Request-Id`` response header),
which is what to quote when asking the server's operator what happened.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class BuyButtonError(Exception):
    """Base of every error the SDK raises."""

    def __init__(
        self,
        message: str,
        *,
        http_status: int | None = None,
        code: str | None = None,
        param: str | None = None,
        type: str | None = None,
        request_id: str | None = None,
        json_body: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.http_status = http_status
        self.code = code
        self.param = param
        self.type = type
        self.request_id = request_id
        self.json_body = dict(json_body) if json_body is not None else None
        self.headers = dict(headers) if headers is not None else {}

    def __str__(self) -> str:
        parts = [self.message]
        if self.code:
            parts.append(f"code={self.code}")
        if self.param:
            parts.append(f"param={self.param}")
        if self.http_status is not None:
            parts.append(f"status={self.http_status}")
        if self.request_id:
            parts.append(f"request_id={self.request_id}")
        return parts[0] + (f" ({', '.join(parts[1:])})" if len(parts) > 1 else "")

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(message={self.message!r}, "
            f"http_status={self.http_status!r}, code={self.code!r}, "
            f"request_id={self.request_id!r})"
        )


class AuthenticationError(BuyButtonError):
    """The API key is missing, malformed or not valid (401, 403)."""


class InvalidRequestError(BuyButtonError):
    """The request was refused as asked (400, 410, 422); ``param`` names the offending field."""


class NotFoundError(BuyButtonError):
    """The resource does not exist, or is not yours (404)."""


class ConflictError(BuyButtonError):
    """The resource's state forbids the request, or an idempotency key clashed (409)."""


class InvalidTokenError(InvalidRequestError):
    """The product token is malformed or its signature is wrong (400 ``invalid_token``)."""


class GoneError(InvalidRequestError):
    """The thing asked for existed but is no longer offered (410)."""


class TokenExpiredError(GoneError):
    """The offer's expiry has passed (410 ``token_expired``): mint a new token."""


class TokenRevokedError(GoneError):
    """The merchant withdrew the offer, e.g. by changing its price (410 ``token_revoked``)."""


class ProductUnavailableError(GoneError):
    """The product is inactive or deleted (410 ``product_unavailable``)."""


class CardError(InvalidRequestError):
    """The card was declined (402, type ``card_error``); ``code`` is the decline code
    (``card_declined``, ``insufficient_funds``, …). Nothing was charged."""


class SoldOutError(ConflictError):
    """Not enough stock is left for the quantity asked (409 ``sold_out``)."""


class IdempotencyError(ConflictError):
    """The ``Idempotency-Key`` was used for another request (409 ``idempotency_key_reused``), or
    its first request is still running (409 ``idempotency_key_in_use``, which is retried)."""


class RateLimitError(BuyButtonError):
    """Too many requests (429), still so after the retries."""


class APIConnectionError(BuyButtonError):
    """The server could not be reached, or did not answer in time, after the retries.

    The request may or may not have been carried out; retrying with the same idempotency key
    is safe.
    """

    def __init__(self, message: str, *, should_retry: bool = True, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.should_retry = should_retry


class APIError(BuyButtonError):
    """The server failed (5xx) or answered something that is not the API's JSON."""


class PaymentProviderError(APIError):
    """The shop's payment provider failed or refused (502, 503); nothing was charged."""


class SignatureVerificationError(BuyButtonError):
    """A webhook's ``BuyButton-Signature`` header does not verify against the payload."""

    def __init__(self, message: str, sig_header: str | None = None) -> None:
        super().__init__(message, code="signature_verification_failed")
        self.sig_header = sig_header


# The server's stable codes (docs/api.md) that have a class of their own.
ERRORS_BY_CODE: Mapping[str, type[BuyButtonError]] = {
    "invalid_token": InvalidTokenError,
    "token_expired": TokenExpiredError,
    "token_revoked": TokenRevokedError,
    "product_unavailable": ProductUnavailableError,
    "sold_out": SoldOutError,
    "idempotency_key_reused": IdempotencyError,
    "idempotency_key_in_use": IdempotencyError,
    "rate_limited": RateLimitError,
    "invalid_api_key": AuthenticationError,
    "payment_provider_error": PaymentProviderError,
    "payment_provider_unavailable": PaymentProviderError,
    "payment_provider_misconfigured": PaymentProviderError,
}

# The server's error types that name a class whatever the code.
ERRORS_BY_TYPE: Mapping[str, type[BuyButtonError]] = {
    "card_error": CardError,
    "rate_limit_error": RateLimitError,
    "authentication_error": AuthenticationError,
}


def error_for_status(http_status: int, code: str | None = None) -> type[BuyButtonError]:
    """The error class an HTTP status alone answers with (``code`` is ignored: see
    :func:`error_class`)."""
    if http_status in (401, 403):
        return AuthenticationError
    if http_status == 402:
        return CardError
    if http_status == 404:
        return NotFoundError
    if http_status == 409:
        return ConflictError
    if http_status == 410:
        return GoneError
    if http_status == 429:
        return RateLimitError
    if 400 <= http_status < 500:  # 400, 422 and any other refusal of the request
        return InvalidRequestError
    return APIError


def error_class(
    http_status: int, type: str | None = None, code: str | None = None
) -> type[BuyButtonError]:
    """The error class for an error answer: by the body's ``code``, else its ``type``, else the
    status. A code or type whose class does not fit the status (a proxy's odd answer) yields to
    the status, so ``except NotFoundError`` always catches a 404."""
    by_status = error_for_status(http_status)
    for cls in (ERRORS_BY_CODE.get(code or ""), ERRORS_BY_TYPE.get(type or "")):
        if cls is not None and issubclass(cls, by_status):
            return cls
    return by_status
