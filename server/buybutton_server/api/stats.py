"""``GET /v1/stats``: the merchant's conversion funnel in total and per ref and product, over a
period, ranked (Bearer auth); ``/v1/stats/refs`` and ``/v1/stats/products`` page the rankings.

The routes join the merchant API blueprint (:data:`.blueprint.bp`), which authenticates every
request.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from flask import g, request
from flask.typing import ResponseReturnValue

from buybutton import funnel
from buybutton.errors import InvalidRequest

from ..runtime import runtime
from ..validation import query_int, query_str
from .blueprint import bp

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _day(name: str) -> date | None:
    raw = request.args.get(name) or None
    if raw is None:
        return None
    try:
        if not _DATE.fullmatch(raw):
            raise ValueError(raw)
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidRequest(f"{name} must be a date, YYYY-MM-DD (UTC).", param=name) from None


def _query() -> dict[str, Any]:
    return {
        "period": funnel.Period(_day("from"), _day("to")),
        "sort": query_str("sort") or "orders",
    }


@bp.get("/stats")
def merchant_stats() -> ResponseReturnValue:
    """Totals and the top refs and products; never any shopper identity."""
    options = _query()
    limit = query_int("limit", 10, minimum=1, maximum=funnel.MAX_LIMIT)
    with runtime().store.read() as conn:
        return funnel.merchant_stats(conn, g.merchant.id, limit=limit, **options)


def _ranking(group: str, url: str) -> dict[str, Any]:
    options = _query()
    limit = query_int("limit", 20, minimum=1, maximum=funnel.MAX_LIMIT)
    with runtime().store.read() as conn:
        page = funnel.stats_page(
            conn,
            g.merchant.id,
            group,
            limit=limit,
            starting_after=query_str("starting_after", max_length=512),
            **options,
        )
    return {
        "object": "list",
        "url": url,
        "data": page.rows,
        "has_more": page.has_more,
        "next_cursor": page.next_cursor,
    }


@bp.get("/stats/refs")
def stats_by_ref() -> ResponseReturnValue:
    return _ranking("ref", "/v1/stats/refs")


@bp.get("/stats/products")
def stats_by_product() -> ResponseReturnValue:
    return _ranking("product", "/v1/stats/products")
