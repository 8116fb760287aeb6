"""Digital goods: what a paid order entitles its shopper to, a download and a licence key.

A product may carry one file (:func:`buybutton.catalog.attach_file`, bytes in
:mod:`buybutton.storage`) and ``license_keys``. When an order is paid, :func:`grant` writes its
*entitlement* in the same transaction (called by :func:`buybutton.orders.mark_paid`, under the
order's row lock; ``order_id`` is unique, so duplicate payment events never make two): a licence
key if the product issues them, and a download count starting at zero.

The download link is ``/downloads/<token>``, the token signed for the order
(:meth:`~buybutton.tokens.TokenSigner.sign_download`). It works while the order is paid, until
``BUYBUTTON_DOWNLOAD_TTL_SECONDS`` after the payment, for ``BUYBUTTON_DOWNLOAD_LIMIT`` downloads
(:class:`DownloadPolicy`; an entitlement's own ``expires_at``/``downloads_allowed`` override
them when set). :func:`claim_download` counts a download with one conditional ``UPDATE``
(``downloads_used < allowed`` and the order still paid), so concurrent downloads can never go
past the count, on SQLite or PostgreSQL, and a refund stops the next download at once.

:func:`order_delivery` is what the order page and the receipt show: the link, what is left of
it, and the licence key. :func:`verify_license` answers ``GET /v1/licenses/{key}``.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Connection, exists, func, insert, select, update
from sqlalchemy.engine import Row

from .catalog import ProductFile, file_in_use, get_product
from .config import Settings
from .errors import BuyButtonError, ErrorCode, Forbidden, Gone, NotFound
from .storage import Storage
from .store import Store
from .store.schema import entitlements, orders
from .tokens import TokenSigner

#: Crockford's base32: no I, L, O or U, so a key read aloud or typed is not mistaken.
LICENSE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LICENSE_GROUPS, LICENSE_GROUP_SIZE = 5, 5  # 25 characters, 125 random bits
_LICENSE_LENGTH = LICENSE_GROUPS * LICENSE_GROUP_SIZE


def new_license_key() -> str:
    """A fresh random licence key: ``7K3QF-…``, five groups of five base32 characters."""
    chars = "".join(secrets.choice(LICENSE_ALPHABET) for _ in range(_LICENSE_LENGTH))
    return "-".join(
        chars[i : i + LICENSE_GROUP_SIZE] for i in range(0, _LICENSE_LENGTH, LICENSE_GROUP_SIZE)
    )


def normalize_license_key(raw: object) -> str | None:
    """``raw`` as a licence key is stored (upper case, dashes between groups), forgiving what
    people type (lower case, spaces, missing dashes, O for 0, I and L for 1); ``None`` if it
    cannot be one."""
    if not isinstance(raw, str) or len(raw) > 64:
        return None
    chars = raw.upper().translate(str.maketrans("OIL", "011", " -"))
    if len(chars) != _LICENSE_LENGTH or any(ch not in LICENSE_ALPHABET for ch in chars):
        return None
    return "-".join(
        chars[i : i + LICENSE_GROUP_SIZE] for i in range(0, _LICENSE_LENGTH, LICENSE_GROUP_SIZE)
    )


@dataclass(frozen=True, slots=True)
class DownloadPolicy:
    """How long (``ttl_seconds`` after the payment) and how many times (``limit``) a paid
    order's file may be downloaded."""

    ttl_seconds: int = 7 * 86400
    limit: int = 5

    @classmethod
    def from_settings(cls, settings: Settings) -> DownloadPolicy:
        return cls(ttl_seconds=settings.download_ttl_seconds, limit=settings.download_limit)


@dataclass(frozen=True, slots=True)
class Entitlement:
    """What one paid order is entitled to. ``expires_at`` and ``downloads_allowed`` are the
    order's own (``None``: the server's :class:`DownloadPolicy`)."""

    order_id: str
    merchant_id: str
    product_id: str
    license_key: str | None
    downloads_used: int
    downloads_allowed: int | None
    expires_at: int | None
    last_download_at: int | None
    created_at: int

    def allowed(self, policy: DownloadPolicy) -> int:
        return self.downloads_allowed if self.downloads_allowed is not None else policy.limit

    def expiry(self, policy: DownloadPolicy) -> int:
        return (
            self.expires_at
            if self.expires_at is not None
            else (self.created_at + policy.ttl_seconds)
        )


def _entitlement(row: Row[Any]) -> Entitlement:
    return Entitlement(**{name: getattr(row, name) for name in Entitlement.__slots__})


def _now(now: float | None) -> int:
    return int(now if now is not None else time.time())


def get_entitlement(conn: Connection, order_id: str) -> Entitlement | None:
    """The entitlement of ``order_id``, or ``None`` (the order was never paid)."""
    row = conn.execute(select(entitlements).where(entitlements.c.order_id == order_id)).first()
    return _entitlement(row) if row is not None else None


def grant(
    conn: Connection,
    order_id: str,
    *,
    now: float | None = None,
    new_key: Callable[[], str] = new_license_key,
) -> Entitlement:
    """Give the paid order ``order_id`` its entitlement, once: a second call returns the first
    one unchanged. Call it inside the transaction that marks the order paid, which holds the
    order's row lock (so two payment events cannot both insert); the unique ``order_id`` is the
    last guard. The key comes from ``new_key`` if the product issues licence keys; the download
    window starts now (the payment)."""
    existing = get_entitlement(conn, order_id)
    if existing is not None:
        return existing
    order = conn.execute(
        select(orders.c.merchant_id, orders.c.product_id, orders.c.paid_at).where(
            orders.c.id == order_id
        )
    ).one()
    product = get_product(conn, order.product_id, include_deleted=True)
    conn.execute(
        insert(entitlements).values(
            order_id=order_id,
            merchant_id=order.merchant_id,
            product_id=order.product_id,
            license_key=new_key() if product.license_keys else None,
            downloads_used=0,
            created_at=order.paid_at if order.paid_at is not None else _now(now),
        )
    )
    granted = get_entitlement(conn, order_id)
    assert granted is not None
    return granted


# -- downloads ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Download:
    """A download :func:`check_download` allows: the file, and what is left once it is done."""

    order_id: str
    file: ProductFile
    downloads_left: int
    expires_at: int


def _refusal(status: str, entitlement: Entitlement | None) -> BuyButtonError | None:
    if status == "refunded":
        return Gone(
            "This order was refunded, so its download is no longer available.",
            code=ErrorCode.DOWNLOAD_REFUNDED,
        )
    if status != "paid" or entitlement is None:
        return Forbidden(
            "This order is not paid yet: the download opens once the payment is confirmed.",
            code=ErrorCode.DOWNLOAD_NOT_PAID,
        )
    return None


def check_download(
    conn: Connection, order_id: str, policy: DownloadPolicy, *, now: float | None = None
) -> Download:
    """Whether the order's file may be downloaded now, without counting a download (for
    ``HEAD``, and to learn the file's size before a ``Range`` is read).

    Raises :class:`NotFound` (``download_not_found``) for an unknown order, :class:`Forbidden`
    (``download_not_paid``) before payment, :class:`Gone` with ``download_refunded``,
    ``download_expired`` or ``download_limit_reached``, and :class:`NotFound`
    (``file_not_found``) when the product has no file (any more).
    """
    order = conn.execute(
        select(orders.c.status, orders.c.product_id).where(orders.c.id == order_id)
    ).first()
    if order is None:
        raise NotFound("This download link is not valid.", code=ErrorCode.DOWNLOAD_NOT_FOUND)
    entitlement = get_entitlement(conn, order_id)
    refusal = _refusal(order.status, entitlement)
    if refusal is not None:
        raise refusal
    assert entitlement is not None
    file = get_product(conn, order.product_id, include_deleted=True).file
    if file is None:
        raise NotFound(
            "The seller has removed this product's file; contact them for a copy.",
            code=ErrorCode.FILE_NOT_FOUND,
        )
    expiry = entitlement.expiry(policy)
    if _now(now) >= expiry:
        raise Gone("This download link has expired.", code=ErrorCode.DOWNLOAD_EXPIRED)
    left = entitlement.allowed(policy) - entitlement.downloads_used
    if left <= 0:
        raise Gone(
            "This download link was used as many times as it allows.",
            code=ErrorCode.DOWNLOAD_LIMIT_REACHED,
        )
    return Download(order_id=order_id, file=file, downloads_left=left, expires_at=expiry)


def claim_download(
    conn: Connection, order_id: str, policy: DownloadPolicy, *, now: float | None = None
) -> Download:
    """Count one download of the order's file, if it is allowed (see :func:`check_download`
    for the errors); returns it with ``downloads_left`` after this one.

    One conditional ``UPDATE`` decides: it counts only while fewer than the allowed downloads
    were used, the link has not expired and the order is still paid. Of concurrent downloads at
    the last count exactly one wins; the others are refused ``download_limit_reached``.
    """
    download = check_download(conn, order_id, policy, now=now)
    stamp = _now(now)
    counted = conn.execute(
        update(entitlements)
        .where(
            entitlements.c.order_id == order_id,
            entitlements.c.downloads_used
            < func.coalesce(entitlements.c.downloads_allowed, policy.limit),
            func.coalesce(entitlements.c.expires_at, entitlements.c.created_at + policy.ttl_seconds)
            > stamp,
            exists().where(orders.c.id == order_id, orders.c.status == "paid"),
        )
        .values(downloads_used=entitlements.c.downloads_used + 1, last_download_at=stamp)
    )
    if counted.rowcount != 1:
        # Something changed since the check (another download took the last count, a refund
        # landed): the check says what, now.
        check_download(conn, order_id, policy, now=now)
        raise Gone(
            "This download link was used as many times as it allows.",
            code=ErrorCode.DOWNLOAD_LIMIT_REACHED,
        )
    entitlement = get_entitlement(conn, order_id)
    assert entitlement is not None
    return Download(
        order_id=order_id,
        file=download.file,
        downloads_left=max(0, entitlement.allowed(policy) - entitlement.downloads_used),
        expires_at=download.expires_at,
    )


# -- what the order page and the receipt show ------------------------------------------------


class DownloadLinks(Protocol):
    """Builds the absolute URL of a download token (the server's routes; the core knows none)."""

    def download_url(self, token: str) -> str: ...


@dataclass(frozen=True, slots=True)
class Delivery:
    """What a paid order delivers, for the order page and the receipt.

    ``file`` and ``download_url`` are ``None`` when the product has no file; ``license_key``
    when it issues none. ``status`` says whether the link works now: ``"available"``, or why
    not: ``"expired"``, ``"limit_reached"``, ``"refunded"``.
    """

    order_id: str
    status: str
    file: ProductFile | None
    download_url: str | None
    downloads_left: int
    downloads_allowed: int
    expires_at: int
    license_key: str | None

    @property
    def available(self) -> bool:
        return self.status == "available"


def order_delivery(
    conn: Connection,
    order_id: str,
    *,
    signer: TokenSigner,
    links: DownloadLinks,
    policy: DownloadPolicy,
    now: float | None = None,
) -> Delivery | None:
    """The download link and licence key of the order ``order_id``, or ``None`` when it has
    nothing to deliver: not paid (never was), or its product has neither a file nor a licence
    key. A refunded order still answers (``status="refunded"``), so a page can say the download
    was withdrawn; its licence key is then not shown."""
    order = conn.execute(
        select(orders.c.status, orders.c.product_id).where(orders.c.id == order_id)
    ).first()
    entitlement = get_entitlement(conn, order_id)
    if order is None or entitlement is None or order.status not in ("paid", "refunded"):
        return None
    file = get_product(conn, order.product_id, include_deleted=True).file
    if file is None and entitlement.license_key is None:
        return None
    allowed, expiry = entitlement.allowed(policy), entitlement.expiry(policy)
    left = max(0, allowed - entitlement.downloads_used)
    if order.status == "refunded":
        status = "refunded"
    elif _now(now) >= expiry:
        status = "expired"
    elif left == 0:
        status = "limit_reached"
    else:
        status = "available"
    return Delivery(
        order_id=order_id,
        status=status,
        file=file,
        download_url=links.download_url(signer.sign_download(order_id)) if file else None,
        downloads_left=left,
        downloads_allowed=allowed,
        expires_at=expiry,
        license_key=entitlement.license_key if order.status == "paid" else None,
    )


# -- licence keys ------------------------------------------------------------------------------


def verify_license(conn: Connection, merchant_id: str, raw_key: object) -> dict[str, Any]:
    """The licence ``raw_key`` of ``merchant_id`` as the API shows it: ``valid`` while its order
    is paid, ``status`` the order's (``"paid"`` or ``"refunded"``), with the order and product.
    :class:`NotFound` (``license_not_found``) for a key that is not the merchant's, or none."""
    key = normalize_license_key(raw_key)
    row = None
    if key is not None:
        row = conn.execute(
            select(
                entitlements.c.license_key,
                entitlements.c.order_id,
                entitlements.c.product_id,
                entitlements.c.created_at,
                orders.c.status,
            )
            .join(orders, orders.c.id == entitlements.c.order_id)
            .where(entitlements.c.license_key == key, entitlements.c.merchant_id == merchant_id)
        ).first()
    if row is None:
        raise NotFound(
            "No such licence key for this merchant.", code=ErrorCode.LICENSE_NOT_FOUND, param="key"
        )
    return {
        "object": "license",
        "key": row.license_key,
        "valid": row.status == "paid",
        "status": row.status,
        "order_id": row.order_id,
        "product_id": row.product_id,
        "created_at": row.created_at,
    }


def forget_file(store: Store, storage: Storage, key: str | None) -> None:
    """Remove a stored file (``key``) that no product has any more, after it was replaced or
    detached: files are content-addressed, so another product may share it and keep it."""
    if key is None:
        return
    with store.read() as conn:
        if file_in_use(conn, key):
            return
    storage.delete(key)
