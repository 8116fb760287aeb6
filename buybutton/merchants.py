"""Merchants and their secret API keys.

A key (``bb_sk_`` + 40 random characters) is shown once, at creation, and stored only as its
SHA-256 hash: keys are long random strings, so a fast hash is enough and lookups stay O(1).
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass

from sqlalchemy import Connection, insert, select

from .errors import AuthenticationFailed, InvalidRequest
from .ids import new_id
from .store.schema import merchants

API_KEY_PREFIX = "bb_sk_"


@dataclass(frozen=True, slots=True)
class Merchant:
    id: str
    name: str
    api_key_last4: str
    created_at: int


def hash_api_key(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


def _merchant(row) -> Merchant:
    return Merchant(id=row.id, name=row.name, api_key_last4=row.api_key_last4,
                    created_at=row.created_at)


def create_merchant(conn: Connection, name: str, *, now: float | None = None) -> tuple[Merchant, str]:
    """Create a merchant; return it with its secret API key, which is never retrievable again."""
    name = (name or "").strip() if isinstance(name, str) else ""
    if not name or len(name) > 200:
        raise InvalidRequest("A merchant name of 1 to 200 characters is required.", param="name")
    api_key = API_KEY_PREFIX + secrets.token_urlsafe(30)
    row = {"id": new_id("mch"), "name": name, "api_key_hash": hash_api_key(api_key),
           "api_key_last4": api_key[-4:], "created_at": int(now if now is not None else time.time())}
    conn.execute(insert(merchants).values(**row))
    return Merchant(id=row["id"], name=name, api_key_last4=row["api_key_last4"],
                    created_at=row["created_at"]), api_key


def authenticate(conn: Connection, api_key: str | None) -> Merchant:
    """The merchant whose secret key is ``api_key``; :class:`AuthenticationFailed` otherwise."""
    if not api_key or not api_key.startswith(API_KEY_PREFIX):
        raise AuthenticationFailed(
            "Send your secret key as 'Authorization: Bearer bb_sk_…'.")
    row = conn.execute(select(merchants).where(
        merchants.c.api_key_hash == hash_api_key(api_key))).first()
    if row is None:
        raise AuthenticationFailed("The API key is not valid.")
    return _merchant(row)


def get_merchant(conn: Connection, merchant_id: str) -> Merchant | None:
    row = conn.execute(select(merchants).where(merchants.c.id == merchant_id)).first()
    return _merchant(row) if row else None
