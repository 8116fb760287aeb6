"""Rendered offers (the widget's embed JSON, the share page) served from memory, invalidated on
write, with strong ETags, so the common request costs no database work.

An entry is fresh for ``BUYBUTTON_CACHE_TTL_SECONDS`` and only while the generations of the rows
it was rendered from (its product and merchant) are those it saw: every committed write to those
rows bumps them (:meth:`buybutton.store.Store.on_change`). Without Redis the generations live in
this process (a change made by another process, e.g. ``serve``'s expiry thread or another
server, shows within the TTL); with ``REDIS_URL`` they live in Redis, so every server sees a
change at once. A request whose ``If-None-Match`` names the entry's ETag gets a 304 from memory.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any

from flask import Response, current_app, request

from .compression import MIN_BYTES, SUFFIX, add_vary, compress, preferred_encoding

log = logging.getLogger("buybutton.cache")

_REDIS_PREFIX = "buybutton:generation:"


@dataclass(frozen=True, slots=True)
class Entry:
    body: bytes
    etag: str
    content_type: str
    headers: tuple[tuple[str, str], ...]
    rows: tuple[str, ...]
    generations: tuple[int, ...]
    fresh_until: float
    #: The body compressed once per encoding, on first demand.
    encoded: dict[str, bytes] = field(default_factory=dict, compare=False)

    def body_in(self, encoding: str) -> bytes:
        if encoding not in self.encoded:
            self.encoded[encoding] = compress(self.body, encoding, best=True)
        return self.encoded[encoding]


def strong_etag(body: bytes) -> str:
    """The entity tag of ``body`` (a content hash: the same bytes always get the same tag)."""
    return hashlib.blake2b(body, digest_size=12).hexdigest()


class Generations:
    """A counter per row key, bumped on each committed change of the row."""

    def __init__(self, redis_url: str | None = None) -> None:
        self._local: dict[str, int] = {}
        self._lock = threading.Lock()
        self._redis: Any = None
        if redis_url:
            import redis  # optional dependency, present whenever REDIS_URL is used

            self._redis = redis.Redis.from_url(redis_url, socket_timeout=0.5)

    def current(self, rows: tuple[str, ...]) -> tuple[int, ...] | None:
        """The generations of ``rows`` (a table's ``"*"`` key counts for each of its rows);
        ``None`` when they cannot be known now (Redis unreachable): do not trust the cache."""
        keys = rows + tuple(f"{row.split(':', 1)[0]}:*" for row in rows)
        if self._redis is None:
            return tuple(self._local.get(key, 0) for key in keys)
        try:
            values = self._redis.mget([_REDIS_PREFIX + key for key in keys])
        except Exception:  # noqa: BLE001 - the database answers instead
            log.warning("cache generations unavailable in Redis", exc_info=True)
            return None
        return tuple(int(v or 0) for v in values)

    def bump(self, rows: Iterable[str]) -> None:
        keys = list(rows)
        with self._lock:
            for key in keys:
                self._local[key] = self._local.get(key, 0) + 1
        if self._redis is not None:
            try:
                pipe = self._redis.pipeline(transaction=False)
                for key in keys:
                    pipe.incr(_REDIS_PREFIX + key)
                pipe.execute()
            except Exception:  # noqa: BLE001 - entries elsewhere then lapse by their TTL
                log.warning("cache invalidation not shared through Redis", exc_info=True)


class ResponseCache:
    """A bounded LRU of rendered answers, checked against :class:`Generations`."""

    def __init__(
        self,
        *,
        ttl_seconds: int,
        stale_seconds: int,
        max_entries: int,
        generations: Generations,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl_seconds
        self.stale = stale_seconds
        self.max_entries = max_entries
        self.generations = generations
        self.clock = clock
        self._entries: OrderedDict[Hashable, Entry] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def cache_control(self) -> str:
        return f"public, max-age={self.ttl}, stale-while-revalidate={self.stale}"

    def invalidate(self, rows: Iterable[str]) -> None:
        """A write changed ``rows``: entries rendered from them are stale now."""
        self.generations.bump(rows)

    def get(self, key: Hashable) -> Entry | None:
        """The fresh entry of ``key``, or ``None``."""
        if self.ttl <= 0:
            return None
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry.fresh_until <= self.clock():
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
        if self.generations.current(entry.rows) != entry.generations:
            return None
        return entry

    def render(
        self,
        key: Hashable,
        rows: tuple[str, ...],
        render: Callable[[], tuple[bytes, str, dict[str, str]]],
        *,
        valid_for: float | None = None,
    ) -> Entry:
        """Render ``key`` (``render`` returns body, content type and extra headers) and keep it,
        stamped with the generations ``rows`` had before rendering began: a write committed
        meanwhile makes it stale at once. ``valid_for``: seconds it may be served at most (an
        offer about to expire), if less than the TTL."""
        before = self.generations.current(rows)
        body, content_type, headers = render()
        fresh = self.clock() + (self.ttl if valid_for is None else min(self.ttl, valid_for))
        entry = Entry(
            body=body,
            etag=strong_etag(body),
            content_type=content_type,
            headers=tuple(headers.items()),
            rows=rows,
            generations=before or (),
            fresh_until=fresh,
        )
        if self.ttl > 0 and before is not None:
            with self._lock:
                self._entries[key] = entry
                self._entries.move_to_end(key)
                while len(self._entries) > self.max_entries:
                    self._entries.popitem(last=False)
        return entry

    def respond(self, entry: Entry) -> Response:
        """The entry as a response, compressed as the client accepts (once per encoding), with
        the ETag of that form: 304 when the request's ``If-None-Match`` names it."""
        headers = {"Cache-Control": self.cache_control, **dict(entry.headers)}
        encoding = None
        if current_app.config.get("BUYBUTTON_COMPRESSION") and len(entry.body) >= MIN_BYTES:
            encoding = preferred_encoding(request)
        etag = entry.etag + (SUFFIX[encoding] if encoding else "")
        if etag in request.if_none_match:
            response = Response(status=304, headers=headers)
        elif encoding:
            response = Response(entry.body_in(encoding), 200, headers)
            response.headers["Content-Type"] = entry.content_type
            response.headers["Content-Encoding"] = encoding
        else:
            response = Response(entry.body, 200, headers, content_type=entry.content_type)
        if len(entry.body) >= MIN_BYTES:
            add_vary(response)
        response.set_etag(etag)
        return response

    def __len__(self) -> int:
        return len(self._entries)
