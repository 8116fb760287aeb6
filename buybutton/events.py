"""Merchant webhooks: endpoints, the outbox fan-out, signing, and delivery with retries.

The order state machine writes each merchant event (``order.paid`` …) into the ``events`` outbox
in the same transaction as the order change, and :func:`enqueue_deliveries` adds, in that same
transaction, one ``webhook_deliveries`` row for every endpoint subscribed at that moment. So an
event is never lost, never invented, and goes only to endpoints that existed when it happened.

Workers (:class:`Deliverer`) claim due rows, POST the signed event and record the outcome: a 2xx
acknowledges; anything else is retried with exponential backoff and jitter
(:class:`RetryPolicy`) until it is acknowledged or the attempts run out. Claims are leases:
``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL lets many workers claim disjoint rows at once
(SQLite's write lock serializes the claims), and a crashed worker's rows become due again when
its lease runs out. Delivery is therefore at least once; receivers de-duplicate by event id.

Targets on loopback, private or link-local addresses are refused (at creation and again at each
delivery, since DNS can change) unless ``BUYBUTTON_WEBHOOK_ALLOW_PRIVATE=1``.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import os
import random as _random
import secrets
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Sequence
from urllib.parse import urlsplit

import urllib3
from sqlalchemy import Connection, func, insert, or_, select, update

from . import __version__
from .errors import InvalidRequest, NotFound
from .ids import new_id
from .store import Store, fetch_page
from .store.schema import events as events_table
from .store.schema import webhook_deliveries as deliveries
from .store.schema import webhook_endpoints as endpoints

log = logging.getLogger("buybutton.events")

EVENT_TYPES = ("order.paid", "order.refunded", "order.expired", "order.canceled", "order.flagged")
ALL_EVENTS = "*"
SIGNATURE_HEADER = "BuyButton-Signature"
EVENT_ID_HEADER = "BuyButton-Event-Id"
SECRET_PREFIX = "whsec_"
MAX_URL_LENGTH = 2048
MAX_ENDPOINTS = 16
USER_AGENT = f"buybutton-webhooks/{__version__}"

Resolver = Callable[[str, int], Sequence[str]]


# -- addresses ---------------------------------------------------------------------------------

class AddressNotAllowed(InvalidRequest):
    """A webhook URL's host is (or resolves to) a loopback, private or link-local address."""

    code = "url_not_allowed"


def resolve_host(host: str, port: int) -> list[str]:
    """Every IP address ``host`` resolves to (``socket.getaddrinfo``); ``OSError`` if none."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check_public_addresses(host: str, addresses: Iterable[str]) -> None:
    """Raise :class:`AddressNotAllowed` unless every address is a public unicast one: a single
    private answer is enough to refuse, as the connection could use any of them."""
    for address in addresses:
        if not _is_public(address):
            raise AddressNotAllowed(
                f"The webhook URL's host {host!r} is a loopback, private or link-local address "
                f"({address}); set BUYBUTTON_WEBHOOK_ALLOW_PRIVATE=1 to allow it.", param="url")


def _literal_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


# -- endpoints ---------------------------------------------------------------------------------

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
        data = {"id": self.id, "object": "webhook_endpoint", "url": self.url,
                "events": list(self.events), "enabled": self.enabled,
                "created_at": self.created_at}
        if include_secret:
            data["secret"] = self.secret
        return data


def _endpoint(row) -> WebhookEndpoint:
    return WebhookEndpoint(id=row.id, merchant_id=row.merchant_id, url=row.url,
                           events=tuple(json.loads(row.events)), enabled=row.enabled,
                           created_at=row.created_at, secret=row.secret)


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
        raise InvalidRequest("events is required: a list of event types, or [\"*\"] for all.",
                             param="events")
    if not isinstance(value, list) or not value:
        raise InvalidRequest("events must be a non-empty list of event types.", param="events")
    for item in value:
        if item != ALL_EVENTS and item not in EVENT_TYPES:
            raise InvalidRequest(
                f"Unknown event type {item!r}; use one of {', '.join(EVENT_TYPES)} or \"*\".",
                param="events")
    return tuple(dict.fromkeys(value))


def _check_target(url: str, *, allow_private: bool, resolver: Resolver) -> None:
    """Refuse a URL whose host is private now. A name that does not resolve yet is accepted:
    every delivery checks again, and fails (then retries) while it does not resolve."""
    if allow_private:
        return
    parts = urlsplit(url)
    host = parts.hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        check_public_addresses(host, ["127.0.0.1"])
    if _literal_ip(host):
        check_public_addresses(host, [host])
        return
    try:
        addresses = resolver(host, parts.port or (443 if parts.scheme == "https" else 80))
    except OSError:
        return
    check_public_addresses(host, addresses)


def _endpoint_fields(data: Mapping[str, Any], *, allow_private: bool,
                     resolver: Resolver) -> tuple[str, tuple[str, ...]]:
    unknown = sorted(set(data) - {"url", "events"})
    if unknown:
        raise InvalidRequest(f"Unknown field {unknown[0]!r}.", param=unknown[0])
    url = _validate_url(data.get("url"))
    subscribed = _validate_events(data.get("events"))
    _check_target(url, allow_private=allow_private, resolver=resolver)
    return url, subscribed


def _insert_endpoint(conn: Connection, merchant_id: str, url: str, subscribed: tuple[str, ...],
                     now: float | None) -> WebhookEndpoint:
    count = conn.execute(select(func.count()).select_from(endpoints).where(
        endpoints.c.merchant_id == merchant_id, endpoints.c.deleted_at.is_(None))).scalar_one()
    if count >= MAX_ENDPOINTS:
        raise InvalidRequest(f"A merchant can have at most {MAX_ENDPOINTS} webhook endpoints; "
                             "delete one first.", code="too_many_webhook_endpoints")
    row = {"id": new_id("we"), "merchant_id": merchant_id, "url": url,
           "events": json.dumps(list(subscribed)), "secret": SECRET_PREFIX + secrets.token_hex(24),
           "enabled": True, "created_at": int(now if now is not None else time.time())}
    conn.execute(insert(endpoints).values(**row))
    return get_endpoint(conn, merchant_id, row["id"])


def create_endpoint(conn: Connection, merchant_id: str, data: Mapping[str, Any], *,
                    allow_private: bool = False, resolver: Resolver = resolve_host,
                    now: float | None = None) -> WebhookEndpoint:
    """Register a webhook endpoint ``{url, events}`` for ``merchant_id`` with a fresh secret.

    Raises :class:`InvalidRequest` naming the field (unknown field, bad URL, unknown event type,
    too many endpoints) and :class:`AddressNotAllowed` for a private target.
    """
    url, subscribed = _endpoint_fields(data, allow_private=allow_private, resolver=resolver)
    return _insert_endpoint(conn, merchant_id, url, subscribed, now)


def register_endpoint(store: Store, merchant_id: str, data: Mapping[str, Any], *,
                      allow_private: bool = False, resolver: Resolver = resolve_host,
                      now: float | None = None) -> WebhookEndpoint:
    """:func:`create_endpoint` in a transaction of its own, opened only after the target's host
    was looked up: a slow DNS answer never holds the database's write lock."""
    url, subscribed = _endpoint_fields(data, allow_private=allow_private, resolver=resolver)
    with store.transaction() as conn:
        return _insert_endpoint(conn, merchant_id, url, subscribed, now)


def get_endpoint(conn: Connection, merchant_id: str, endpoint_id: str) -> WebhookEndpoint:
    """The merchant's live endpoint ``endpoint_id``; :class:`NotFound` otherwise."""
    row = conn.execute(select(endpoints).where(
        endpoints.c.id == endpoint_id, endpoints.c.merchant_id == merchant_id,
        endpoints.c.deleted_at.is_(None))).first()
    if row is None:
        raise NotFound(f"No such webhook endpoint: {endpoint_id!r}.",
                       code="webhook_endpoint_not_found", param="id")
    return _endpoint(row)


def list_endpoints(conn: Connection, merchant_id: str, *, limit: int = 20,
                   starting_after: str | None = None):
    """A page of the merchant's endpoints, newest first: ``(endpoints, has_more)``."""
    where = (endpoints.c.merchant_id == merchant_id) & endpoints.c.deleted_at.is_(None)
    rows, has_more = fetch_page(conn, endpoints, where, limit=limit,
                                starting_after=starting_after)
    return [_endpoint(r) for r in rows], has_more


def delete_endpoint(conn: Connection, merchant_id: str, endpoint_id: str, *,
                    now: float | None = None) -> WebhookEndpoint:
    """Delete the endpoint: it gets no new events and its pending deliveries are canceled.
    The row stays (marked deleted) so the delivery history keeps its meaning."""
    endpoint = get_endpoint(conn, merchant_id, endpoint_id)
    stamp = int(now if now is not None else time.time())
    conn.execute(update(endpoints).where(endpoints.c.id == endpoint.id)
                 .values(deleted_at=stamp, enabled=False))
    conn.execute(update(deliveries).where(deliveries.c.endpoint_id == endpoint.id,
                                          deliveries.c.status == "pending")
                 .values(status="canceled", last_error="endpoint deleted", lease_token=None,
                         lease_expires_at=None))
    return endpoint


def enqueue_deliveries(conn: Connection, event_id: str, merchant_id: str, event_type: str,
                       now: int) -> int:
    """Queue the event for every endpoint of the merchant subscribed to its type, due now.
    Called in the transaction that writes the event; returns how many were queued."""
    rows = conn.execute(select(endpoints).where(
        endpoints.c.merchant_id == merchant_id, endpoints.c.deleted_at.is_(None),
        endpoints.c.enabled.is_(True))).all()
    targets = [r.id for r in map(_endpoint, rows) if r.subscribes_to(event_type)]
    if targets:
        conn.execute(insert(deliveries), [
            {"event_id": event_id, "endpoint_id": endpoint_id, "status": "pending", "attempts": 0,
             "next_attempt_at": now, "created_at": now} for endpoint_id in targets])
    return len(targets)


# -- payload and signature ----------------------------------------------------------------------

def event_payload(event_id: str, event_type: str, created: int, data: str) -> bytes:
    """The JSON body POSTed to endpoints: ``{id, object: "event", type, created, data: {object}}``;
    ``data`` is the outbox row's JSON text of the order."""
    body = {"id": event_id, "object": "event", "type": event_type, "created": created,
            "data": {"object": json.loads(data)}}
    return json.dumps(body, separators=(",", ":")).encode()


def compute_signature(payload: bytes, secret: str, timestamp: int) -> str:
    """Hex HMAC-SHA256, keyed by the endpoint secret (UTF-8), of ``"{timestamp}.{payload}"``."""
    message = str(timestamp).encode() + b"." + payload
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(payload: bytes, secret: str, timestamp: int) -> str:
    """The ``BuyButton-Signature`` header value: ``t=<unix>,v1=<hex>``."""
    return f"t={timestamp},v1={compute_signature(payload, secret, timestamp)}"


# -- retry schedule -------------------------------------------------------------------------------

@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter. After the n-th failed attempt the next one waits
    ``min(cap, base * 2**(n-1))`` seconds, scaled by a random factor in ``1 ± jitter``; after
    ``max_attempts`` attempts the delivery is marked failed. The defaults make 16 attempts over
    about three days (30 s, 1 min, 2 min, … 8.5 h, then every 12 h)."""

    max_attempts: int = 16
    base_seconds: float = 30
    cap_seconds: float = 12 * 3600
    jitter: float = 0.2

    def delay(self, failed_attempts: int, rand: float = 0.5) -> int:
        """Seconds to wait after ``failed_attempts`` failures; ``rand`` in [0, 1) (0.5: no jitter)."""
        raw = min(self.cap_seconds, self.base_seconds * 2 ** (failed_attempts - 1))
        return max(1, round(raw * (1 - self.jitter + 2 * self.jitter * rand)))

    def schedule(self) -> list[int]:
        """The waits between attempts, without jitter (for docs and operators)."""
        return [self.delay(n) for n in range(1, self.max_attempts)]


# -- delivery ---------------------------------------------------------------------------------

@dataclass
class DeliveryReport:
    """What one pass of a worker did."""

    claimed: int = 0
    attempted: int = 0
    succeeded: int = 0
    retrying: int = 0
    failed: int = 0
    canceled: int = 0

    def add(self, other: "DeliveryReport") -> None:
        for name in ("claimed", "attempted", "succeeded", "retrying", "failed", "canceled"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass(frozen=True)
class _Outcome:
    status: int | None = None
    error: str | None = None
    canceled: bool = False

    @property
    def acknowledged(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class Deliverer:
    """Delivers due webhook deliveries from ``store``. Many may run at once, in threads or
    processes on any machines sharing the database.

    ``clock`` and ``random`` (returning a float in [0, 1)) are injectable so tests never sleep;
    ``resolver`` maps ``(host, port)`` to IP addresses. Each POST is sent to the address checked,
    so a DNS answer cannot change between the check and the connection. HTTPS certificates are
    verified against the system's CAs, or the PEM bundle ``ca_certs`` (a private CA).
    """

    def __init__(self, store: Store, *, allow_private: bool = False,
                 policy: RetryPolicy = RetryPolicy(), clock: Callable[[], float] = time.time,
                 random: Callable[[], float] = _random.random, resolver: Resolver = resolve_host,
                 timeout: float = 10.0, batch_size: int = 10, lease_seconds: int | None = None,
                 ca_certs: str | None = None):
        self.store = store
        self.allow_private = allow_private
        self.policy = policy
        self.clock = clock
        self.random = random
        self.resolver = resolver
        self.timeout = timeout
        self.batch_size = batch_size
        self.ca_certs = ca_certs
        # A lease outlives the slowest batch, so a live worker never loses its claim.
        self.lease_seconds = lease_seconds or int(batch_size * (timeout + 5) + 60)

    # claiming and recording

    def _claim(self) -> tuple[str, list]:
        now = int(self.clock())
        token = secrets.token_hex(16)
        with self.store.transaction() as conn:
            due = (select(deliveries.c.pk)
                   .where(deliveries.c.status == "pending", deliveries.c.next_attempt_at <= now,
                          or_(deliveries.c.lease_expires_at.is_(None),
                              deliveries.c.lease_expires_at <= now))
                   .order_by(deliveries.c.next_attempt_at, deliveries.c.pk)
                   .limit(self.batch_size)
                   .with_for_update(skip_locked=True))  # SQLite: no-op, its write lock serializes
            pks = conn.execute(due).scalars().all()
            if not pks:
                return token, []
            conn.execute(update(deliveries).where(deliveries.c.pk.in_(pks))
                         .values(lease_token=token, lease_expires_at=now + self.lease_seconds))
            rows = conn.execute(
                select(deliveries.c.pk, deliveries.c.attempts, deliveries.c.event_id,
                       events_table.c.type, events_table.c.created_at, events_table.c.data,
                       endpoints.c.id.label("endpoint_id"), endpoints.c.url, endpoints.c.secret)
                .join(events_table, events_table.c.id == deliveries.c.event_id)
                .join(endpoints, endpoints.c.id == deliveries.c.endpoint_id)
                .where(deliveries.c.pk.in_(pks))
                .order_by(deliveries.c.next_attempt_at, deliveries.c.pk)).all()
        return token, rows

    def _record(self, row, token: str, outcome: _Outcome, report: DeliveryReport) -> None:
        now = int(self.clock())
        values: dict[str, Any] = {"lease_token": None, "lease_expires_at": None}
        if outcome.canceled:
            values.update(status="canceled", last_error=outcome.error)
            kind = "canceled"
        else:
            attempts = row.attempts + 1
            values.update(attempts=attempts, last_attempt_at=now, last_status=outcome.status,
                          last_error=(outcome.error or None) and outcome.error[:500])
            if outcome.acknowledged:
                values.update(status="succeeded", delivered_at=now)
                kind = "succeeded"
            elif attempts >= self.policy.max_attempts:
                values.update(status="failed")
                kind = "failed"
            else:
                values.update(next_attempt_at=now + self.policy.delay(attempts, self.random()))
                kind = "retrying"
        with self.store.transaction() as conn:
            # Only the holder of the current lease records; an expired claim's late result
            # is dropped (the row was re-claimed and will be recorded by its new holder).
            result = conn.execute(update(deliveries).where(deliveries.c.pk == row.pk,
                                                           deliveries.c.lease_token == token,
                                                           deliveries.c.status == "pending")
                                  .values(**values))
        if result.rowcount == 1:
            setattr(report, kind, getattr(report, kind) + 1)
            if kind != "canceled":
                report.attempted += 1

    def _current(self, row, token: str) -> str:
        """Right before sending: ``"send"``, ``"cancel"`` (the endpoint was deleted since the
        claim) or ``"skip"`` (the row is no longer this worker's to send)."""
        with self.store.read() as conn:
            current = conn.execute(
                select(deliveries.c.status, deliveries.c.lease_token, endpoints.c.deleted_at,
                       endpoints.c.enabled)
                .join(endpoints, endpoints.c.id == deliveries.c.endpoint_id)
                .where(deliveries.c.pk == row.pk)).one()
        if current.status != "pending" or current.lease_token != token:
            return "skip"
        return "cancel" if current.deleted_at is not None or not current.enabled else "send"

    # sending

    def _attempt(self, row) -> _Outcome:
        payload = event_payload(row.event_id, row.type, row.created_at, row.data)
        headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT,
                   EVENT_ID_HEADER: row.event_id,
                   SIGNATURE_HEADER: signature_header(payload, row.secret, int(self.clock()))}
        try:
            status = self._post(row.url, payload, headers)
        except AddressNotAllowed as exc:
            return _Outcome(error=exc.message)
        except (OSError, urllib3.exceptions.HTTPError, ValueError) as exc:
            return _Outcome(error=f"{type(exc).__name__}: {exc}")
        if 200 <= status < 300:
            return _Outcome(status=status)
        return _Outcome(status=status, error=f"HTTP {status}")

    def _post(self, url: str, payload: bytes, headers: dict[str, str]) -> int:
        parts = urlsplit(url)
        https = parts.scheme.lower() == "https"
        host = parts.hostname or ""
        port = parts.port or (443 if https else 80)
        addresses = self.resolver(host, port)
        if not addresses:
            raise OSError(f"{host} has no address")
        if not self.allow_private:
            check_public_addresses(host, addresses)
        timeout = urllib3.Timeout(connect=self.timeout, read=self.timeout)
        options: dict[str, Any] = {"timeout": timeout, "retries": False, "maxsize": 1}
        if https:
            # Connect to the checked address, but verify the certificate for the URL's name.
            options.update(server_hostname=host, assert_hostname=host, cert_reqs="CERT_REQUIRED")
            if self.ca_certs:
                options["ca_certs"] = self.ca_certs
        pool_class = urllib3.HTTPSConnectionPool if https else urllib3.HTTPConnectionPool
        default_port = 443 if https else 80
        headers = {**headers, "Host": host if port == default_port else f"{host}:{port}"}
        if ":" in host:
            headers["Host"] = f"[{host}]" if port == default_port else f"[{host}]:{port}"
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        with pool_class(addresses[0], port, **options) as pool:
            response = pool.urlopen("POST", path, body=payload, headers=headers, redirect=False,
                                    assert_same_host=False, preload_content=False)
            try:
                response.read(64 * 1024)  # a little of the body, so the server sees it read
            finally:
                response.release_conn()
            return response.status

    # the public loop

    def deliver_due(self) -> DeliveryReport:
        """Claim one batch of due deliveries, attempt each once and record the outcomes."""
        token, rows = self._claim()
        return self._deliver(token, rows)

    def _deliver(self, token: str, rows) -> DeliveryReport:
        report = DeliveryReport(claimed=len(rows))
        for row in rows:
            state = self._current(row, token)
            if state == "skip":
                continue
            if state == "cancel":
                outcome = _Outcome(error="endpoint deleted", canceled=True)
            else:
                outcome = self._attempt(row)
            if outcome.canceled or not outcome.acknowledged:
                log.warning("webhook %s to %s (%s): %s", row.event_id, row.endpoint_id,
                            row.url, outcome.error)
            else:
                log.info("webhook %s to %s acknowledged (%s)", row.event_id, row.endpoint_id,
                         outcome.status)
            self._record(row, token, outcome, report)
        return report

    def deliver_all_due(self) -> DeliveryReport:
        """Deliver until nothing is due now (a failure is due again only later)."""
        total = DeliveryReport()
        while True:
            report = self.deliver_due()
            total.add(report)
            if report.claimed == 0:
                return total

    def run(self, stop: threading.Event, *, idle_seconds: float = 1.0) -> None:
        """Deliver until ``stop`` is set, waiting ``idle_seconds`` whenever nothing was due.
        A database error is logged and retried after the wait: the worker outlives outages."""
        while not stop.is_set():
            try:
                report = self.deliver_due()
            except Exception:  # noqa: BLE001 - keep the worker alive; the row stays due
                log.exception("webhook delivery pass failed")
                report = DeliveryReport()
            if report.claimed == 0:
                stop.wait(idle_seconds)


def start_delivery_thread(store: Store, *, allow_private: bool = False,
                          idle_seconds: float = 1.0) -> tuple[threading.Thread, threading.Event]:
    """Run one :class:`Deliverer` in a daemon thread (``buybutton serve`` / ``demo``).
    Returns the thread and the event that stops it."""
    stop = threading.Event()
    deliverer = Deliverer(store, allow_private=allow_private)
    # A server that forks (gunicorn) must not let its children reuse this thread's database
    # connections: a child closing an inherited socket would break the parent's connection.
    os.register_at_fork(after_in_child=lambda: store.engine.dispose(close=False))
    thread = threading.Thread(target=deliverer.run, args=(stop,),
                              kwargs={"idle_seconds": idle_seconds},
                              name="buybutton-webhooks", daemon=True)
    thread.start()
    return thread, stop


def list_deliveries(conn: Connection, event_id: str) -> list[dict[str, Any]]:
    """The delivery records of one event (for operators and tests)."""
    rows = conn.execute(select(deliveries).where(deliveries.c.event_id == event_id)
                        .order_by(deliveries.c.pk)).all()
    return [dict(row._mapping) for row in rows]
