"""The merchant's analytics over a chosen period: a thin layer over the stats report.

The funnel, revenue per currency, per product and per campaign tag are exactly what
:func:`buybutton.funnel.merchant_stats` (``GET /v1/stats``) answers for the period, never a
second computation; this module only adds the period's bounds and the day-by-day series of paid
orders and revenue the dashboard's chart draws, summed from the same rolled-up counters (each thing
on the UTC day it happened: a payment on the day it was paid, a refund on the day it was refunded),
so the days add up to the period's totals.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, func, select

from . import funnel
from .errors import InvalidRequest
from .store.schema import stats_rollups

DAY = 86_400
#: The longest span the daily series covers; a longer period's series keeps its last days.
MAX_SERIES_DAYS = 366
#: The periods a merchant picks from, by name, in days (``None``: since the first order).
PRESETS: dict[str, int | None] = {"7d": 7, "30d": 30, "90d": 90, "365d": 365, "all": None}


@dataclass(frozen=True, slots=True)
class Period:
    """The UTC days from ``start`` (inclusive) to ``end`` (exclusive), Unix seconds at 00:00
    UTC; ``start`` ``None`` means since the first order."""

    start: int | None
    end: int

    @property
    def days(self) -> int | None:
        return None if self.start is None else (self.end - self.start) // DAY


@dataclass(frozen=True, slots=True)
class DailySales:
    """One day (``day``: its 00:00 UTC): orders paid and the revenue per currency they brought."""

    day: int
    paid_orders: int
    revenue: dict[str, int]


@dataclass(frozen=True, slots=True)
class Report:
    """``stats`` is what ``GET /v1/stats`` answers for ``period``; ``daily`` covers the period
    day by day (its last :data:`MAX_SERIES_DAYS` days), with days without sales."""

    period: Period
    stats: dict[str, Any]
    daily: list[DailySales]

    @property
    def currencies(self) -> list[str]:
        """The currencies of the period's revenue, largest first."""
        revenue: dict[str, int] = self.stats["totals"]["revenue"]
        return sorted(revenue, key=lambda code: (-revenue[code], code))

    @property
    def series_truncated(self) -> bool:
        days = self.period.days
        return days is None or days > len(self.daily)


def _midnight(stamp: float) -> int:
    return int(stamp) // DAY * DAY


def preset_period(name: str, *, now: float | None = None) -> Period:
    """The period a preset names (``"30d"``: the last 30 days, today included; ``"all"``).
    :class:`InvalidRequest` naming ``period`` for an unknown name."""
    if name not in PRESETS:
        raise InvalidRequest(f"period must be one of {', '.join(PRESETS)}.", param="period")
    end = _midnight(time.time() if now is None else now) + DAY
    days = PRESETS[name]
    return Period(start=None if days is None else end - days * DAY, end=end)


def custom_period(first_day: int, last_day: int) -> Period:
    """From ``first_day`` to ``last_day`` (Unix seconds within those UTC days), both included.
    :class:`InvalidRequest` when the last day comes before the first."""
    start, end = _midnight(first_day), _midnight(last_day) + DAY
    if end <= start:
        raise InvalidRequest("The last day must not come before the first.", param="until")
    return Period(start=start, end=end)


def report(conn: Connection, merchant_id: str, period: Period) -> Report:
    """The merchant's :class:`Report` for ``period``."""
    stats = funnel.merchant_stats(conn, merchant_id, period=stats_period(period))
    return Report(period=period, stats=stats, daily=daily_sales(conn, merchant_id, period))


def stats_period(period: Period) -> funnel.Period:
    """``period`` as the stats' :class:`~buybutton.funnel.Period` (whole UTC days, both ends
    included), so the dashboard asks ``merchant_stats`` exactly what ``GET /v1/stats?from=&to=``
    asks."""
    last = datetime.fromtimestamp(period.end - DAY, tz=UTC).date()
    first = None if period.start is None else datetime.fromtimestamp(period.start, tz=UTC).date()
    return funnel.Period(start=first, end=last)


def daily_sales(conn: Connection, merchant_id: str, period: Period) -> list[DailySales]:
    """Paid orders and revenue per UTC day of ``period``, every day present, the last
    :data:`MAX_SERIES_DAYS` at most: sums of the same rolled-up counters the stats add up
    (:mod:`buybutton.rollups`), so the days add up to the period's totals. One grouped query."""
    first = period.end - MAX_SERIES_DAYS * DAY
    if period.start is not None:
        first = max(first, period.start)
    grouped = conn.execute(
        select(
            stats_rollups.c.day,
            stats_rollups.c.currency,
            func.coalesce(func.sum(stats_rollups.c.paid_orders), 0),
            func.coalesce(func.sum(stats_rollups.c.revenue), 0),
        )
        .where(
            stats_rollups.c.merchant_id == merchant_id,
            stats_rollups.c.day >= first,
            stats_rollups.c.day < period.end,
        )
        .group_by(stats_rollups.c.day, stats_rollups.c.currency)
    ).all()
    # (day's midnight, currency, paid orders, revenue), typed.
    rows = [(int(r[0]), str(r[1] or ""), int(r[2]), int(r[3])) for r in grouped]
    if period.start is None and rows:
        first = max(first, min(row[0] for row in rows))
    elif period.start is None:
        first = period.end - DAY
    counts: dict[int, int] = {}
    revenue: dict[int, dict[str, int]] = {}
    for stamp, currency, paid, money in rows:
        counts[stamp] = counts.get(stamp, 0) + paid
        if currency and (paid or money):
            day_money = revenue.setdefault(stamp, {})
            day_money[currency] = day_money.get(currency, 0) + money
    return [
        DailySales(day=stamp, paid_orders=counts.get(stamp, 0), revenue=revenue.get(stamp, {}))
        for stamp in range(_midnight(first), period.end, DAY)
    ]
