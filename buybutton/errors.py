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


class ProviderError(BuyButtonError):
    """The payment provider failed or refused; nothing was charged (502, or 503 when unreachable)."""

    status = 502
    type = "api_error"
    code = "payment_provider_error"


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
