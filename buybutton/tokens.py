"""Product tokens: the signed, URL-safe offer a button or a share link carries.

A token names the merchant, the product, the price and currency offered, the product's token
generation, an optional expiry and an optional ``ref`` (campaign tag). It is signed with
itsdangerous (salt ``buybutton.product-token``), so nobody can change the price, and it is not
secret: the widget reads the price from it to render before any request.

Keys rotate: the signer holds a list, signs with the newest (last) and verifies with all.
Revocation is the product's generation: bumping it makes every older token ``token_revoked``
(checked by :func:`buybutton.catalog.resolve_token`, which needs the database).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from itsdangerous import BadData, URLSafeSerializer

from .errors import InvalidToken, TokenExpired

PRODUCT_TOKEN_SALT = "buybutton.product-token"
ORDER_REF_SALT = "buybutton.order-ref"
DOWNLOAD_SALT = "buybutton.download"
MAX_REF_LENGTH = 64


@dataclass(frozen=True, slots=True)
class TokenClaims:
    """What a verified product token says."""

    merchant_id: str
    product_id: str
    amount: int
    currency: str
    generation: int
    expires_at: int | None = None
    ref: str | None = None

    def to_payload(self) -> dict[str, str | int]:
        payload: dict[str, str | int] = {
            "m": self.merchant_id,
            "p": self.product_id,
            "a": self.amount,
            "c": self.currency,
            "g": self.generation,
        }
        if self.expires_at is not None:
            payload["e"] = self.expires_at
        if self.ref:
            payload["r"] = self.ref
        return payload

    @classmethod
    def from_payload(cls, payload: object) -> TokenClaims:
        if not isinstance(payload, dict):
            raise InvalidToken("The product token's payload is not an object.", param="token")
        try:
            claims = cls(
                merchant_id=payload["m"],
                product_id=payload["p"],
                amount=payload["a"],
                currency=payload["c"],
                generation=payload["g"],
                expires_at=payload.get("e"),
                ref=payload.get("r"),
            )
        except KeyError as missing:
            raise InvalidToken(f"The product token lacks {missing}.", param="token") from None
        types_ok = (
            isinstance(claims.merchant_id, str)
            and isinstance(claims.product_id, str)
            and type(claims.amount) is int
            and isinstance(claims.currency, str)
            and type(claims.generation) is int
            and (claims.expires_at is None or type(claims.expires_at) is int)
            and (claims.ref is None or isinstance(claims.ref, str))
        )
        if not types_ok:
            raise InvalidToken("The product token's payload is malformed.", param="token")
        return claims


class TokenSigner:
    """Signs and verifies product tokens and order references with a rotating list of keys.

    ``keys`` are the secret keys, newest last; ``clock`` returns the current Unix time.
    """

    def __init__(self, keys: Sequence[str], clock: Callable[[], float] = time.time):
        if not keys:
            raise ValueError("TokenSigner needs at least one secret key")
        self._clock = clock
        # itsdangerous signs with the last key of the list and verifies with every key.
        self._products = URLSafeSerializer(list(keys), salt=PRODUCT_TOKEN_SALT)
        self._orders = URLSafeSerializer(list(keys), salt=ORDER_REF_SALT)
        self._downloads = URLSafeSerializer(list(keys), salt=DOWNLOAD_SALT)

    def issue_token(self, claims: TokenClaims) -> str:
        """Sign ``claims`` into a URL-safe token string."""
        return self._products.dumps(claims.to_payload())

    def verify_token(self, token: object) -> TokenClaims:
        """Return the claims of a genuine, unexpired ``token``.

        Raises :class:`InvalidToken` for anything not signed by one of our keys (or malformed),
        :class:`TokenExpired` once its expiry has passed. Revocation and the product's
        existence need the database: see :func:`buybutton.catalog.resolve_token`.
        """
        if not isinstance(token, str) or not token or len(token) > 2048:
            raise InvalidToken("A product token is required.", param="token")
        try:
            payload = self._products.loads(token)
        except BadData:
            raise InvalidToken(
                "The product token is not valid (bad signature).", param="token"
            ) from None
        claims = TokenClaims.from_payload(payload)
        if claims.expires_at is not None and self._clock() >= claims.expires_at:
            raise TokenExpired("This offer has expired.", param="token")
        return claims

    def sign_order_ref(self, order_id: str) -> str:
        """An unguessable reference for the shopper's order status page."""
        return self._orders.dumps(order_id)

    def verify_order_ref(self, ref: str) -> str | None:
        """The order id behind ``ref``, or ``None`` when it is not one of ours."""
        try:
            order_id = self._orders.loads(ref)
        except BadData:
            return None
        return order_id if isinstance(order_id, str) else None

    def sign_download(self, order_id: str) -> str:
        """The token of a paid order's download link. Its own salt: an order reference (the
        order page's link) is not a download link, nor the other way round. The link's expiry
        and count live with the order (:mod:`buybutton.digital`), so they hold whatever key
        signed it."""
        return self._downloads.dumps(order_id)

    def verify_download(self, token: str) -> str | None:
        """The order id behind a download ``token``, or ``None`` when it is not one of ours."""
        if not isinstance(token, str) or len(token) > 512:
            return None
        try:
            order_id = self._downloads.loads(token)
        except BadData:
            return None
        return order_id if isinstance(order_id, str) else None
