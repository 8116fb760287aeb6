"""Merchants, their secret API keys and their own web origins.

A key (``bb_sk_`` + 40 random characters) is shown once, at creation, and stored only as its
SHA-256 hash: keys are long random strings, so a fast hash is enough and lookups stay O(1).

``allowed_origins`` lists the merchant's own sites (``https://shop.example``): a buy page links
back (``?return=``) and tells the opener page (``?origin=``, the widget's postMessage target)
only for those, so nobody can make the shop's pages say "Back to evil.invalid".
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Connection, Row, insert, select, update

from .buyers import validate_email
from .errors import AuthenticationFailed, InvalidRequest, NotFound
from .ids import new_id
from .store.schema import merchants

API_KEY_PREFIX = "bb_sk_"


#: The longest return policy text, and the longest return window in days.
MAX_RETURN_POLICY_LENGTH = 2000
MAX_RETURN_DAYS = 365


@dataclass(frozen=True, slots=True)
class ReturnPolicy:
    """What the shop tells buyers about returns: ``days`` to send an item back (0: no returns)
    and the policy in the merchant's words."""

    text: str
    days: int


@dataclass(frozen=True, slots=True)
class Merchant:
    id: str
    name: str
    api_key_last4: str
    created_at: int
    allowed_origins: tuple[str, ...] = ()
    #: Where "new order" notifications go (``None``: nowhere).
    email: str | None = None
    #: The address shown to buyers for help (receipts, the order page).
    support_email: str | None = None
    return_policy: ReturnPolicy | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "merchant",
            "name": self.name,
            "allowed_origins": list(self.allowed_origins),
            "email": self.email,
            "support_email": self.support_email,
            "return_policy": (
                {"text": self.return_policy.text, "days": self.return_policy.days}
                if self.return_policy
                else None
            ),
            "created_at": self.created_at,
        }


def hash_api_key(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


MAX_ALLOWED_ORIGINS = 20


def _merchant(row: Row[Any]) -> Merchant:
    return Merchant(
        id=row.id,
        name=row.name,
        api_key_last4=row.api_key_last4,
        created_at=row.created_at,
        allowed_origins=tuple(json.loads(row.allowed_origins or "[]")),
        email=row.email,
        support_email=row.support_email,
        return_policy=(
            ReturnPolicy(text=row.return_policy_text or "", days=row.return_policy_days)
            if row.return_policy_days is not None
            else None
        ),
    )


def validate_return_policy(value: object) -> ReturnPolicy | None:
    """``null`` (no policy stated) or ``{"text": "...", "days": 30}``; ``days`` 0 means that
    items cannot be returned."""
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) - {"text", "days"} or "days" not in value:
        raise InvalidRequest(
            'return_policy must be null or {"days": 30, "text": "…"}.',
            param="return_policy",
        )
    days = value["days"]
    if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= MAX_RETURN_DAYS:
        raise InvalidRequest(
            f"return_policy.days must be an integer from 0 (no returns) to {MAX_RETURN_DAYS}.",
            param="return_policy.days",
        )
    text = value.get("text", "")
    if not isinstance(text, str) or len(text) > MAX_RETURN_POLICY_LENGTH:
        raise InvalidRequest(
            f"return_policy.text must be text of at most {MAX_RETURN_POLICY_LENGTH} characters.",
            param="return_policy.text",
        )
    return ReturnPolicy(text=text.strip(), days=days)


def _optional_email(value: object, param: str) -> str | None:
    return None if value is None or value == "" else validate_email(value, param=param)


#: What ``PATCH /v1/merchant`` may change: each field's validator and its columns.
_SETTINGS = ("allowed_origins", "email", "support_email", "return_policy")


def origin_of(url: object) -> str | None:
    """The origin (``scheme://host[:port]``, lowercase, default port dropped) of an http(s)
    URL; ``None`` if ``url`` is not one."""
    if not isinstance(url, str) or not url.isascii() or any(c.isspace() for c in url):
        return None
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or "@" in parts.netloc:
        return None
    scheme, host = parts.scheme.lower(), parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    default = {"http": 80, "https": 443}[scheme]
    return f"{scheme}://{host}" + (f":{port}" if port is not None and port != default else "")


def validate_origins(value: object, *, param: str = "allowed_origins") -> tuple[str, ...]:
    """A list of origins (``https://shop.example``, ``http://localhost:8000``): http or https, a
    host, an optional port, nothing else (no path, query or user). Returned normalized."""
    if not isinstance(value, (list, tuple)) or len(value) > MAX_ALLOWED_ORIGINS:
        raise InvalidRequest(
            f"{param} must be a list of at most {MAX_ALLOWED_ORIGINS} origins.", param=param
        )
    origins: list[str] = []
    for item in value:
        origin = origin_of(item)
        path = urlsplit(item).path if origin else ""
        if origin is None or path not in ("", "/") or "?" in item or "#" in item:
            raise InvalidRequest(
                f"{str(item)[:100]!r} is not an origin: give the scheme (http or "
                "https), the host and an optional port, with no path, e.g. "
                "https://shop.example.",
                param=param,
            )
        if origin not in origins:
            origins.append(origin)
    return tuple(origins)


def create_merchant(
    conn: Connection,
    name: str,
    *,
    allowed_origins: Iterable[object] = (),
    now: float | None = None,
) -> tuple[Merchant, str]:
    """Create a merchant; return it with its secret API key, which is never retrievable again."""
    name = (name or "").strip() if isinstance(name, str) else ""
    if not name or len(name) > 200:
        raise InvalidRequest("A merchant name of 1 to 200 characters is required.", param="name")
    origins = validate_origins(list(allowed_origins))
    api_key = API_KEY_PREFIX + secrets.token_urlsafe(30)
    merchant = Merchant(
        id=new_id("mch"),
        name=name,
        api_key_last4=api_key[-4:],
        created_at=int(now if now is not None else time.time()),
        allowed_origins=origins,
    )
    conn.execute(
        insert(merchants).values(
            id=merchant.id,
            name=name,
            api_key_hash=hash_api_key(api_key),
            api_key_last4=merchant.api_key_last4,
            created_at=merchant.created_at,
            allowed_origins=json.dumps(list(origins)),
        )
    )
    return merchant, api_key


def update_merchant(conn: Connection, merchant_id: str, fields: Mapping[str, object]) -> Merchant:
    """Change the merchant's settings: ``allowed_origins`` (the whole list), ``email``,
    ``support_email`` (``null`` clears them) and ``return_policy``. Validates every field
    before changing any; :class:`InvalidRequest` names the first bad one."""
    unknown = sorted(set(fields) - set(_SETTINGS))
    if unknown:
        raise InvalidRequest(f"{unknown[0]} cannot be changed here.", param=unknown[0])
    values: dict[str, Any] = {}
    if "allowed_origins" in fields:
        values["allowed_origins"] = json.dumps(list(validate_origins(fields["allowed_origins"])))
    for param in ("email", "support_email"):
        if param in fields:
            values[param] = _optional_email(fields[param], param)
    if "return_policy" in fields:
        policy = validate_return_policy(fields["return_policy"])
        values["return_policy_text"] = policy.text if policy else None
        values["return_policy_days"] = policy.days if policy else None
    if values:
        conn.execute(update(merchants).where(merchants.c.id == merchant_id).values(**values))
    merchant = get_merchant(conn, merchant_id)
    if merchant is None:
        raise NotFound("No such merchant.")
    return merchant


def authenticate(conn: Connection, api_key: str | None) -> Merchant:
    """The merchant whose secret key is ``api_key``; :class:`AuthenticationFailed` otherwise."""
    if not api_key or not api_key.startswith(API_KEY_PREFIX):
        raise AuthenticationFailed("Send your secret key as 'Authorization: Bearer bb_sk_…'.")
    row = conn.execute(
        select(merchants).where(merchants.c.api_key_hash == hash_api_key(api_key))
    ).first()
    if row is None:
        raise AuthenticationFailed("The API key is not valid.")
    return _merchant(row)


def get_merchant(conn: Connection, merchant_id: str) -> Merchant | None:
    row = conn.execute(select(merchants).where(merchants.c.id == merchant_id)).first()
    return _merchant(row) if row else None
