"""Every filter of ``GET /v1/orders`` is served by an index, never a scan of the orders: the
database's own query plan says so (SQLite ``EXPLAIN QUERY PLAN``, PostgreSQL ``EXPLAIN
ANALYZE``). The filters match nothing, the cliff of issue 16: without its index, such a filter
reads every order of the merchant to return none."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Connection, select
from sqlalchemy.sql import Select

from buybutton import catalog, merchants, orders
from buybutton.store.schema import orders as orders_table
from tests.support.statements import counting

FILTERS = {
    "none": ({}, "merchant_id"),
    "status": ({"status": "canceled"}, "status"),
    "ref": ({"ref": "nobody-shared-this"}, "ref"),
    "product": ({"product_id": "prod_nope"}, "product_id"),
    "fulfillment": ({"fulfillment": "shipped"}, "fulfillment_status"),
    "created": ({"created_gte": 1_000, "created_lt": 2_000}, "created_at"),
    "future": ({"created_gte": 2_000_000_000}, "created_at"),
    "cursor": ({"starting_after": "ord_nope", "ref": "x"}, "ref"),
}


def _plan_sqlite(conn: Connection, sql: str, params: Any) -> list[str]:
    rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params).all()
    return [row[-1] for row in rows]


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", ()):
        yield from _nodes(child)


def _plan_postgres(conn: Connection, sql: str, params: Any) -> list[dict[str, Any]]:
    # On a nearly empty table a sequential scan is cheapest; forbid it, so that what remains
    # is a scan only when no index can serve the filter.
    conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
    raw = conn.exec_driver_sql(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", params).scalar_one()
    plan = raw if isinstance(raw, list) else json.loads(raw)
    return list(_nodes(plan[0]["Plan"]))


def _orders_statement(store, merchant_id: str, **filters: Any) -> tuple[str, Any]:
    """The SQL (and its parameters) that :func:`orders.list_orders` sends for ``filters``."""
    with counting(store.engine) as sent, store.read() as conn:
        orders.list_orders(conn, merchant_id, **filters)
    return sent.executed[-1]


ROWS = 5_000
PAGE = 20  # list_orders' default limit


@pytest.fixture
def many_orders(store, merchant, make_product):
    """``ROWS`` orders of five merchants (the test's and four others) over many days, refs and
    statuses, and fresh planner statistics: the plans are those a real server's data gets, not
    an empty table's."""
    product = make_product()
    shops = [(merchant.id, product.id)]
    with store.transaction() as conn:
        for n in range(4):
            other, _ = merchants.create_merchant(conn, f"Other {n}")
            item = catalog.create_product(
                conn, other.id, {"name": "Cup", "amount": 900, "currency": "eur"}
            )
            shops.append((other.id, item.id))
    rows = [
        {
            "id": f"ord_plan{n:06d}",
            "merchant_id": shops[0 if n % 3 == 0 else 1 + n % 4][0],
            "product_id": shops[0 if n % 3 == 0 else 1 + n % 4][1],
            "quantity": 1,
            "unit_amount": 1200,
            "amount": 1200,
            "currency": "eur",
            "status": ("paid", "expired", "pending", "refunded")[n % 4],
            "ref": f"ref-{n % 47}",
            "stock_reserved": False,
            "provider": "sandbox",
            "created_at": 1_000_000 + n * 600,
            "updated_at": 1_000_000 + n * 600,
            "expires_at": 1_001_800 + n * 600,
        }
        for n in range(ROWS)
    ]
    with store.transaction() as conn:
        conn.execute(orders_table.insert(), rows)
    with store.transaction() as conn:
        conn.exec_driver_sql("ANALYZE")
    return product


@pytest.mark.parametrize("name", FILTERS)
def test_every_orders_filter_is_served_by_an_index(store, merchant, many_orders, name):
    filters, column = FILTERS[name]
    sql, params = _orders_statement(store, merchant.id, **filters)
    with store.read() as conn:
        if store.dialect == "sqlite":
            plan = _plan_sqlite(conn, sql, params)
            on_orders = [step for step in plan if " orders" in f" {step}"]
            assert on_orders and all(step.startswith("SEARCH") for step in on_orders), plan
            assert any(f"{column}=" in s or f"{column}>" in s for s in on_orders), plan
        else:
            nodes = [n for n in _plan_postgres(conn, sql, params) if n.get("Relation Name")]
            shown = [(n["Node Type"], n.get("Index Name"), n.get("Filter")) for n in nodes]
            assert not [n for n in nodes if n["Node Type"] == "Seq Scan"], shown
            # Read what the page needs, not the merchant's orders: a walk of an index that
            # filters only a few rows out per row kept is fine, a filter matching nothing
            # read through another index (the cliff of issue 16) is not.
            removed = sum(n.get("Rows Removed by Filter", 0) for n in nodes)
            assert removed <= 4 * (PAGE + 1), shown
            if name != "none":
                conditions = " ".join(n.get("Index Cond", "") for n in nodes)
                assert column in conditions, shown


def test_the_plan_test_sees_a_scan_where_no_index_serves(store, merchant):
    """The check above would catch a missing index: filtering on an unindexed column scans."""
    query: Select = select(orders_table).where(orders_table.c.flag == "oversold")
    with store.read() as conn:
        sql = str(query.compile(conn, compile_kwargs={"literal_binds": True}))
        if store.dialect == "sqlite":
            plan = _plan_sqlite(conn, sql, ())
            assert any(step.startswith("SCAN") for step in plan), plan
        else:
            nodes = _plan_postgres(conn, sql, {})
            assert any(n["Node Type"] == "Seq Scan" for n in nodes), nodes
