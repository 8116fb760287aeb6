"""Money, dates and times as the dashboard shows them, in the merchant's language (Babel).

Times are shown in UTC, and say so: the server does not know the merchant's time zone, and the
Analytics days are UTC days too.
"""

from __future__ import annotations

import datetime as dt

from babel.dates import format_date

from buybutton.money import Money

from .i18n import dashboard_language


def format_money(amount: int, currency: str) -> str:
    """``amount`` minor units of ``currency`` for people: ``€12.00`` (en), ``12,00 €`` (fr)."""
    return Money(amount, currency).format(dashboard_language())


def utc_midnight(day: dt.date) -> int:
    """The Unix time at which ``day`` begins in UTC (the dashboard's days are UTC days)."""
    return int(dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC).timestamp())


def _utc(stamp: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(stamp, dt.UTC)


def format_time(stamp: int) -> str:
    """A moment: ``Nov 10, 2025, 14:05 UTC``."""
    moment, locale = _utc(stamp), dashboard_language()
    return f"{format_date(moment, 'medium', locale=locale)}, {moment:%H:%M} UTC"


def format_day(stamp: int) -> str:
    """A day: ``Nov 10, 2025``."""
    return format_date(_utc(stamp), "medium", locale=dashboard_language())


def format_short_day(stamp: int) -> str:
    """A day in a chart's axis: ``Nov 10``."""
    return format_date(_utc(stamp), "MMM d", locale=dashboard_language())
