"""Merchant webhook endpoints: create (with a fresh signing secret), read, list, delete.

An endpoint is a URL of the merchant's and the event types it subscribes to. Its target is
checked at creation (:mod:`.addresses`); deleting one cancels its pending deliveries and keeps
the row (marked deleted) so the delivery history keeps its meaning.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Connection, Row, func, insert, select, update

from ..errors import ErrorCode, InvalidRequest, NotFound
from ..ids import new_id
from ..store import Store, fetch_page
from ..store.schema import webhook_deliveries as deliveries
from ..store.schema import webhook_endpoints as endpoints
from .addresses import Resolver, check_target, resolve_host

EVENT_TYPES = (
    "order.paid",
    "order.refunded",
    "order.expired",
    "order.canceled",
    "order.flagged",
    "order.shipped",
    "order.delivered",
)
ALL_EVENTS = "*"
SECRET_PREFIX = "whsec_"
MAX_URL_LENGTH = 2048
MAX_ENDPOINTS = 16


@dataclass(frozen=True, slots=True)
class WebhookEndpoint:
    id: str
    merchant_id: str
    url: str
    events: tuple[str, ...]
    enabled: bool
    created_at: int
    secret: str = field(repr=False)

    def subscribes_to(self, event_type: str) -> bool:
        return ALL_EVENTS in self.events or event_type in self.events

    def to_dict(self, *, include_secret: bool = False) -> dict[str, Any]:
        """The merchant-facing form; the secret only when asked (the create response)."""
        data = {
            "id": self.id,
            "object": "webhook_endpoint",
            "url": self.url,
            "events": list(self.events),
            "enabled": self.enabled,
            "created_at": self.created_at,
        }
        if include_secret:
            data["secret"] = self.secret
        return data


def endpoint_from_row(row: Row[Any]) -> WebhookEndpoint:
    return WebhookEndpoint(
        id=row.id,
        merchant_id=row.merchant_id,
        url=row.url,
        events=tuple(json.loads(row.events)),
        enabled=row.enabled,
        created_at=row.created_at,
        secret=row.secret,
    )


def _validate_url(value: object) -> str:
    if value is None:
        raise InvalidRequest("url is required.", param="url")
    if not isinstance(value, str):
        raise InvalidRequest("url must be a string.", param="url")
    if len(value) > MAX_URL_LENGTH:
        raise InvalidRequest(f"url must be at most {MAX_URL_LENGTH} characters.", param="url")
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise InvalidRequest("url must not contain spaces or control characters.", param="url")
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        raise InvalidRequest("url is not a valid URL.", param="url") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise InvalidRequest("url must be an absolute http:// or https:// URL.", param="url")
    if parts.username is not None or parts.password is not None:
        raise InvalidRequest("url must not contain a user name or password.", param="url")
    if port == 0:
        raise InvalidRequest("url has an invalid port.", param="url")
    return value


def _validate_events(value: object) -> tuple[str, ...]:
    if value is None:
        raise InvalidRequest(
            'events is required: a list of event types, or ["*"] for all.', param="events"
        )
    if not isinstance(value, list) or not value:
        raise InvalidRequest("events must be a non-empty list of event types.", param="events")
    for item in value:
        if item != ALL_EVENTS and item not in EVENT_TYPES:
            raise InvalidRequest(
                f'Unknown event type {item!r}; use one of {", ".join(EVENT_TYPES)} or "*".',
                param="events",
            )
    return tuple(dict.fromkeys(value))


def _endpoint_fields(
    data: Mapping[str, Any], *, allow_private: bool, resolver: Resolver
) -> tuple[str, tuple[str, ...]]:
    unknown = sorted(set(data) - {"url", "events"})
    if unknown:
        raise InvalidRequest(f"Unknown field {unknown[0]!r}.", param=unknown[0])
    url = _validate_url(data.get("url"))
    subscribed = _validate_events(data.get("events"))
    check_target(url, allow_private=allow_private, resolver=resolver)
    return url, subscribed


def _insert_endpoint(
    conn: Connection, merchant_id: str, url: str, subscribed: tuple[str, ...], now: float | None
) -> WebhookEndpoint:
    count = conn.execute(
        select(func.count())
        .select_from(endpoints)
        .where(endpoints.c.merchant_id == merchant_id, endpoints.c.deleted_at.is_(None))
    ).scalar_one()
    if count >= MAX_ENDPOINTS:
        raise InvalidRequest(
            f"A merchant can have at most {MAX_ENDPOINTS} webhook endpoints; delete one first.",
            code=ErrorCode.TOO_MANY_WEBHOOK_ENDPOINTS,
        )
    endpoint_id = new_id("we")
    row = {
        "id": endpoint_id,
        "merchant_id": merchant_id,
        "url": url,
        "events": json.dumps(list(subscribed)),
        "secret": SECRET_PREFIX + secrets.token_hex(24),
        "enabled": True,
        "created_at": int(now if now is not None else time.time()),
    }
    conn.execute(insert(endpoints).values(**row))
    return get_endpoint(conn, merchant_id, endpoint_id)


def create_endpoint(
    conn: Connection,
    merchant_id: str,
    data: Mapping[str, Any],
    *,
    allow_private: bool = False,
    resolver: Resolver = resolve_host,
    now: float | None = None,
) -> WebhookEndpoint:
    """Register a webhook endpoint ``{url, events}`` for ``merchant_id`` with a fresh secret.

    Raises :class:`InvalidRequest` naming the field (unknown field, bad URL, unknown event type,
    too many endpoints) and :class:`AddressNotAllowed` for a private target.
    """
    url, subscribed = _endpoint_fields(data, allow_private=allow_private, resolver=resolver)
    return _insert_endpoint(conn, merchant_id, url, subscribed, now)


def register_endpoint(
    store: Store,
    merchant_id: str,
    data: Mapping[str, Any],
    *,
    allow_private: bool = False,
    resolver: Resolver = resolve_host,
    now: float | None = None,
) -> WebhookEndpoint:
    """:func:`create_endpoint` in a transaction of its own, opened only after the target's host
    was looked up: a slow DNS answer never holds the database's write lock."""
    url, subscribed = _endpoint_fields(data, allow_private=allow_private, resolver=resolver)
    with store.transaction() as conn:
        return _insert_endpoint(conn, merchant_id, url, subscribed, now)


def get_endpoint(conn: Connection, merchant_id: str, endpoint_id: str) -> WebhookEndpoint:
    """The merchant's live endpoint ``endpoint_id``; :class:`NotFound` otherwise."""
    row = conn.execute(
        select(endpoints).where(
            endpoints.c.id == endpoint_id,
            endpoints.c.merchant_id == merchant_id,
            endpoints.c.deleted_at.is_(None),
        )
    ).first()
    if row is None:
        raise NotFound(
            f"No such webhook endpoint: {endpoint_id!r}.",
            code=ErrorCode.WEBHOOK_ENDPOINT_NOT_FOUND,
            param="id",
        )
    return endpoint_from_row(row)


def list_endpoints(
    conn: Connection, merchant_id: str, *, limit: int = 20, starting_after: str | None = None
) -> tuple[list[WebhookEndpoint], bool]:
    """A page of the merchant's endpoints, newest first: ``(endpoints, has_more)``."""
    where = (endpoints.c.merchant_id == merchant_id) & endpoints.c.deleted_at.is_(None)
    rows, has_more = fetch_page(conn, endpoints, where, limit=limit, starting_after=starting_after)
    return [endpoint_from_row(r) for r in rows], has_more


def delete_endpoint(
    conn: Connection, merchant_id: str, endpoint_id: str, *, now: float | None = None
) -> WebhookEndpoint:
    """Delete the endpoint: it gets no new events and its pending deliveries are canceled.
    The row stays (marked deleted) so the delivery history keeps its meaning."""
    endpoint = get_endpoint(conn, merchant_id, endpoint_id)
    stamp = int(now if now is not None else time.time())
    conn.execute(
        update(endpoints)
        .where(endpoints.c.id == endpoint.id)
        .values(deleted_at=stamp, enabled=False)
    )
    conn.execute(
        update(deliveries)
        .where(deliveries.c.endpoint_id == endpoint.id, deliveries.c.status == "pending")
        .values(
            status="canceled",
            last_error="endpoint deleted",
            lease_token=None,
            lease_expires_at=None,
        )
    )
    return endpoint
