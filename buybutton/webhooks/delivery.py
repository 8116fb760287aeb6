"""Delivering merchant webhooks: the retry policy, one POST with a total deadline, the worker.

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

The file reads top to bottom: retry schedule, sending one delivery, the delivery worker.
"""

from __future__ import annotations

import http.client
import logging
import os
import random as _random
import secrets
import socket
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import urllib3
import urllib3.connection
from sqlalchemy import ColumnElement, Connection, Row, Select, func, or_, select, update

from .. import __version__
from ..config import Settings
from ..errors import AddressNotAllowed, ConfigError, DeliveryTimeout
from ..store import Store
from ..store.schema import events as events_table
from ..store.schema import webhook_deliveries as deliveries
from ..store.schema import webhook_endpoints as endpoints
from .addresses import Resolver, check_public_addresses, resolve_host
from .outbox import event_payload
from .signing import SIGNATURE_HEADER, signature_header

#: A claim: its lease token and the deliveries it leased (with their event and endpoint).
Claim = tuple[str, Sequence[Row[*tuple[Any, ...]]]]

log = logging.getLogger("buybutton.webhooks")

EVENT_ID_HEADER = "BuyButton-Event-Id"
USER_AGENT = f"buybutton-webhooks/{__version__}"


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
    def from_waits(cls, waits: Sequence[int], *, jitter: float = 0.2) -> RetryPolicy:
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


#: At most this much of a receiver's answer is read; the status is all that counts.
MAX_RESPONSE_BYTES = 64 * 1024


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
    def __init__(self, *args: Any, deadline: _Deadline, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._deadline = deadline

    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        self._deadline.watch(sock)
        return sock


class _WatchedHTTPSConnection(urllib3.connection.HTTPSConnection):
    def __init__(self, *args: Any, deadline: _Deadline, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._deadline = deadline

    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        self._deadline.watch(sock)
        return sock


#: What a failed POST raises: network errors, TLS errors (``ssl.SSLError`` is an ``OSError``,
#: a certificate name mismatch a ``ValueError``), malformed answers.
_SEND_ERRORS = (OSError, urllib3.exceptions.HTTPError, http.client.HTTPException, ValueError)


def post_webhook(
    address: str,
    url: str,
    payload: bytes,
    headers: Mapping[str, str],
    *,
    timeout: float,
    ca_certs: str | None = None,
) -> int:
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
        options.update(
            server_hostname=host, assert_hostname=host, cert_reqs="CERT_REQUIRED", ca_certs=ca_certs
        )
        conn: urllib3.connection.HTTPConnection = _WatchedHTTPSConnection(address, port, **options)
    else:
        conn = _WatchedHTTPConnection(address, port, **options)
    try:
        # Never decoded: a compressed body could expand far past the bound.
        conn.request(
            "POST", path, body=payload, headers=headers, preload_content=False, decode_content=False
        )
        response = conn.getresponse()
        # Read it all (or enough), so it counts as answered; a raw read may return any part.
        left = MAX_RESPONSE_BYTES
        while left > 0 and (data := response.read(left)):
            left -= len(data)
        status = response.status
    except _SEND_ERRORS as exc:
        if deadline.close():
            raise DeliveryTimeout(
                f"Timed out: no complete answer within {timeout:g} s (the total deadline)"
            ) from exc
        raise
    finally:
        deadline.close()
        conn.close()
    return status


@dataclass
class DeliveryReport:
    """What one pass of a worker did."""

    claimed: int = 0
    attempted: int = 0
    succeeded: int = 0
    retrying: int = 0
    failed: int = 0
    canceled: int = 0

    def add(self, other: DeliveryReport) -> None:
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

    def __init__(
        self,
        store: Store,
        *,
        allow_private: bool = False,
        policy: RetryPolicy = RetryPolicy(),
        clock: Callable[[], float] = time.time,
        random: Callable[[], float] = _random.random,
        resolver: Resolver = resolve_host,
        timeout: float = 10.0,
        batch_size: int = 10,
        lease_seconds: int | None = None,
        ca_certs: str | None = None,
        concurrency: int = 4,
        per_endpoint: int = 1,
    ):
        for name, value in (
            ("concurrency", concurrency),
            ("per_endpoint", per_endpoint),
            ("batch_size", batch_size),
        ):
            if value < 1:
                raise ConfigError(
                    f"The webhook deliverer's {name} must be at least 1, not {value}.", param=name
                )
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

    def _claimable(self, now: int) -> ColumnElement[bool]:
        return (
            (deliveries.c.status == "pending")
            & (deliveries.c.next_attempt_at <= now)
            & or_(deliveries.c.lease_expires_at.is_(None), deliveries.c.lease_expires_at <= now)
        )

    def _claims_in_flight(self, now: int) -> Select[tuple[str, int]]:
        """Live claims (distinct lease tokens) per endpoint."""
        return (
            select(
                deliveries.c.endpoint_id,
                func.count(func.distinct(deliveries.c.lease_token)).label("claims"),
            )
            .where(deliveries.c.status == "pending", deliveries.c.lease_expires_at > now)
            .group_by(deliveries.c.endpoint_id)
        )

    def _claim_groups(self, slots: int) -> list[Claim]:
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
        busy = (
            self._claims_in_flight(now)
            .having(func.count(func.distinct(deliveries.c.lease_token)) >= self.per_endpoint)
            .subquery()
        )
        groups: list[Claim] = []
        with self.store.transaction() as conn:
            candidates = (
                conn.execute(
                    select(deliveries.c.endpoint_id)
                    .where(
                        self._claimable(now),
                        deliveries.c.endpoint_id.not_in(select(busy.c.endpoint_id)),
                    )
                    .group_by(deliveries.c.endpoint_id)
                    .order_by(func.min(deliveries.c.next_attempt_at), deliveries.c.endpoint_id)
                    .limit(slots * 4)
                )
                .scalars()
                .all()
            )  # spares for endpoints another worker locks
            room: dict[str, int] = {}
            for endpoint_id in candidates:
                if len(room) == slots:
                    break
                locked = conn.execute(
                    select(endpoints.c.id)
                    .where(endpoints.c.id == endpoint_id)
                    .with_for_update(skip_locked=True, key_share=True)
                ).first()
                if locked is None:
                    continue  # another worker is claiming for it right now
                # Counted after the lock, in a statement of its own: it sees every claim
                # committed before (PostgreSQL's READ COMMITTED takes a snapshot per statement).
                live = conn.execute(
                    select(func.count(func.distinct(deliveries.c.lease_token))).where(
                        deliveries.c.endpoint_id == endpoint_id,
                        deliveries.c.status == "pending",
                        deliveries.c.lease_expires_at > now,
                    )
                ).scalar_one()
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

    def _claim_rows(self, conn: Connection, endpoint_id: str, claims: int, now: int) -> list[Claim]:
        """Lease up to ``claims`` × ``batch_size`` due deliveries of one endpoint, dealt into at
        most ``claims`` claims with a lease token each."""
        pks = (
            conn.execute(
                select(deliveries.c.pk)
                .where(self._claimable(now), deliveries.c.endpoint_id == endpoint_id)
                .order_by(deliveries.c.next_attempt_at, deliveries.c.pk)
                .limit(claims * self.batch_size)
                .with_for_update(skip_locked=True)
            )
            .scalars()
            .all()
        )
        claims = min(claims, len(pks))
        groups: list[Claim] = []
        for share in (pks[i::claims] for i in range(claims)):
            token = secrets.token_hex(16)
            conn.execute(
                update(deliveries)
                .where(deliveries.c.pk.in_(share))
                .values(lease_token=token, lease_expires_at=now + self.lease_seconds)
            )
            rows = conn.execute(
                select(
                    deliveries.c.pk,
                    deliveries.c.attempts,
                    deliveries.c.event_id,
                    events_table.c.type,
                    events_table.c.created_at,
                    events_table.c.data,
                    endpoints.c.id.label("endpoint_id"),
                    endpoints.c.url,
                    endpoints.c.secret,
                )
                .join(events_table, events_table.c.id == deliveries.c.event_id)
                .join(endpoints, endpoints.c.id == deliveries.c.endpoint_id)
                .where(deliveries.c.pk.in_(share))
                .order_by(deliveries.c.next_attempt_at, deliveries.c.pk)
            ).all()
            groups.append((token, rows))
        return groups

    def _claim(self) -> Claim:
        """Claim the next due deliveries of one endpoint: ``(lease token, rows)``."""
        groups = self._claim_groups(1)
        return groups[0] if groups else (secrets.token_hex(16), [])

    def _record(self, row: Row[Any], token: str, outcome: _Outcome, report: DeliveryReport) -> None:
        now = int(self.clock())
        values: dict[str, Any] = {"lease_token": None, "lease_expires_at": None}
        if outcome.canceled:
            values.update(status="canceled", last_error=outcome.error)
            kind = "canceled"
        else:
            attempts = row.attempts + 1
            values.update(
                attempts=attempts,
                last_attempt_at=now,
                last_status=outcome.status,
                last_error=(outcome.error or None) and outcome.error[:500],
            )
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
            result = conn.execute(
                update(deliveries)
                .where(
                    deliveries.c.pk == row.pk,
                    deliveries.c.lease_token == token,
                    deliveries.c.status == "pending",
                )
                .values(**values)
            )
        if result.rowcount == 1:
            setattr(report, kind, getattr(report, kind) + 1)
            if kind != "canceled":
                report.attempted += 1

    def _release(self, rows: Sequence[Row[Any]], token: str) -> None:
        """Give back claimed rows that were not attempted (the worker is stopping): due again
        at once for any worker, instead of when the lease runs out."""
        with self.store.transaction() as conn:
            conn.execute(
                update(deliveries)
                .where(deliveries.c.pk.in_([r.pk for r in rows]), deliveries.c.lease_token == token)
                .values(lease_token=None, lease_expires_at=None)
            )

    def _current(self, row: Row[Any], token: str) -> str:
        """Right before sending: ``"send"``, ``"cancel"`` (the endpoint was deleted since the
        claim) or ``"skip"`` (the row is no longer this worker's to send)."""
        with self.store.read() as conn:
            current = conn.execute(
                select(
                    deliveries.c.status,
                    deliveries.c.lease_token,
                    endpoints.c.deleted_at,
                    endpoints.c.enabled,
                )
                .join(endpoints, endpoints.c.id == deliveries.c.endpoint_id)
                .where(deliveries.c.pk == row.pk)
            ).one()
        if current.status != "pending" or current.lease_token != token:
            return "skip"
        return "cancel" if current.deleted_at is not None or not current.enabled else "send"

    # sending

    def _attempt(self, row: Row[Any]) -> _Outcome:
        payload = event_payload(row.event_id, row.type, row.created_at, row.data)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            EVENT_ID_HEADER: row.event_id,
            SIGNATURE_HEADER: signature_header(payload, row.secret, int(self.clock())),
        }
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
        return post_webhook(
            addresses[0], url, payload, headers, timeout=self.timeout, ca_certs=self.ca_certs
        )

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

    def _deliver(
        self, token: str, rows: Sequence[Row[Any]], stop: threading.Event | None = None
    ) -> DeliveryReport:
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
                log.warning(
                    "webhook %s to %s (%s): %s",
                    row.event_id,
                    row.endpoint_id,
                    row.url,
                    outcome.error,
                )
            else:
                log.info(
                    "webhook %s to %s acknowledged (%s)",
                    row.event_id,
                    row.endpoint_id,
                    outcome.status,
                )
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

        def finished(future: Future[DeliveryReport]) -> None:
            nonlocal busy
            with lock:
                busy -= 1
            if future.exception() is not None:  # its rows stay leased, then due again
                log.error("webhook delivery failed", exc_info=future.exception())
            wake.set()

        with ThreadPoolExecutor(
            self.concurrency, thread_name_prefix="buybutton-webhooks-send"
        ) as pool:
            while not stop.is_set():
                wake.clear()
                with lock:
                    free = self.concurrency - busy
                if free:
                    groups: list[Claim] = []
                    try:
                        groups = self._claim_groups(free)
                    except Exception:  # noqa: BLE001 - keep the worker alive; the rows stay due
                        log.exception("webhook delivery claim failed")
                    for token, rows in groups:
                        with lock:
                            busy += 1
                        pool.submit(self._deliver, token, rows, stop).add_done_callback(finished)
                wake.wait(idle_seconds)


def delivery_options(settings: Settings) -> dict[str, Any]:
    """The :class:`Deliverer` keyword arguments that the configuration sets."""
    return {
        "allow_private": settings.webhook_allow_private,
        "timeout": settings.webhook_timeout_seconds,
        "concurrency": settings.webhook_concurrency,
        "per_endpoint": settings.webhook_endpoint_concurrency,
        "policy": RetryPolicy.from_waits(settings.webhook_retry_schedule),
    }


def start_delivery_thread(
    store: Store, *, allow_private: bool = False, idle_seconds: float = 1.0, **options: Any
) -> tuple[threading.Thread, threading.Event]:
    """Run one :class:`Deliverer` (``options`` are its keyword arguments, e.g.
    :func:`delivery_options`) in a daemon thread (``buybutton serve`` / ``demo``).
    Returns the thread and the event that stops it."""
    stop = threading.Event()
    deliverer = Deliverer(store, allow_private=allow_private, **options)
    # A server that forks (gunicorn) must not let its children reuse this thread's database
    # connections: a child closing an inherited socket would break the parent's connection.
    os.register_at_fork(after_in_child=lambda: store.engine.dispose(close=False))
    thread = threading.Thread(
        target=deliverer.run,
        args=(stop,),
        kwargs={"idle_seconds": idle_seconds},
        name="buybutton-webhooks",
        daemon=True,
    )
    thread.start()
    return thread, stop
