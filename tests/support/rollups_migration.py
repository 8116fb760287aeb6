"""Migration 0015 backfills the stats rollups from the orders and funnel counters, checked on
SQLite by the core tests and on PostgreSQL by the PostgreSQL tests."""

from __future__ import annotations

from datetime import date

from sqlalchemy import text

from buybutton import funnel
from buybutton.funnel import Period
from buybutton.store import Store

DAY = 86400
DAY1 = 1_796_083_200  # 2026-12-01 00:00 UTC


def check_rollups_are_backfilled(url: str) -> None:
    """From 0011 (orders and funnel counters, no rollups) to head: the stats that the orders
    and counters held before are those the rollups give after."""
    store = Store(url)
    try:
        store.upgrade("0011_funnel_events")
        with store.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO merchants (id, name, api_key_hash, api_key_last4, created_at) "
                    "VALUES ('mch_1', 'Shop', 'h', 'abcd', 1)"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO products (id, merchant_id, name, description, amount, currency,"
                    " active, allow_promotion_codes, token_generation, created_at, updated_at) "
                    "VALUES ('prod_1', 'mch_1', 'Mug', '', 1200, 'eur', true, false, 1, 1, 1)"
                )
            )
            for n, (status, ref, paid) in enumerate(
                [("paid", "insta", 1200), ("refunded", "insta", 1200), ("pending", None, None)]
                + [("expired", "insta", None), ("paid", None, 2400)]
            ):
                conn.execute(
                    text(
                        "INSERT INTO orders (id, merchant_id, product_id, quantity, unit_amount,"
                        " amount, currency, status, ref, stock_reserved, provider, amount_paid,"
                        " created_at, updated_at, paid_at, expires_at) VALUES (:id, 'mch_1',"
                        " 'prod_1', 1, 1200, 1200, 'eur', :status, :ref, false, 'sandbox',"
                        " :paid, :at, :later, :paid_at, :at)"
                    ),
                    {
                        "id": f"ord_{n}",
                        "status": status,
                        "ref": ref,
                        "paid": paid,
                        "at": DAY1 + n,
                        "later": DAY1 + 2 * DAY,
                        "paid_at": DAY1 + DAY if paid else None,
                    },
                )
            conn.execute(
                text(
                    "INSERT INTO funnel_counters (merchant_id, product_id, ref, impressions, "
                    "clicks, updated_at) VALUES ('mch_1', 'prod_1', 'insta', 9, 4, :at)"
                ),
                {"at": DAY1 + 5},
            )
        store.upgrade()
        with store.read() as conn:
            stats = funnel.merchant_stats(conn, "mch_1")
            tuesday = funnel.merchant_stats(conn, "mch_1", period=Period(date(2026, 12, 2)))
        insta = next(row for row in stats["by_ref"] if row["ref"] == "insta")
        assert (insta["impressions"], insta["clicks"], insta["orders"]) == (9, 4, 3)
        assert (insta["paid_orders"], insta["refunded_orders"], insta["revenue"]) == (
            2,
            1,
            {"eur": 1200},
        )
        totals = stats["totals"]
        assert (totals["orders"], totals["paid_orders"], totals["revenue"]) == (
            5,
            3,
            {"eur": 3600},
        )
        assert tuesday["totals"]["orders"] == 0 and tuesday["totals"]["paid_orders"] == 3
    finally:
        store.dispose()
