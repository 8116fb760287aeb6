"""The funnel rolled up per (merchant, UTC day, product, ref, currency): ``stats_rollups``.

Whatever the funnel counts is added here in the transaction that makes it happen: a beacon
(:func:`buybutton.funnel.record_beacon`), an order started, paid or refunded (the state machine
in :mod:`buybutton.orders`). So the stats of any period (:func:`buybutton.funnel.merchant_stats`)
sum a few rows per day, whatever the number of orders. Each addition is one upsert, so
concurrent transactions never lose a count nor collide.
"""

from __future__ import annotations

import functools

from sqlalchemy import Connection, bindparam
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import Insert as PostgresInsert
from sqlalchemy.dialects.sqlite import Insert as SQLiteInsert

from .store import before_commit
from .store.schema import stats_rollups

DAY = 86400
METRICS = ("impressions", "clicks", "orders", "paid_orders", "refunded_orders", "revenue")


def day_of(timestamp: int) -> int:
    """The UTC midnight (Unix seconds) of the day ``timestamp`` falls in."""
    return timestamp - timestamp % DAY


Key = tuple[str, int, str, str, str]  # merchant, day, product, ref, currency


def add(
    conn: Connection,
    *,
    merchant_id: str,
    product_id: str,
    ref: str | None,
    currency: str,
    at: int,
    **deltas: int,
) -> None:
    """Add ``deltas`` (names from :data:`METRICS`) to the row of the day of ``at``; ``currency``
    is ``""`` for the beacons, which carry no money.

    Inside a :meth:`~buybutton.store.Store.transaction` the additions are gathered and written
    right before it commits (:func:`~buybutton.store.before_commit`): many checkouts of one
    product add to one row, and each holds that row's lock for its commit only, not for the
    rest of its transaction."""
    unknown = set(deltas) - set(METRICS)
    if unknown:
        raise ValueError(f"not rolled-up metrics: {sorted(unknown)}")
    key: Key = (merchant_id, day_of(at), product_id, ref or "", currency)
    pending = before_commit(conn, "buybutton.rollups", _flush, dict)
    if pending is None:
        _write(conn, key, deltas)
        return
    row = pending.setdefault(key, {})
    for name, value in deltas.items():
        row[name] = row.get(name, 0) + value


def _flush(conn: Connection, pending: dict[Key, dict[str, int]]) -> None:
    for key in sorted(pending):  # one lock order for every transaction
        _write(conn, key, pending[key])


def _write(conn: Connection, key: Key, deltas: dict[str, int]) -> None:
    """One upsert adding ``deltas`` to the row of ``key``."""
    merchant_id, day, product_id, ref, currency = key
    conn.execute(
        _upsert(conn.dialect.name, frozenset(deltas)),
        {
            "merchant_id": merchant_id,
            "day": day,
            "product_id": product_id,
            "ref": ref,
            "currency": currency,
            **{name: deltas.get(name, 0) for name in METRICS},
        },
    )


@functools.cache
def _upsert(dialect: str, names: frozenset[str]) -> SQLiteInsert | PostgresInsert:
    """The upsert of one row adding the metrics ``names``, values bound at execution: built
    once per dialect and set of metrics (a checkout adds the same ones every time), as building
    the statement cost more than running it."""
    if dialect not in ("sqlite", "postgresql"):  # the two databases buybutton supports
        raise NotImplementedError(f"no upsert for {dialect}")
    insert = (sqlite.insert if dialect == "sqlite" else postgresql.insert)(stats_rollups)
    columns = ("merchant_id", "day", "product_id", "ref", "currency", *METRICS)
    return insert.values({name: bindparam(name) for name in columns}).on_conflict_do_update(
        index_elements=["merchant_id", "day", "product_id", "ref", "currency"],
        set_={name: stats_rollups.c[name] + insert.excluded[name] for name in sorted(names)},
    )
