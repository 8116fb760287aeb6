"""The merchant's stats from rolled-up counters (issue 16): the same numbers as counting the
orders themselves, per period, ranked and paged, at a cost that does not follow the orders."""

from __future__ import annotations

import random
from datetime import date

import pytest
from sqlalchemy import func, select

from buybutton import funnel, orders
from buybutton.errors import InvalidRequest
from buybutton.funnel import Period
from buybutton.payments.base import ProviderEvent
from buybutton.store.schema import orders as orders_table
from tests.support.rollups_migration import check_rollups_are_backfilled
from tests.support.statements import counting

DAY = 86400
DAY1 = 1_796_083_200  # 2026-12-01 00:00 UTC


def start(store, signer, token, *, quantity=1, at):
    with store.transaction() as conn:
        return orders.create_order(
            conn, signer.verify_token(token), quantity, provider="sandbox", ttl_seconds=60, now=at
        )


def pay(store, order, at, event_id):
    return orders.apply_provider_event(
        store,
        "sandbox",
        ProviderEvent(
            id=event_id,
            kind="paid",
            type="test.paid",
            order_id=order.id,
            amount=order.amount,
            currency=order.currency,
        ),
        now=at,
    )


def refund(store, order, at, event_id):
    return orders.apply_provider_event(
        store,
        "sandbox",
        ProviderEvent(id=event_id, kind="refunded", type="test.refunded", order_id=order.id),
        now=at,
    )


def beacon(store, signer, token, kind, at):
    with store.transaction() as conn:
        funnel.record_beacon(conn, signer.verify_token(token), kind, clock=lambda: at)


def from_orders(store, merchant_id):
    """The all-time totals counted the slow way, straight from the orders table."""
    with store.read() as conn:
        rows = conn.execute(
            select(
                orders_table.c.status,
                orders_table.c.currency,
                func.count(),
                func.coalesce(func.sum(orders_table.c.amount_paid), 0),
            )
            .where(orders_table.c.merchant_id == merchant_id)
            .group_by(orders_table.c.status, orders_table.c.currency)
        ).all()
    total = {"orders": 0, "paid_orders": 0, "refunded_orders": 0, "revenue": {}}
    for status, currency, count, paid in rows:
        total["orders"] += count
        if status in ("paid", "refunded"):
            total["paid_orders"] += count
            total["revenue"].setdefault(currency, 0)
        if status == "refunded":
            total["refunded_orders"] += count
        if status == "paid":
            total["revenue"][currency] += int(paid)
    return total


def test_rollups_agree_with_counting_the_orders(store, signer, merchant, make_product, make_token):
    rng = random.Random(16)
    mug, tote = make_product(), make_product(name="Tote", amount=900, currency="usd")
    tokens = [make_token(mug, ref="insta"), make_token(mug), make_token(tote, ref="tiktok")]
    for n in range(60):
        at = DAY1 + rng.randrange(5) * DAY + n
        order = start(store, signer, rng.choice(tokens), quantity=rng.randint(1, 3), at=at)
        fate = rng.random()
        if fate < 0.5:
            pay(store, order, at + DAY, f"evt_p{n}")
        if fate < 0.2:
            refund(store, order, at + 2 * DAY, f"evt_r{n}")
        elif 0.9 < fate:
            refund(store, order, at, f"evt_r{n}")  # refunded before any payment was reported
    with store.read() as conn:
        stats = funnel.merchant_stats(conn, merchant.id)
    totals = {k: stats["totals"][k] for k in ("orders", "paid_orders", "refunded_orders")}
    assert {**totals, "revenue": stats["totals"]["revenue"]} == from_orders(store, merchant.id)
    assert sum(row["orders"] for row in stats["by_ref"]) == 60
    assert sum(row["orders"] for row in stats["by_product"]) == 60


def test_each_thing_counts_on_the_day_it_happened(
    store, signer, merchant, make_product, make_token
):
    token = make_token(make_product(), ref="insta")
    beacon(store, signer, token, "impression", DAY1 + 10)
    beacon(store, signer, token, "click", DAY1 + 20)
    order = start(store, signer, token, at=DAY1 + 30)
    pay(store, order, DAY1 + DAY + 5, "evt_paid")
    refund(store, order, DAY1 + 3 * DAY, "evt_refund")

    def totals(first: date | None, last: date | None):
        with store.read() as conn:
            return funnel.merchant_stats(conn, merchant.id, period=Period(first, last))["totals"]

    day1, day2, day4 = date(2026, 12, 1), date(2026, 12, 2), date(2026, 12, 4)
    first = totals(day1, day1)
    assert (first["impressions"], first["clicks"], first["orders"]) == (1, 1, 1)
    assert (first["paid_orders"], first["revenue"]) == (0, {})
    second = totals(day2, day2)
    assert (second["orders"], second["paid_orders"], second["revenue"]) == (0, 1, {"eur": 1200})
    assert totals(day4, day4)["revenue"] == {"eur": -1200}
    assert totals(day1, None)["revenue"] == {"eur": 0}
    assert totals(None, None)["refunded_orders"] == 1
    assert totals(date(2026, 12, 10), None)["orders"] == 0


def test_rankings_page_by_cursor_without_gaps_or_repeats(
    store, signer, merchant, make_product, make_token
):
    product = make_product()
    for n in range(7):
        token = make_token(product, ref=f"ref-{n}")
        for _ in range(n % 3 + 1):  # ties on purpose: 1, 2, 3, 1, 2, 3, 1 orders
            start(store, signer, token, at=DAY1)
    seen, cursor = [], None
    while True:
        with store.read() as conn:
            page = funnel.stats_page(
                conn, merchant.id, "ref", sort="orders", limit=3, starting_after=cursor
            )
        seen += [(row["ref"], row["orders"]) for row in page.rows]
        if not page.has_more:
            assert page.next_cursor is None
            break
        cursor = page.next_cursor
    assert seen == sorted(seen, key=lambda item: (-item[1], item[0]))
    assert sorted(ref for ref, _ in seen) == [f"ref-{n}" for n in range(7)]


def test_top_n_is_the_first_page_and_says_where_to_go_on(
    store, signer, merchant, make_product, make_token
):
    for n in range(3):
        start(store, signer, make_token(make_product(name=f"P{n}")), at=DAY1)
    with store.read() as conn:
        stats = funnel.merchant_stats(conn, merchant.id, limit=2)
        rest = funnel.stats_page(
            conn, merchant.id, "product", limit=2, starting_after=stats["by_product_next"]
        )
    assert len(stats["by_product"]) == 2 and stats["by_product_next"]
    assert len(rest.rows) == 1 and rest.next_cursor is None
    assert stats["by_ref_next"] is None and stats["by_ref"][0]["ref"] is None


def test_stats_statements_do_not_follow_the_orders(
    store, signer, merchant, make_product, make_token
):
    token = make_token(make_product(), ref="insta")
    counts = []
    for batch in (1, 30):
        for n in range(batch):
            start(store, signer, token, at=DAY1 + n)
        with counting(store.engine) as sent, store.read() as conn:
            stats = funnel.merchant_stats(conn, merchant.id)
        counts.append(len(sent.statements))
    assert stats["totals"]["orders"] == 31
    assert counts[0] == counts[1]


@pytest.mark.parametrize(
    "call, param",
    [
        (lambda conn, m: funnel.stats_page(conn, m, "day"), "group"),
        (lambda conn, m: funnel.stats_page(conn, m, "ref", sort="revenue"), "sort"),
        (lambda conn, m: funnel.stats_page(conn, m, "ref", limit=0), "limit"),
        (lambda conn, m: funnel.stats_page(conn, m, "ref", starting_after="!!"), "starting_after"),
        (lambda conn, m: Period(date(2026, 12, 2), date(2026, 12, 1)), "to"),
    ],
)
def test_bad_stats_arguments_name_the_field(store, merchant, call, param):
    with store.read() as conn, pytest.raises(InvalidRequest) as caught:
        call(conn, merchant.id)
    assert caught.value.param == param


def test_migration_0015_backfills_the_rollups_on_sqlite(tmp_path):
    check_rollups_are_backfilled(f"sqlite:///{tmp_path / 'old.sqlite3'}")


def test_a_rolled_back_transaction_counts_nothing(
    store, signer, merchant, make_product, make_token
):
    token = make_token(make_product())
    with pytest.raises(RuntimeError), store.transaction() as conn:
        orders.create_order(
            conn, signer.verify_token(token), 1, provider="sandbox", ttl_seconds=60, now=DAY1
        )
        raise RuntimeError("the checkout failed after its order")
    start(store, signer, token, at=DAY1)
    with store.read() as conn:
        assert funnel.merchant_stats(conn, merchant.id)["totals"]["orders"] == 1


def test_counts_outside_a_store_transaction_are_written_at_once(store, merchant, make_product):
    from buybutton import rollups

    product = make_product()
    with store.engine.begin() as conn:
        rollups.add(
            conn,
            merchant_id=merchant.id,
            product_id=product.id,
            ref=None,
            currency="",
            at=DAY1,
            clicks=2,
        )
    with store.read() as conn:
        assert funnel.merchant_stats(conn, merchant.id)["totals"]["clicks"] == 2
