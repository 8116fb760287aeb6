"""The conversion funnel: the widget's beacons, and the merchant's report per ref and product.

The widget sends a funnel beacon (``POST /v1/funnel``, formerly ``/v1/events``): an
``impression`` when a button is first seen and a ``click`` when a shopper opens the checkout.
Each beacon only names a product token; the server keeps counters per (merchant, product, ref)
in ``funnel_counters``, never a row per beacon, so nothing about a shopper is stored. Orders and
revenue come from the orders table, grouped the same way. (Not to be confused with the merchant
events of :mod:`buybutton.webhooks`.)
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, func, select
from sqlalchemy.dialects import postgresql, sqlite

from .errors import ErrorCode, InvalidRequest
from .store.schema import funnel_counters, orders, products
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


def merchant_stats(conn: Connection, merchant_id: str) -> dict[str, Any]:
    """The funnel of ``merchant_id``, per ref and per product, and in total.

    Each row has ``impressions``, ``clicks`` (widget counters), ``orders`` (all checkouts
    started), ``paid_orders`` (orders that were paid, refunded ones included), ``refunded_orders``,
    ``revenue`` (``{currency: minor units}``, paid minus refunded), ``click_through_rate``
    (clicks / impressions) and ``conversion_rate`` (paid orders / impressions); rates are ``None``
    without impressions. Orders from share links count too, so a rate can exceed 1.
    """
    by_ref: dict[str | None, dict[str, Any]] = defaultdict(_empty)
    by_product: dict[str, dict[str, Any]] = defaultdict(_empty)
    total = _empty()

    counters = conn.execute(
        select(
            funnel_counters.c.product_id,
            funnel_counters.c.ref,
            func.sum(funnel_counters.c.impressions),
            func.sum(funnel_counters.c.clicks),
        )
        .where(funnel_counters.c.merchant_id == merchant_id)
        .group_by(funnel_counters.c.product_id, funnel_counters.c.ref)
    )
    for product_id, ref, impressions, clicks in counters:
        for row in (by_ref[ref or None], by_product[product_id], total):
            row["impressions"] += int(impressions)
            row["clicks"] += int(clicks)

    sold = conn.execute(
        select(
            orders.c.product_id,
            orders.c.ref,
            orders.c.status,
            orders.c.currency,
            func.count(),
            func.coalesce(func.sum(orders.c.amount_paid), 0),
        )
        .where(orders.c.merchant_id == merchant_id)
        .group_by(orders.c.product_id, orders.c.ref, orders.c.status, orders.c.currency)
    )
    for product_id, ref, status, currency, count, paid in sold:
        for row in (by_ref[ref or None], by_product[product_id], total):
            row["orders"] += count
            if status in ("paid", "refunded"):
                row["paid_orders"] += count
            if status == "refunded":
                row["refunded_orders"] += count
            if status == "paid":  # refunded money is not revenue
                row["revenue"][currency] = row["revenue"].get(currency, 0) + int(paid)
            elif status == "refunded":
                row["revenue"].setdefault(currency, 0)

    names = dict(
        conn.execute(
            select(products.c.id, products.c.name).where(products.c.merchant_id == merchant_id)
        ).all()
    )
    return {
        "object": "stats",
        "totals": _rates(total),
        "by_ref": [
            _rates({"ref": ref, **row})
            for ref, row in sorted(
                by_ref.items(), key=lambda item: (item[0] is not None, item[0] or "")
            )
        ],
        "by_product": [
            _rates({"product_id": pid, "name": names.get(pid), **row})
            for pid, row in sorted(by_product.items())
        ],
    }
