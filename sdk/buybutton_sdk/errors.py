"""The SDK's one error hierarchy: catch :class:`BuyButtonError`, or a subclass by type.

Every error carries what the server said (``http_status``, ``code``, ``message``, ``param``,
``type``) and the ``request_id`` of the failed request (the ``X-Request-Id`` response header),
which is what to quote when asking the server's operator what happened.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional


class BuyButtonError(Exception):
    """Base of every error the SDK raises."""

    def __init__(self, message: str, *, http_status: Optional[int] = None,
                 code: Optional[str] = None, param: Optional[str] = None,
                 type: Optional[str] = None, request_id: Optional[str] = None,
                 json_body: Optional[Mapping[str, Any]] = None,
                 headers: Optional[Mapping[str, str]] = None) -> None:
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
        return (f"{type(self).__name__}(message={self.message!r}, "
                f"http_status={self.http_status!r}, code={self.code!r}, "
                f"request_id={self.request_id!r})")


class AuthenticationError(BuyButtonError):
    """The API key is missing, malformed or not valid (401, 403)."""


class InvalidRequestError(BuyButtonError):
    """The request was refused as asked (400, 410, 422); ``param`` names the offending field."""


class NotFoundError(BuyButtonError):
    """The resource does not exist, or is not yours (404)."""


class ConflictError(BuyButtonError):
    """The resource's state forbids the request, or an idempotency key clashed (409)."""


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


class SignatureVerificationError(BuyButtonError):
    """A webhook's ``BuyButton-Signature`` header does not verify against the payload."""

    def __init__(self, message: str, sig_header: Optional[str] = None) -> None:
        super().__init__(message, code="signature_verification_failed")
        self.sig_header = sig_header


def error_for_status(http_status: int, code: Optional[str]) -> type[BuyButtonError]:
    """The error class that answers an HTTP status (and error code) with."""
    if http_status in (401, 403):
        return AuthenticationError
    if http_status == 404:
        return NotFoundError
    if http_status == 409:
        return ConflictError
    if http_status == 429:
        return RateLimitError
    if 400 <= http_status < 500:  # 400, 410, 422 and any other refusal of the request
        return InvalidRequestError
    return APIError
