"""buybutton.analytics: the period's report over the stats function, and the daily series; and
the order listing's filters the dashboard's Orders page uses."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import event

from buybutton import analytics, funnel, orders
from buybutton.errors import InvalidRequest, NotFound
from buybutton.payments.base import ProviderEvent
from buybutton.store.schema import orders as table
from tests.support.accounts import create_account

DAY = analytics.DAY
# 2025-11-10 00:00 UTC, a day boundary.
D0 = 1_762_732_800


def place(store, signer, make_token, product, *, at, ref=None, quantity=1, then=None):
    """An order placed at ``at``; ``then`` "paid" or "refunded" (after payment) moves it."""
    with store.transaction() as conn:
        order = orders.create_order(
            conn,
            signer.verify_token(make_token(product, ref=ref)),
            quantity,
            provider="sandbox",
            ttl_seconds=1800,
            now=at,
        )
    for kind in ("paid", "refunded")[: ("paid", "refunded").index(then) + 1] if then else ():
        orders.apply_provider_event(
            store,
            "sandbox",
            ProviderEvent(
                id=f"evt_{kind}_{order.id}",
                kind=kind,
                type=f"test.{kind}",
                order_id=order.id,
                amount=order.amount if kind == "paid" else None,
                currency=order.currency if kind == "paid" else None,
                payment_id=f"pay_{order.id}",
            ),
            now=at + 60,
        )
    return order


@pytest.fixture
def history(store, signer, make_product, make_token):
    """Mugs (€12) and yen prints, over four days, with campaign tags, refunds and a lapse."""
    mug = make_product(name="Mug")
    print_ = make_product(name="Print", amount=500, currency="jpy")
    place(store, signer, make_token, mug, at=D0 + 10, ref="insta", then="paid")
    place(store, signer, make_token, mug, at=D0 + 20, ref="insta", quantity=2, then="paid")
    place(store, signer, make_token, mug, at=D0 + DAY + 5, then="refunded")
    place(store, signer, make_token, print_, at=D0 + DAY + 9, ref="tiktok", then="paid")
    place(store, signer, make_token, mug, at=D0 + 2 * DAY, ref="insta")  # never paid
    place(store, signer, make_token, mug, at=D0 + 3 * DAY + 1, then="paid")
    return mug, print_


def test_report_is_the_stats_of_the_same_period(store, merchant, history):
    period = analytics.Period(start=D0 + DAY, end=D0 + 3 * DAY)
    with store.read() as conn:
        report = analytics.report(conn, merchant.id, period)
        expected = funnel.merchant_stats(
            conn, merchant.id, period=funnel.Period(date(2025, 11, 11), date(2025, 11, 12))
        )
    assert report.stats == expected
    totals = report.stats["totals"]
    assert (totals["orders"], totals["paid_orders"], totals["refunded_orders"]) == (3, 2, 1)
    assert totals["revenue"] == {"eur": 0, "jpy": 500}


def test_daily_series_adds_up_to_the_period_totals(store, merchant, history):
    period = analytics.Period(start=D0, end=D0 + 4 * DAY)
    with store.read() as conn:
        report = analytics.report(conn, merchant.id, period)
    assert [(d.day, d.paid_orders, d.revenue) for d in report.daily] == [
        (D0, 2, {"eur": 3600}),
        (D0 + DAY, 2, {"eur": 0, "jpy": 500}),  # a mug paid and refunded that day
        (D0 + 2 * DAY, 0, {}),
        (D0 + 3 * DAY, 1, {"eur": 1200}),
    ]
    totals = report.stats["totals"]
    assert sum(d.paid_orders for d in report.daily) == totals["paid_orders"] == 5
    for currency, amount in totals["revenue"].items():
        assert sum(d.revenue.get(currency, 0) for d in report.daily) == amount
    assert report.currencies == ["eur", "jpy"]  # 4800 > 500: largest first
    assert not report.series_truncated


def test_all_time_series_starts_at_the_first_order_and_matches_unfiltered_stats(
    store, merchant, history
):
    period = analytics.preset_period("all", now=D0 + 5 * DAY + 7)
    with store.read() as conn:
        report = analytics.report(conn, merchant.id, period)
        unfiltered = funnel.merchant_stats(conn, merchant.id)
    # The same numbers; only the period's end is named (the day after "now").
    assert {**report.stats, "to": None} == unfiltered
    assert report.daily[0].day == D0 and report.daily[-1].day == D0 + 5 * DAY
    assert len(report.daily) == 6


def test_an_empty_period_has_a_day_of_nothing(store, merchant):
    period = analytics.preset_period("all", now=D0 + 3)
    with store.read() as conn:
        report = analytics.report(conn, merchant.id, period)
    assert [(d.day, d.paid_orders) for d in report.daily] == [(D0, 0)]
    assert report.stats["totals"]["orders"] == 0


def test_preset_periods_end_tomorrow_at_midnight_and_count_today():
    period = analytics.preset_period("7d", now=D0 + 3 * DAY + 500)
    assert (period.start, period.end, period.days) == (D0 - 3 * DAY, D0 + 4 * DAY, 7)


def test_a_long_period_keeps_its_last_days_in_the_series(store, merchant, history):
    with store.read() as conn:
        report = analytics.report(
            conn, merchant.id, analytics.Period(start=D0 - 400 * DAY, end=D0 + 4 * DAY)
        )
    assert len(report.daily) == analytics.MAX_SERIES_DAYS and report.series_truncated
    assert report.daily[-1].day == D0 + 3 * DAY
    assert report.stats["totals"]["paid_orders"] == 5


def test_unknown_preset_and_backwards_custom_period_name_the_field():
    with pytest.raises(InvalidRequest) as info:
        analytics.preset_period("fortnight")
    assert info.value.param == "period"
    with pytest.raises(InvalidRequest) as info:
        analytics.custom_period(D0 + DAY, D0)
    assert info.value.param == "until"
    assert analytics.custom_period(D0 + 5, D0 + 7) == analytics.Period(D0, D0 + DAY)


# -- the order listing's filters ---------------------------------------------------------------


def ids(items):
    return [order.id for order in items]


def test_list_orders_filters_by_creation_period_and_pages_through_it(
    store, signer, merchant, make_product, make_token
):
    mug = make_product()
    placed = [place(store, signer, make_token, mug, at=D0 + i * 3600) for i in range(5)]
    with store.read() as conn:
        first, more = orders.list_orders(
            conn, merchant.id, limit=2, created_gte=D0 + 3600, created_lt=D0 + 4 * 3600
        )
        second, more_after = orders.list_orders(
            conn,
            merchant.id,
            limit=2,
            starting_after=first[-1].id,
            created_gte=D0 + 3600,
            created_lt=D0 + 4 * 3600,
        )
    assert ids(first) == [placed[3].id, placed[2].id] and more
    assert ids(second) == [placed[1].id] and not more_after


def test_list_orders_search_finds_an_order_by_its_id_only_for_its_merchant(
    store, signer, merchant, make_product, make_token
):
    mug = make_product()
    wanted = place(store, signer, make_token, mug, at=D0)
    place(store, signer, make_token, mug, at=D0 + 1)
    other = create_account(store, "Other Shop")
    with store.read() as conn:
        found, _ = orders.list_orders(conn, merchant.id, search=f"  {wanted.id} ")
        elsewhere, _ = orders.list_orders(conn, other.id, search=wanted.id)
        nothing, _ = orders.list_orders(conn, merchant.id, search="ord_missing")
    assert ids(found) == [wanted.id] and elsewhere == [] and nothing == []


def test_list_orders_filters_combine(store, signer, merchant, make_product, make_token):
    mug, tote = make_product(), make_product(name="Tote")
    a = place(store, signer, make_token, mug, at=D0, ref="insta", then="paid")
    place(store, signer, make_token, mug, at=D0 + 1, ref="insta")
    place(store, signer, make_token, tote, at=D0 + 2, ref="insta", then="paid")
    place(store, signer, make_token, mug, at=D0 + 3, ref="tiktok", then="paid")
    with store.read() as conn:
        found, _ = orders.list_orders(
            conn, merchant.id, status="paid", ref="insta", product_id=mug.id
        )
    assert ids(found) == [a.id]


def plans_of_list_orders(store, merchant_id, **filters) -> list[str]:
    """SQLite's query plan of each statement :func:`orders.list_orders` sends."""
    sent: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        sent.append((statement, parameters))

    event.listen(store.engine, "before_cursor_execute", capture)
    try:
        with store.read() as conn:
            orders.list_orders(conn, merchant_id, **filters)
    finally:
        event.remove(store.engine, "before_cursor_execute", capture)
    with store.read() as conn:
        return [
            " | ".join(
                str(row[-1])
                for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            )
            for statement, parameters in sent
            if statement.lstrip().upper().startswith("SELECT")
        ]


@pytest.mark.parametrize(
    "filters, search",
    [
        (
            {"status": "paid", "created_gte": D0, "created_lt": D0 + DAY},
            "SEARCH orders USING INDEX ix_orders_merchant_",  # status or created: either index
        ),
        ({"search": "ord_x", "ref": "insta"}, "(id=?)"),  # the unique index of ids
        (
            {"search": "Ada@Example.org"},
            "SEARCH orders USING INDEX ix_orders_merchant_email (merchant_id=? AND <expr>=?)",
        ),
    ],
)
def test_list_orders_reads_an_index_for_every_dashboard_filter(store, merchant, filters, search):
    if store.engine.dialect.name != "sqlite":
        pytest.skip("the plan is read from SQLite's EXPLAIN QUERY PLAN")
    (plan,) = plans_of_list_orders(store, merchant.id, **filters)
    assert search in plan and "SCAN orders" not in plan, plan


def test_list_orders_search_by_email_ignores_letter_case(
    store, signer, merchant, make_product, make_token
):
    mug = make_product()
    first = place(store, signer, make_token, mug, at=D0)
    place(store, signer, make_token, mug, at=D0 + 1)
    with store.transaction() as conn:
        conn.execute(
            table.update()
            .where(table.c.id == first.id)
            .values(customer_email="Ada.Lovelace@example.org")
        )
    with store.read() as conn:
        found, _ = orders.list_orders(conn, merchant.id, search=" ada.lovelace@EXAMPLE.org ")
        exported = orders.iter_orders(conn, merchant.id, search="ADA.LOVELACE@example.org")
    assert ids(found) == [first.id] and ids(exported) == [first.id]


def test_order_events_are_the_timeline_of_the_merchants_order_only(
    store, signer, merchant, make_product, make_token
):
    order = place(store, signer, make_token, make_product(), at=D0, then="refunded")
    other = create_account(store, "Other Shop")
    with store.read() as conn:
        timeline = orders.order_events(conn, merchant.id, order.id)
        with pytest.raises(NotFound):
            orders.order_events(conn, other.id, order.id)
    assert [(e.type, e.created_at) for e in timeline] == [
        ("order.paid", D0 + 60),
        ("order.refunded", D0 + 60),
    ]
