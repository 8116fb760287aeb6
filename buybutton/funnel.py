"""The conversion funnel: the widget's beacons, and the merchant's report per ref and product.

The widget sends a funnel beacon (``POST /v1/funnel``, formerly ``/v1/events``): an
``impression`` when a button is first seen and a ``click`` when a shopper opens the checkout.
Each beacon only names a product token; the server keeps counters per (merchant, product, ref)
in ``funnel_counters``, never a row per beacon, so nothing about a shopper is stored. Orders and
revenue are counted as orders move (:mod:`buybutton.rollups`), per day, grouped the same way. (Not to be confused with the merchant
events of :mod:`buybutton.webhooks`.)
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, func, or_, select, true
from sqlalchemy.dialects import postgresql, sqlite

from . import rollups
from .errors import ErrorCode, InvalidRequest
from .rollups import METRICS
from .store.schema import funnel_counters, products, stats_rollups
from .tokens import TokenClaims

BEACON_TYPES = ("impression", "click")
_COUNTER = {"impression": "impressions", "click": "clicks"}


def validate_beacon(data: object) -> tuple[str, object]:
    """``(type, token)`` of a funnel beacon's body ``{"type": …, "token": …}``.

    Raises :class:`InvalidRequest` naming the bad field. The token itself is checked by the
    caller with :meth:`~buybutton.tokens.TokenSigner.verify_token`.
    """
    if not isinstance(data, dict):
        raise InvalidRequest("The beacon must be a JSON object.", code=ErrorCode.INVALID_JSON)
    kind = data.get("type")
    if kind not in BEACON_TYPES:
        raise InvalidRequest(f"type must be one of: {', '.join(BEACON_TYPES)}.", param="type")
    return kind, data.get("token")


def record_beacon(
    conn: Connection, claims: TokenClaims, kind: str, *, clock: Callable[[], float] = time.time
) -> None:
    """Add one ``kind`` beacon (``impression`` or ``click``) to the counters of ``claims``' offer.

    One upsert, so concurrent beacons from many buttons never lose a count nor collide.
    """
    column = _COUNTER[kind]
    now = int(clock())
    values = {
        "merchant_id": claims.merchant_id,
        "product_id": claims.product_id,
        "ref": claims.ref or "",
        "impressions": 0,
        "clicks": 0,
        "updated_at": now,
    }
    values[column] = 1
    dialect = conn.dialect.name
    if dialect not in ("sqlite", "postgresql"):  # the two databases buybutton supports
        raise NotImplementedError(f"no upsert for {dialect}")
    insert = (sqlite.insert if dialect == "sqlite" else postgresql.insert)(funnel_counters)
    conn.execute(
        insert.values(**values).on_conflict_do_update(
            index_elements=["merchant_id", "product_id", "ref"],
            set_={column: funnel_counters.c[column] + 1, "updated_at": now},
        )
    )
    rollups.add(
        conn,
        merchant_id=claims.merchant_id,
        product_id=claims.product_id,
        ref=claims.ref,
        currency="",
        at=now,
        **{column: 1},
    )


#: What the rows of :func:`merchant_stats` and :func:`stats_page` can be ranked by (descending).
SORTS = ("orders", "paid_orders", "refunded_orders", "impressions", "clicks")
#: Rows of each ranking :func:`merchant_stats` returns at most (the API's ``limit`` cap).
MAX_LIMIT = 100
GROUPS = ("ref", "product")


@dataclass(frozen=True, slots=True)
class Period:
    """The UTC days ``start``…``end`` (both included; ``None``: unbounded)."""

    start: date | None = None
    end: date | None = None

    def __post_init__(self) -> None:
        if self.start and self.end and self.end < self.start:
            raise InvalidRequest("to must be on or after from.", param="to")

    def where(self) -> ColumnElement[bool]:
        condition: ColumnElement[bool] = true()
        if self.start is not None:
            condition &= stats_rollups.c.day >= _midnight(self.start)
        if self.end is not None:
            condition &= stats_rollups.c.day <= _midnight(self.end)
        return condition

    def to_dict(self) -> dict[str, str | None]:
        return {
            "from": self.start.isoformat() if self.start else None,
            "to": self.end.isoformat() if self.end else None,
        }


def _midnight(day: date) -> int:
    """The day's UTC midnight, held within what the integer ``day`` column stores (no row lies
    beyond, so a far date selects the same rows)."""
    stamp = int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())
    return max(-(2**31), min(stamp, 2**31 - 1))


@dataclass(frozen=True, slots=True)
class StatsPage:
    """One page of a ranking: ``rows`` (dicts as in :func:`merchant_stats`), ``has_more``, and
    ``next_cursor`` (pass it as ``starting_after`` for the next page; ``None`` at the end)."""

    rows: list[dict[str, Any]]
    has_more: bool
    next_cursor: str | None


def _empty() -> dict[str, Any]:
    return {
        "impressions": 0,
        "clicks": 0,
        "orders": 0,
        "paid_orders": 0,
        "refunded_orders": 0,
        "revenue": {},
    }


def _rates(row: dict[str, Any]) -> dict[str, Any]:
    shown = row["impressions"]
    row["click_through_rate"] = round(row["clicks"] / shown, 4) if shown else None
    row["conversion_rate"] = round(row["paid_orders"] / shown, 4) if shown else None
    return row


def _sums() -> list[Any]:
    return [func.coalesce(func.sum(stats_rollups.c[name]), 0) for name in METRICS]


def _fold(row: dict[str, Any], currency: str, sums: Any) -> None:
    """Add one currency's sums to ``row``: the counts add up, the money stays per currency
    (a currency shows once something was paid or refunded in it)."""
    counts = dict(zip(METRICS, (int(v) for v in sums), strict=True))
    for name in METRICS[:-1]:
        row[name] += counts[name]
    if currency and (counts["paid_orders"] or counts["refunded_orders"] or counts["revenue"]):
        row["revenue"][currency] = row["revenue"].get(currency, 0) + counts["revenue"]


def _encode_cursor(value: int, key: str) -> str:
    raw = json.dumps([value, key], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[int, str]:
    try:
        value, key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if isinstance(value, int) and isinstance(key, str):
            return value, key
    except (ValueError, TypeError):
        pass
    raise InvalidRequest(
        "starting_after is not a cursor from an earlier page of these stats.",
        param="starting_after",
    )


def stats_page(
    conn: Connection,
    merchant_id: str,
    group: str,
    *,
    period: Period = Period(),
    sort: str = "orders",
    limit: int = 20,
    starting_after: str | None = None,
) -> StatsPage:
    """The merchant's funnel per ``group`` (``"ref"`` or ``"product"``) over ``period``, ranked
    by ``sort`` (one of :data:`SORTS`, most first; ties by ref or product id), ``limit`` rows
    after the cursor ``starting_after``. Two queries over the rolled-up counters: the page's
    keys, then their sums per currency. Raises :class:`InvalidRequest` naming the bad field."""
    if group not in GROUPS:
        raise InvalidRequest(f"group must be one of: {', '.join(GROUPS)}.", param="group")
    if sort not in SORTS:
        raise InvalidRequest(f"sort must be one of: {', '.join(SORTS)}.", param="sort")
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidRequest(f"limit must be an integer from 1 to {MAX_LIMIT}.", param="limit")
    key = stats_rollups.c.ref if group == "ref" else stats_rollups.c.product_id
    where = (stats_rollups.c.merchant_id == merchant_id) & period.where()
    metric = func.coalesce(func.sum(stats_rollups.c[sort]), 0)
    ranking = select(key, metric).where(where).group_by(key)
    if starting_after is not None:
        value, after = _decode_cursor(starting_after)
        ranking = ranking.having(or_(metric < value, and_(metric == value, key > after)))
    ranked = conn.execute(ranking.order_by(metric.desc(), key).limit(limit + 1)).all()
    has_more = len(ranked) > limit
    ranked = ranked[:limit]
    keys = [row[0] for row in ranked]
    rows: dict[str, dict[str, Any]] = {k: _empty() for k in keys}
    if keys:
        for k, currency, *sums in conn.execute(
            select(key, stats_rollups.c.currency, *_sums())
            .where(where & key.in_(keys))
            .group_by(key, stats_rollups.c.currency)
        ):
            _fold(rows[k], currency, sums)
    if group == "ref":
        out = [_rates({"ref": k or None, **rows[k]}) for k in keys]
    else:
        names: dict[str, str] = {
            pid: name
            for pid, name in conn.execute(
                select(products.c.id, products.c.name).where(products.c.id.in_(keys))
            )
        }
        out = [_rates({"product_id": k, "name": names.get(k), **rows[k]}) for k in keys]
    cursor = _encode_cursor(int(ranked[-1][1]), keys[-1]) if has_more else None
    return StatsPage(out, has_more, cursor)


def merchant_stats(
    conn: Connection,
    merchant_id: str,
    *,
    period: Period = Period(),
    sort: str = "orders",
    limit: int = MAX_LIMIT,
) -> dict[str, Any]:
    """The funnel of ``merchant_id`` over ``period``: in total, and the top ``limit`` refs and
    products by ``sort`` (:func:`stats_page` pages further). The one function behind
    ``GET /v1/stats`` and the dashboard, so both show the same numbers.

    Each row has ``impressions``, ``clicks`` (widget beacons), ``orders`` (checkouts started),
    ``paid_orders`` (payments received, refunded orders included), ``refunded_orders``,
    ``revenue`` (``{currency: minor units}``, paid minus refunded), ``click_through_rate``
    (clicks / impressions) and ``conversion_rate`` (paid orders / impressions); rates are ``None``
    without impressions. Each thing counts on the UTC day it happened (an order started on
    Monday and paid on Tuesday is Monday's order and Tuesday's payment). Orders from share
    links count too, so a rate can exceed 1. Sums of rolled-up counters
    (:mod:`buybutton.rollups`): the cost follows the days and the refs and products in the
    period, not the orders.
    """
    total = _empty()
    for currency, *sums in conn.execute(
        select(stats_rollups.c.currency, *_sums())
        .where((stats_rollups.c.merchant_id == merchant_id) & period.where())
        .group_by(stats_rollups.c.currency)
    ):
        _fold(total, currency, sums)
    refs = stats_page(conn, merchant_id, "ref", period=period, sort=sort, limit=limit)
    items = stats_page(conn, merchant_id, "product", period=period, sort=sort, limit=limit)
    return {
        "object": "stats",
        **period.to_dict(),
        "sort": sort,
        "totals": _rates(total),
        "by_ref": refs.rows,
        "by_ref_next": refs.next_cursor,
        "by_product": items.rows,
        "by_product_next": items.next_cursor,
    }
