"""Idempotency keys of the merchant API: a retried request never acts twice.

A client sends ``Idempotency-Key: <key>`` with a mutating request. The first request with a key
*claims* it (a row, unique per merchant and key, marked in flight), runs, and *records* its
response; a later request with the same key and the same request gets that response replayed
instead of running again. The rules, after Stripe's:

- same merchant, same key, same request (method, path, body) -> the first response, replayed;
- same key, another request -> :class:`~buybutton.errors.Conflict` ``idempotency_key_reused``;
- same key while the first request is still running -> ``idempotency_key_in_use`` (retry later);
- a 5xx response is not recorded: the key is released, so a retry runs the request afresh;
- a key lives :data:`KEY_TTL_SECONDS` (24 h); after that it is free again.

A claim whose request died without recording or releasing (a killed worker) would block its key
for a day; after :data:`LOCK_TIMEOUT_SECONDS` such a claim may be taken over. (If that worker
died after its own transaction committed, the retry runs the request a second time: the price
of not holding a database transaction open across a request that may call a payment provider.)

The claim is its own short transaction, committed before the request runs, so a concurrent
request with the same key sees it at once (the unique constraint decides the race on SQLite and
PostgreSQL alike). Nothing here knows about HTTP frameworks: the server calls :func:`claim`
before a request and :func:`record` or :func:`release` after it.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from .errors import Conflict, ErrorCode, InvalidRequest
from .store import Store
from .store.schema import idempotency_keys

KEY_TTL_SECONDS = 24 * 3600
LOCK_TIMEOUT_SECONDS = 300
MAX_KEY_LENGTH = 255
HEADER = "Idempotency-Key"


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """A recorded response, to be replayed as it was."""

    status: int
    body: str
    content_type: str | None


@dataclass(frozen=True, slots=True)
class Claim:
    """A key this request holds; pass it to :func:`record` or :func:`release` when done."""

    pk: int
    merchant_id: str
    key: str
    claimed_at: int


def validate_idempotency_key(key: object) -> str:
    """``key`` if it is a usable ``Idempotency-Key``, else :class:`InvalidRequest`
    (``invalid_idempotency_key``) naming the header.

    The one rule for both uses of the header, the merchant API's and ``POST /v1/checkout``'s:
    1 to :data:`MAX_KEY_LENGTH` printable ASCII characters (space to ``~``), not all spaces. A
    UUID (the SDK's), the buy page's ``token_urlsafe`` keys and any key a client composes from
    letters, digits and punctuation pass; control characters and non-ASCII text do not.
    """
    if (
        not isinstance(key, str)
        or not key.strip(" ")
        or len(key) > MAX_KEY_LENGTH
        or not all(" " <= ch <= "~" for ch in key)
    ):
        raise InvalidRequest(
            f"The {HEADER} header must be 1 to {MAX_KEY_LENGTH} printable ASCII characters "
            "(no control characters).",
            code=ErrorCode.INVALID_IDEMPOTENCY_KEY,
            param=HEADER,
        )
    return key


def request_fingerprint(method: str, path: str, body: bytes) -> str:
    """A hash naming the request, so the same key with another request is caught.

    A JSON body is hashed in canonical form (sorted keys, no spaces): the same parameters sent
    by another client library, in another order, are the same request.
    """
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":"))
        body_part = canonical.encode()
    except (ValueError, UnicodeDecodeError):
        body_part = body
    digest = hashlib.sha256()
    for part in (method.upper().encode(), path.encode(), body_part):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def _stamp(now: float | None) -> int:
    return int(now if now is not None else time.time())


def claim(
    store: Store, merchant_id: str, key: str, fingerprint: str, *, now: float | None = None
) -> Claim | StoredResponse:
    """Claim ``key`` for a request of ``merchant_id`` whose fingerprint is ``fingerprint``.

    Returns a :class:`Claim` when the request should run, or the :class:`StoredResponse` to
    replay when this very request already ran. Raises :class:`Conflict` with code
    ``idempotency_key_reused`` (another request used the key) or ``idempotency_key_in_use``
    (the first request with this key has not finished).
    """
    key = validate_idempotency_key(key)
    stamp = _stamp(now)
    # Two rounds at most: the second after clearing a row that had expired or was abandoned.
    for _ in range(2):
        try:
            with store.transaction() as conn:
                inserted = conn.execute(
                    insert(idempotency_keys).values(
                        merchant_id=merchant_id,
                        idempotency_key=key,
                        fingerprint=fingerprint,
                        created_at=stamp,
                        locked_at=stamp,
                    )
                ).inserted_primary_key
            assert inserted is not None  # an INSERT always has one
            pk = inserted[0]
            return Claim(pk=pk, merchant_id=merchant_id, key=key, claimed_at=stamp)
        except IntegrityError:
            pass  # the key exists: decide from its row below
        with store.transaction() as conn:
            row = conn.execute(
                select(idempotency_keys).where(
                    idempotency_keys.c.merchant_id == merchant_id,
                    idempotency_keys.c.idempotency_key == key,
                )
            ).first()
            if row is None:
                continue  # released or purged in between: claim again
            if row.created_at <= stamp - KEY_TTL_SECONDS:
                conn.execute(delete(idempotency_keys).where(idempotency_keys.c.pk == row.pk))
                continue
            if row.fingerprint != fingerprint:
                raise Conflict(
                    f"This {HEADER} was already used with a different request; "
                    "use a new key for a new request.",
                    code=ErrorCode.IDEMPOTENCY_KEY_REUSED,
                    param=HEADER,
                )
            if row.response_status is not None:
                return StoredResponse(
                    status=row.response_status,
                    body=row.response_body or "",
                    content_type=row.response_content_type,
                )
            if row.locked_at > stamp - LOCK_TIMEOUT_SECONDS:
                raise Conflict(
                    f"A request with this {HEADER} is still being processed; retry later.",
                    code=ErrorCode.IDEMPOTENCY_KEY_IN_USE,
                    param=HEADER,
                )
            # Abandoned by a request that died: take it over, unless someone else just did.
            taken = conn.execute(
                update(idempotency_keys)
                .where(
                    idempotency_keys.c.pk == row.pk,
                    idempotency_keys.c.locked_at == row.locked_at,
                    idempotency_keys.c.response_status.is_(None),
                )
                .values(locked_at=stamp)
            ).rowcount
            if taken == 1:
                return Claim(pk=row.pk, merchant_id=merchant_id, key=key, claimed_at=stamp)
            raise Conflict(
                f"A request with this {HEADER} is still being processed; retry later.",
                code=ErrorCode.IDEMPOTENCY_KEY_IN_USE,
                param=HEADER,
            )
    raise Conflict(
        f"A request with this {HEADER} is still being processed; retry later.",
        code=ErrorCode.IDEMPOTENCY_KEY_IN_USE,
        param=HEADER,
    )


def record(store: Store, held: Claim, response: StoredResponse) -> None:
    """Store the response of the request holding ``held``; a 5xx releases the key instead."""
    if response.status >= 500:
        release(store, held)
        return
    with store.transaction() as conn:
        conn.execute(
            update(idempotency_keys)
            .where(
                idempotency_keys.c.pk == held.pk, idempotency_keys.c.locked_at == held.claimed_at
            )
            .values(
                response_status=response.status,
                response_body=response.body,
                response_content_type=response.content_type,
            )
        )


def release(store: Store, held: Claim) -> None:
    """Forget the claim ``held`` without a response, so the key can be used afresh."""
    with store.transaction() as conn:
        conn.execute(
            delete(idempotency_keys).where(
                idempotency_keys.c.pk == held.pk,
                idempotency_keys.c.locked_at == held.claimed_at,
                idempotency_keys.c.response_status.is_(None),
            )
        )


def purge_expired(store: Store, *, now: float | None = None) -> int:
    """Delete keys older than :data:`KEY_TTL_SECONDS`; returns how many went."""
    cutoff = _stamp(now) - KEY_TTL_SECONDS
    with store.transaction() as conn:
        return conn.execute(
            delete(idempotency_keys).where(idempotency_keys.c.created_at <= cutoff)
        ).rowcount
