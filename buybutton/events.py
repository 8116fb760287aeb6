"""Merchant webhooks: endpoints, the outbox fan-out, signing, and delivery with retries.

The order state machine writes each merchant event (``order.paid`` …) into the ``events`` outbox
in the same transaction as the order change, and :func:`enqueue_deliveries` adds, in that same
transaction, one ``webhook_deliveries`` row for every endpoint subscribed at that moment. So an
event is never lost, never invented, and goes only to endpoints that existed when it happened.

Workers (:class:`Deliverer`) claim due rows, POST the signed event and record the outcome: a 2xx
acknowledges; anything else is retried per the :class:`RetryPolicy` (exponential backoff with
jitter, or an explicit schedule) until it is acknowledged or the attempts run out. Claims are
leases taken per endpoint: a worker's sending threads each work on one endpoint's due rows, an
endpoint has at most ``per_endpoint`` live claims across all workers, and every POST has a total
wall-clock deadline (:func:`post_webhook`), so a slow or dripping receiver delays only its own
deliveries. ``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL lets many workers claim disjoint
rows at once (SQLite's write lock serializes the claims), and a crashed worker's rows become due
again when its lease runs out. Delivery is therefore at least once; receivers de-duplicate by
event id.

Targets on loopback, private or link-local addresses, including IPv6 forms that embed such an
IPv4 address (:func:`embedded_ipv4`), are refused at creation and again at each delivery (DNS
can change), unless ``BUYBUTTON_WEBHOOK_ALLOW_PRIVATE=1``. A delivery resolves the host once,
checks every answer and connects to the checked address.

The file reads top to bottom: addresses, endpoints, payload and signature, retry schedule,
sending one delivery, the delivery worker.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import json
import logging
import os
import random as _random
import secrets
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Sequence
from urllib.parse import urlsplit

import urllib3
import urllib3.connection
from sqlalchemy import Connection, func, insert, or_, select, update

from . import __version__
from .config import ConfigError, Settings
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


# IPv6 prefixes that carry an IPv4 address in their last 32 bits, and reach it: the kernel
# (IPv4-mapped, handled by ``ipv4_mapped``), a translator (SIIT, NAT64) or a tunnel
# (IPv4-compatible). 6to4 and Teredo embed theirs elsewhere (``sixtofour``, ``teredo``).
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")  # RFC 4291, deprecated: ::a.b.c.d
_IPV4_TRANSLATED = ipaddress.ip_network("::ffff:0:0:0/96")  # RFC 2765 SIIT: ::ffff:0:a.b.c.d
_NAT64_WELL_KNOWN = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052: 64:ff9b::a.b.c.d
# RFC 8215 local-use NAT64: the operator chooses where the IPv4 address sits, so no embedded
# address can be read off it; it is never a public target.
_NAT64_LOCAL_USE = ipaddress.ip_network("64:ff9b:1::/48")


def embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address leads to: IPv4-mapped, IPv4-compatible, IPv4-translated,
    6to4 (``2002::/16``), NAT64 (``64:ff9b::/96``) and Teredo (``2001::/32``: the server and the
    client, whose address is stored XOR 0xffffffff). Empty for a plain IPv6 address."""
    found = []
    last32 = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.ipv4_mapped is not None:
        found.append(ip.ipv4_mapped)
    if ip in _IPV4_COMPATIBLE or ip in _IPV4_TRANSLATED or ip in _NAT64_WELL_KNOWN:
        found.append(last32)
    if ip.sixtofour is not None:
        found.append(ip.sixtofour)
    if ip.teredo is not None:
        found.extend(ip.teredo)
    return found


def _is_public_ip(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return ip.is_global and not ip.is_multicast


def address_problem(address: str) -> str | None:
    """Why ``address`` (an IP literal, optionally with a ``%zone``) is not a public unicast
    target, or ``None`` if it is. An IPv6 address that embeds an IPv4 one is judged by what it
    embeds (every one of them), since that is where the packets end up."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in _NAT64_LOCAL_USE:
            return f"{address} is a local-use NAT64 address"
        inner = embedded_ipv4(ip)
        if inner:
            private = [str(v4) for v4 in inner if not _is_public_ip(v4)]
            return f"{address} embeds {', '.join(private)}" if private else None
    return None if _is_public_ip(ip) else address


def check_public_addresses(host: str, addresses: Iterable[str]) -> None:
    """Raise :class:`AddressNotAllowed` unless every address is a public unicast one: a single
    private answer is enough to refuse, as the connection could use any of them."""
    for address in addresses:
        problem = address_problem(address)
        if problem is not None:
            raise AddressNotAllowed(
                f"The webhook URL's host {host!r} is a loopback, private or link-local address "
                f"({problem}); set BUYBUTTON_WEBHOOK_ALLOW_PRIVATE=1 to allow it.", param="url")


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
    """When failed deliveries are tried again. By default exponential backoff: after the n-th
    failed attempt the next one waits ``min(cap, base * 2**(n-1))`` seconds; with ``waits`` (see
    :meth:`from_waits`) it waits ``waits[n-1]``. Either is scaled by a random factor in
    ``1 ± jitter``, and after ``max_attempts`` attempts the delivery is marked failed. The
    defaults make 16 attempts over about three days (30 s, 1 min, 2 min, … 8.5 h, then 12 h)."""

    max_attempts: int = 16
    base_seconds: float = 30
    cap_seconds: float = 12 * 3600
    jitter: float = 0.2
    waits: tuple[int, ...] = ()

    @classmethod
    def from_waits(cls, waits: Sequence[int], *, jitter: float = 0.2) -> "RetryPolicy":
        """An explicit schedule (``BUYBUTTON_WEBHOOK_RETRY_SCHEDULE``): the seconds to wait after
        each failure, so ``len(waits) + 1`` attempts in all. An empty one: the default policy."""
        if not waits:
            return cls(jitter=jitter)
        return cls(max_attempts=len(waits) + 1, waits=tuple(waits), jitter=jitter)

    def delay(self, failed_attempts: int, rand: float = 0.5) -> int:
        """Seconds to wait after ``failed_attempts`` failures; ``rand`` in [0, 1) (0.5: no jitter)."""
        if self.waits:
            raw = self.waits[min(failed_attempts, len(self.waits)) - 1]
        else:
            raw = min(self.cap_seconds, self.base_seconds * 2 ** (failed_attempts - 1))
        return max(1, round(raw * (1 - self.jitter + 2 * self.jitter * rand)))

    def schedule(self) -> list[int]:
        """The waits between attempts, without jitter (for docs and operators)."""
        return [self.delay(n) for n in range(1, self.max_attempts)]


# -- sending one delivery -------------------------------------------------------------------------

#: At most this much of a receiver's answer is read; the status is all that counts.
MAX_RESPONSE_BYTES = 64 * 1024


class DeliveryTimeout(TimeoutError):
    """The receiver did not send its whole answer within the delivery's total deadline."""


class _Deadline:
    """Cuts a connection when a wall-clock deadline passes, whatever it is doing then.

    Socket timeouts bound each read or write, not their sum: a receiver that sends one byte a
    second (in the status line, the headers or the body) never trips them. At the deadline
    this shuts the socket down from a timer thread, which makes the blocked call in the
    sending thread return at once. It holds a duplicate of the socket's descriptor, so it can
    still reach the connection after TLS has wrapped (and detached) the original object.
    """

    def __init__(self, seconds: float):
        self.seconds = seconds
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self._fired = False
        self._closed = False
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True
        self._timer.start()

    def watch(self, sock: socket.socket) -> None:
        """Called with the freshly connected socket, before TLS and before any byte is sent."""
        with self._lock:
            if self._closed:
                return
            self._sock = sock.dup()
            if self._fired:
                self._shutdown()

    def _fire(self) -> None:
        with self._lock:
            if not self._closed:
                self._fired = True
                self._shutdown()

    def _shutdown(self) -> None:
        if self._sock is not None:
            try:
                self._sock.shutdown(socket.SHUT_RDWR)
            except OSError:  # already closed by the peer
                pass

    def close(self) -> bool:
        """Stop watching; ``True`` if the deadline had passed (and the connection was cut)."""
        self._timer.cancel()
        with self._lock:
            self._closed = True
            if self._sock is not None:
                self._sock.close()
            return self._fired


class _WatchedHTTPConnection(urllib3.connection.HTTPConnection):
    def __init__(self, *args, deadline: _Deadline, **kwargs):
        super().__init__(*args, **kwargs)
        self._deadline = deadline

    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        self._deadline.watch(sock)
        return sock


class _WatchedHTTPSConnection(urllib3.connection.HTTPSConnection):
    def __init__(self, *args, deadline: _Deadline, **kwargs):
        super().__init__(*args, **kwargs)
        self._deadline = deadline

    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        self._deadline.watch(sock)
        return sock


#: What a failed POST raises: network errors, TLS errors (``ssl.SSLError`` is an ``OSError``,
#: a certificate name mismatch a ``ValueError``), malformed answers.
_SEND_ERRORS = (OSError, urllib3.exceptions.HTTPError, http.client.HTTPException, ValueError)


def post_webhook(address: str, url: str, payload: bytes, headers: Mapping[str, str], *,
                 timeout: float, ca_certs: str | None = None) -> int:
    """POST ``payload`` to ``url`` over a new connection to the IP ``address`` (already checked:
    nothing is resolved here), and return the HTTP status once the whole answer, or its first
    :data:`MAX_RESPONSE_BYTES`, has arrived. Redirects are not followed.

    ``timeout`` bounds the whole exchange (connect, TLS, send, status, headers, body) in
    wall-clock seconds: past it the connection is cut and :class:`DeliveryTimeout` raised.
    HTTPS certificates are verified for the URL's host name, against the system's CAs or the PEM
    bundle ``ca_certs``. Raises one of :data:`_SEND_ERRORS` when no status came back.
    """
    parts = urlsplit(url)
    https = parts.scheme.lower() == "https"
    host = parts.hostname or ""
    port = parts.port or (443 if https else 80)
    default_port = 443 if https else 80
    name = f"[{host}]" if ":" in host else host
    headers = {**headers, "Host": name if port == default_port else f"{name}:{port}"}
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    deadline = _Deadline(timeout)
    options: dict[str, Any] = {"timeout": timeout, "deadline": deadline}
    if https:
        # Connect to the checked address, but verify the certificate for the URL's name.
        options.update(server_hostname=host, assert_hostname=host, cert_reqs="CERT_REQUIRED",
                       ca_certs=ca_certs)
        conn = _WatchedHTTPSConnection(address, port, **options)
    else:
        conn = _WatchedHTTPConnection(address, port, **options)
    try:
        # Never decoded: a compressed body could expand far past the bound.
        conn.request("POST", path, body=payload, headers=headers, preload_content=False,
                     decode_content=False)
        response = conn.getresponse()
        # Read it all (or enough), so it counts as answered; a raw read may return any part.
        left = MAX_RESPONSE_BYTES
        while left > 0 and (data := response.read(left)):
            left -= len(data)
        status = response.status
    except _SEND_ERRORS as exc:
        if deadline.close():
            raise DeliveryTimeout(f"Timed out: no complete answer within {timeout:g} s "
                                  "(the total deadline)") from exc
        raise
    finally:
        deadline.close()
        conn.close()
    return status


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

    Work is claimed per endpoint: a *claim* is up to ``batch_size`` due deliveries of one
    endpoint, sent one after another by one of the worker's ``concurrency`` sending threads.
    An endpoint has at most ``per_endpoint`` claims in flight across all workers, so a slow or
    dead receiver holds at most that many threads anywhere, and every other endpoint keeps
    being served. Each POST has a total deadline of ``timeout`` seconds (:func:`post_webhook`).

    ``clock`` and ``random`` (returning a float in [0, 1)) are injectable so tests never sleep;
    ``resolver`` maps ``(host, port)`` to IP addresses. Each POST is sent to the address checked,
    so a DNS answer cannot change between the check and the connection. HTTPS certificates are
    verified against the system's CAs, or the PEM bundle ``ca_certs`` (a private CA).
    """

    def __init__(self, store: Store, *, allow_private: bool = False,
                 policy: RetryPolicy = RetryPolicy(), clock: Callable[[], float] = time.time,
                 random: Callable[[], float] = _random.random, resolver: Resolver = resolve_host,
                 timeout: float = 10.0, batch_size: int = 10, lease_seconds: int | None = None,
                 ca_certs: str | None = None, concurrency: int = 4, per_endpoint: int = 1):
        for name, value in (("concurrency", concurrency), ("per_endpoint", per_endpoint),
                            ("batch_size", batch_size)):
            if value < 1:
                raise ConfigError(f"The webhook deliverer's {name} must be at least 1, "
                                  f"not {value}.", param=name)
        self.store = store
        self.allow_private = allow_private
        self.policy = policy
        self.clock = clock
        self.random = random
        self.resolver = resolver
        self.timeout = timeout
        self.batch_size = batch_size
        self.ca_certs = ca_certs
        self.concurrency = concurrency
        self.per_endpoint = per_endpoint
        # A lease outlives the slowest claim (each POST ends by its deadline), so a live worker
        # never loses its claim; a dead one's rows are due again when it runs out.
        self.lease_seconds = lease_seconds or int(batch_size * (timeout + 5) + 60)

    # claiming and recording

    def _claimable(self, now: int):
        return ((deliveries.c.status == "pending") & (deliveries.c.next_attempt_at <= now)
                & or_(deliveries.c.lease_expires_at.is_(None),
                      deliveries.c.lease_expires_at <= now))

    def _claims_in_flight(self, now: int):
        """Live claims (distinct lease tokens) per endpoint."""
        return (select(deliveries.c.endpoint_id,
                       func.count(func.distinct(deliveries.c.lease_token)).label("claims"))
                .where(deliveries.c.status == "pending", deliveries.c.lease_expires_at > now)
                .group_by(deliveries.c.endpoint_id))

    def _claim_groups(self, slots: int) -> list[tuple[str, list]]:
        """Claim work for up to ``slots`` sending threads: a list of ``(lease token, rows)``,
        each the next due deliveries of one endpoint, oldest first. Endpoints whose oldest due
        delivery is oldest go first, one claim each before any gets a second; an endpoint with
        ``per_endpoint`` live claims (this worker's or another's) gets none.

        On PostgreSQL the endpoint rows are locked ``FOR NO KEY UPDATE SKIP LOCKED`` while
        claiming, so two workers never both count an endpoint's live claims before either has
        written its own; the deliveries are taken ``FOR UPDATE SKIP LOCKED``. On SQLite the
        write lock (``BEGIN IMMEDIATE``) serializes claims, which gives the same guarantees.
        """
        now = int(self.clock())
        busy = (self._claims_in_flight(now)
                .having(func.count(func.distinct(deliveries.c.lease_token))
                        >= self.per_endpoint).subquery())
        groups: list[tuple[str, list]] = []
        with self.store.transaction() as conn:
            candidates = conn.execute(
                select(deliveries.c.endpoint_id)
                .where(self._claimable(now), deliveries.c.endpoint_id.not_in(
                    select(busy.c.endpoint_id)))
                .group_by(deliveries.c.endpoint_id)
                .order_by(func.min(deliveries.c.next_attempt_at), deliveries.c.endpoint_id)
                .limit(slots * 4)).scalars().all()  # spares for endpoints another worker locks
            room: dict[str, int] = {}
            for endpoint_id in candidates:
                if len(room) == slots:
                    break
                locked = conn.execute(select(endpoints.c.id).where(endpoints.c.id == endpoint_id)
                                      .with_for_update(skip_locked=True, key_share=True)).first()
                if locked is None:
                    continue  # another worker is claiming for it right now
                # Counted after the lock, in a statement of its own: it sees every claim
                # committed before (PostgreSQL's READ COMMITTED takes a snapshot per statement).
                live = conn.execute(select(func.count(func.distinct(deliveries.c.lease_token)))
                                    .where(deliveries.c.endpoint_id == endpoint_id,
                                           deliveries.c.status == "pending",
                                           deliveries.c.lease_expires_at > now)).scalar_one()
                if live < self.per_endpoint:
                    room[endpoint_id] = self.per_endpoint - live
            # Round-robin: every endpoint one claim, then seconds for those allowed more.
            shares = dict.fromkeys(room, 0)
            free = slots
            while free and any(shares[e] < room[e] for e in room):
                for endpoint_id in room:
                    if free and shares[endpoint_id] < room[endpoint_id]:
                        shares[endpoint_id] += 1
                        free -= 1
            for endpoint_id, share in shares.items():
                groups.extend(self._claim_rows(conn, endpoint_id, share, now))
        return groups

    def _claim_rows(self, conn: Connection, endpoint_id: str, claims: int,
                    now: int) -> list[tuple[str, list]]:
        """Lease up to ``claims`` × ``batch_size`` due deliveries of one endpoint, dealt into at
        most ``claims`` claims with a lease token each."""
        pks = conn.execute(
            select(deliveries.c.pk)
            .where(self._claimable(now), deliveries.c.endpoint_id == endpoint_id)
            .order_by(deliveries.c.next_attempt_at, deliveries.c.pk)
            .limit(claims * self.batch_size)
            .with_for_update(skip_locked=True)).scalars().all()
        claims = min(claims, len(pks))
        groups = []
        for share in (pks[i::claims] for i in range(claims)):
            token = secrets.token_hex(16)
            conn.execute(update(deliveries).where(deliveries.c.pk.in_(share))
                         .values(lease_token=token, lease_expires_at=now + self.lease_seconds))
            rows = conn.execute(
                select(deliveries.c.pk, deliveries.c.attempts, deliveries.c.event_id,
                       events_table.c.type, events_table.c.created_at, events_table.c.data,
                       endpoints.c.id.label("endpoint_id"), endpoints.c.url, endpoints.c.secret)
                .join(events_table, events_table.c.id == deliveries.c.event_id)
                .join(endpoints, endpoints.c.id == deliveries.c.endpoint_id)
                .where(deliveries.c.pk.in_(share))
                .order_by(deliveries.c.next_attempt_at, deliveries.c.pk)).all()
            groups.append((token, rows))
        return groups

    def _claim(self) -> tuple[str, list]:
        """Claim the next due deliveries of one endpoint: ``(lease token, rows)``."""
        groups = self._claim_groups(1)
        return groups[0] if groups else (secrets.token_hex(16), [])

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

    def _release(self, rows, token: str) -> None:
        """Give back claimed rows that were not attempted (the worker is stopping): due again
        at once for any worker, instead of when the lease runs out."""
        with self.store.transaction() as conn:
            conn.execute(update(deliveries).where(deliveries.c.pk.in_([r.pk for r in rows]),
                                                  deliveries.c.lease_token == token)
                         .values(lease_token=None, lease_expires_at=None))

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
        except _SEND_ERRORS as exc:
            return _Outcome(error=f"{type(exc).__name__}: {exc}")
        if 200 <= status < 300:
            return _Outcome(status=status)
        return _Outcome(status=status, error=f"HTTP {status}")

    def _post(self, url: str, payload: bytes, headers: dict[str, str]) -> int:
        """Resolve the URL's host once, check every address, and POST to the first one."""
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
        addresses = self.resolver(host, port)
        if not addresses:
            raise OSError(f"{host} has no address")
        if not self.allow_private:
            check_public_addresses(host, addresses)
        return post_webhook(addresses[0], url, payload, headers, timeout=self.timeout,
                            ca_certs=self.ca_certs)

    # the public loop

    def deliver_due(self) -> DeliveryReport:
        """Claim due deliveries for every sending thread, send them (one thread per endpoint)
        and record the outcomes; return when all are done."""
        groups = self._claim_groups(self.concurrency)
        if len(groups) <= 1:
            return self._deliver(*groups[0]) if groups else DeliveryReport()
        report = DeliveryReport()
        with ThreadPoolExecutor(len(groups), thread_name_prefix="buybutton-webhooks-send") as pool:
            for part in pool.map(lambda group: self._deliver(*group), groups):
                report.add(part)
        return report

    def _deliver(self, token: str, rows, stop: threading.Event | None = None) -> DeliveryReport:
        """Send one claim's rows in order, each once, and record each outcome."""
        report = DeliveryReport(claimed=len(rows))
        for index, row in enumerate(rows):
            if stop is not None and stop.is_set():
                self._release(rows[index:], token)
                break
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
        """Deliver until ``stop`` is set. Whenever a sending thread is free, claim work for it,
        so a slow endpoint's claim never holds up the others'; wait ``idle_seconds`` (or until a
        thread frees up) when nothing is due. A database error is logged and retried after the
        wait: the worker outlives outages. On stop, claims not yet sent are given back and the
        sends in progress end (by their deadline) before this returns."""
        wake = threading.Event()
        lock = threading.Lock()
        busy = 0

        def finished(future) -> None:
            nonlocal busy
            with lock:
                busy -= 1
            if future.exception() is not None:  # its rows stay leased, then due again
                log.error("webhook delivery failed", exc_info=future.exception())
            wake.set()

        with ThreadPoolExecutor(self.concurrency,
                                thread_name_prefix="buybutton-webhooks-send") as pool:
            while not stop.is_set():
                wake.clear()
                with lock:
                    free = self.concurrency - busy
                if free:
                    try:
                        groups = self._claim_groups(free)
                    except Exception:  # noqa: BLE001 - keep the worker alive; the rows stay due
                        log.exception("webhook delivery claim failed")
                        groups = []
                    for token, rows in groups:
                        with lock:
                            busy += 1
                        pool.submit(self._deliver, token, rows, stop).add_done_callback(finished)
                wake.wait(idle_seconds)


def delivery_options(settings: Settings) -> dict[str, Any]:
    """The :class:`Deliverer` keyword arguments that the configuration sets."""
    return {"allow_private": settings.webhook_allow_private,
            "timeout": settings.webhook_timeout_seconds,
            "concurrency": settings.webhook_concurrency,
            "per_endpoint": settings.webhook_endpoint_concurrency,
            "policy": RetryPolicy.from_waits(settings.webhook_retry_schedule)}


def start_delivery_thread(store: Store, *, allow_private: bool = False,
                          idle_seconds: float = 1.0,
                          **options: Any) -> tuple[threading.Thread, threading.Event]:
    """Run one :class:`Deliverer` (``options`` are its keyword arguments, e.g.
    :func:`delivery_options`) in a daemon thread (``buybutton serve`` / ``demo``).
    Returns the thread and the event that stops it."""
    stop = threading.Event()
    deliverer = Deliverer(store, allow_private=allow_private, **options)
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
