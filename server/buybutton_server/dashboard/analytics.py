"""The dashboard's **Analytics** page: the funnel, revenue per currency, per product and per
campaign tag over a chosen period (:mod:`buybutton.analytics`, the very numbers of
``GET /v1/stats``), and the daily paid orders and revenue as server-drawn SVG charts, each with
its data table."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from babel.numbers import format_decimal, format_percent
from flask import render_template, request

from buybutton import analytics
from buybutton.errors import InvalidRequest
from buybutton.money import minor_digits

from ..runtime import runtime
from .blueprint import bp
from .charts import bar_chart
from .formatting import format_day, format_money, format_short_day, utc_midnight
from .i18n import add_translations, dashboard_language, gettext
from .sessions import current_merchant, login_required

DEFAULT_PERIOD = "30d"


def _period() -> tuple[analytics.Period, str, dict[str, str], dict[str, str]]:
    """The period the query string asks for: ``(period, preset name or "custom", the custom
    days as typed, errors by field)``. A bad choice falls back to the default, and says so."""
    errors: dict[str, str] = {}
    typed = {name: request.args.get(name, "").strip() for name in ("from", "to")}
    now = runtime().clock()
    if typed["from"] or typed["to"]:
        try:
            first = dt.date.fromisoformat(typed["from"] or typed["to"])
            last = dt.date.fromisoformat(typed["to"] or typed["from"])
        except ValueError:
            errors["from"] = gettext("Enter the days as YYYY-MM-DD.")
        else:
            try:
                period = analytics.custom_period(utc_midnight(first), utc_midnight(last))
            except InvalidRequest as error:
                errors["to"] = gettext(error.message)
            else:
                return period, "custom", typed, errors
    name = request.args.get("period", DEFAULT_PERIOD)
    try:
        return analytics.preset_period(name, now=now), name, typed, errors
    except InvalidRequest:
        errors["period"] = gettext("Choose one of the listed periods.")
        return analytics.preset_period(DEFAULT_PERIOD, now=now), DEFAULT_PERIOD, typed, errors


def _step_rate(part: int, whole: int) -> str | None:
    """``part`` as a share of ``whole`` in the page's language (``12.5%``, ``12,5 %``)."""
    return format_percent(part / whole, "#,##0.#%", locale=dashboard_language()) if whole else None


def _revenue(revenue: dict[str, int]) -> list[str]:
    return [format_money(amount, currency) for currency, amount in sorted(revenue.items())]


def _money_tick(currency: str, unit: int) -> Callable[[float], str]:
    """The value axis' labels of a revenue chart drawn in major units (``unit`` minor ones)."""

    def label(value: float) -> str:
        return format_money(round(value * unit), currency)

    return label


def _charts(report: analytics.Report) -> list[dict[str, Any]]:
    days = [format_short_day(d.day) for d in report.daily]
    long_days = [format_day(d.day) for d in report.daily]
    counts = [d.paid_orders for d in report.daily]
    charts = [
        {
            "id": "chart-paid-orders",
            "title": gettext("Paid orders per day"),
            "description": gettext(
                "%(count)s paid orders from %(first)s to %(last)s.",
                count=sum(counts),
                first=long_days[0],
                last=long_days[-1],
            ),
            "chart": bar_chart(counts, days, [str(c) for c in counts], integer=True),
            "rows": list(zip(long_days, [str(c) for c in counts], strict=True)),
            "value_heading": gettext("Paid orders"),
        }
    ]
    for currency in report.currencies:
        amounts = [d.revenue.get(currency, 0) for d in report.daily]
        labels = [format_money(a, currency) for a in amounts]
        unit = 10 ** minor_digits(currency)  # the axis counts whole euros, not cents
        charts.append(
            {
                "id": f"chart-revenue-{currency}",
                "title": gettext("Revenue per day (%(currency)s)", currency=currency.upper()),
                "description": gettext(
                    "%(amount)s from %(first)s to %(last)s.",
                    amount=format_money(sum(amounts), currency),
                    first=long_days[0],
                    last=long_days[-1],
                ),
                "chart": bar_chart(
                    [a / unit for a in amounts],
                    days,
                    labels,
                    format_tick=_money_tick(currency, unit),
                ),
                "rows": list(zip(long_days, labels, strict=True)),
                "value_heading": gettext("Revenue (%(currency)s)", currency=currency.upper()),
            }
        )
    return charts


@bp.get("/analytics", endpoint="analytics")
@login_required
def analytics_page() -> str:
    period, chosen, typed, errors = _period()
    with runtime().store.read() as conn:
        report = analytics.report(conn, current_merchant().id, period)
    totals = report.stats["totals"]
    locale = dashboard_language()
    funnel = [
        (gettext(label), format_decimal(totals[key], locale=locale), rate)
        for label, key, rate in (
            ("Impressions", "impressions", None),
            ("Clicks", "clicks", _step_rate(totals["clicks"], totals["impressions"])),
            ("Orders", "orders", _step_rate(totals["orders"], totals["clicks"])),
            ("Paid", "paid_orders", _step_rate(totals["paid_orders"], totals["orders"])),
        )
    ]
    return render_template(
        "dashboard/analytics.html",
        report=report,
        chosen=chosen,
        presets=list(analytics.PRESETS),
        typed=typed,
        errors=errors,
        funnel=funnel,
        totals=totals,
        revenue=_revenue(totals["revenue"]),
        by_product=[
            {**row, "revenue_text": _revenue(row["revenue"])} for row in report.stats["by_product"]
        ],
        by_ref=[
            {**row, "revenue_text": _revenue(row["revenue"])} for row in report.stats["by_ref"]
        ],
        charts=_charts(report),
        first_day=format_day(report.daily[0].day),
        last_day=format_day(report.daily[-1].day),
        bounded=period.start is not None,
    )


add_translations(
    "fr",
    {
        "Last 7 days": "7 derniers jours",
        "Last 30 days": "30 derniers jours",
        "Last 90 days": "90 derniers jours",
        "Last 12 months": "12 derniers mois",
        "All time": "Depuis le début",
        "Period": "Période",
        "Or from": "Ou du",
        "Show": "Afficher",
        "Choose the period": "Choisir la période",
        "From %(first)s to %(last)s": "Du %(first)s au %(last)s",
        "%(first)s to %(last)s": "du %(first)s au %(last)s",
        "(UTC days; each counts on its day: an order when placed, a payment when paid, a refund "
        "when refunded)": "(jours UTC ; chaque chose compte le jour où elle a eu lieu : une "
        "commande quand elle est passée, un paiement quand il est reçu, un remboursement quand il "
        "est fait)",
        "Funnel": "Entonnoir",
        "%(rate)s of the step before": "%(rate)s de l'étape précédente",
        "Revenue": "Chiffre d'affaires",
        "Money taken minus money refunded in the period (%(count)s refunded orders).": "Sommes "
        "encaissées moins sommes remboursées sur la période (%(count)s commandes remboursées).",
        "No paid order in this period.": "Aucune commande payée sur cette période.",
        "Day by day": "Jour par jour",
        "The charts show the last %(count)s days.": "Les graphiques montrent les %(count)s "
        "derniers jours.",
        "Per product": "Par produit",
        "Per campaign tag": "Par étiquette de campagne",
        "(no tag)": "(sans étiquette)",
        "Nothing yet.": "Rien pour l'instant.",
        "Refunded": "Remboursées",
        "Orders": "Commandes",
        "The table beside the chart lists every day.": "Le tableau à côté du graphique donne "
        "chaque jour.",
        "Day (UTC)": "Jour (UTC)",
        "Enter the days as YYYY-MM-DD.": "Saisissez les jours au format AAAA-MM-JJ.",
        "Choose one of the listed periods.": "Choisissez l'une des périodes proposées.",
        "Paid orders per day": "Commandes payées par jour",
        "%(count)s paid orders from %(first)s to %(last)s.": "%(count)s commandes payées du "
        "%(first)s au %(last)s.",
        "Paid orders": "Commandes payées",
        "Revenue per day (%(currency)s)": "Chiffre d'affaires par jour (%(currency)s)",
        "%(amount)s from %(first)s to %(last)s.": "%(amount)s du %(first)s au %(last)s.",
        "Revenue (%(currency)s)": "Chiffre d'affaires (%(currency)s)",
    },
)
