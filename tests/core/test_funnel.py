"""buybutton.funnel: funnel beacon validation and the per-(product, ref) counters."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from buybutton import funnel
from buybutton.errors import InvalidRequest
from buybutton.store.schema import funnel_counters
from buybutton.tokens import TokenClaims


def claims_for(product, ref=None) -> TokenClaims:
    return TokenClaims(
        merchant_id=product.merchant_id,
        product_id=product.id,
        amount=1200,
        currency="eur",
        generation=1,
        ref=ref,
    )


def counters(store):
    with store.read() as conn:
        rows = conn.execute(
            select(
                funnel_counters.c.product_id,
                funnel_counters.c.ref,
                funnel_counters.c.impressions,
                funnel_counters.c.clicks,
                funnel_counters.c.updated_at,
            ).order_by(funnel_counters.c.pk)
        ).all()
    return [tuple(row) for row in rows]


def test_record_beacon_upserts_one_counter_row_per_product_and_ref(store, make_product):
    mug = make_product()
    with store.transaction() as conn:
        funnel.record_beacon(conn, claims_for(mug, "insta"), "impression", clock=lambda: 100)
        funnel.record_beacon(conn, claims_for(mug, "insta"), "impression", clock=lambda: 101)
        funnel.record_beacon(conn, claims_for(mug, "insta"), "click", clock=lambda: 102)
        funnel.record_beacon(conn, claims_for(mug), "click", clock=lambda: 103)
    assert counters(store) == [(mug.id, "insta", 2, 1, 102), (mug.id, "", 0, 1, 103)]


def test_stats_without_any_activity_are_empty_with_null_rates(store, merchant):
    with store.read() as conn:
        stats = funnel.merchant_stats(conn, merchant.id)
    assert stats["by_ref"] == [] and stats["by_product"] == []
    assert stats["totals"]["click_through_rate"] is None
    assert stats["totals"]["revenue"] == {}


@pytest.mark.parametrize(
    "body, param",
    [(None, None), ("click", None), ({"type": "view", "token": "t"}, "type"), ({}, "type")],
)
def test_validate_beacon_names_the_bad_field(body, param):
    with pytest.raises(InvalidRequest) as caught:
        funnel.validate_beacon(body)
    assert caught.value.param == param


def test_validate_beacon_returns_type_and_token():
    assert funnel.validate_beacon({"type": "click", "token": "abc"}) == ("click", "abc")


def test_migration_creates_funnel_counters_as_schema_declares(store):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from buybutton.store.schema import metadata

    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert [d for d in diff if "funnel_counters" in repr(d)] == []


def migrate(store, direction: str, revision: str) -> None:
    from alembic import command

    config = store._alembic_config()
    with store.engine.begin() as conn:
        config.attributes["connection"] = conn
        getattr(command, direction)(config, revision)


def check_funnel_rename_keeps_the_counters(url: str) -> None:
    """From 0010 (widget_counters, with counts) up to 0011 and back: the rows survive both
    ways, and the constraint (with its index) is renamed with the table."""
    from sqlalchemy import inspect, text

    from buybutton.store import Store

    store = Store(url)
    try:
        store.upgrade("0010_webhook_delivery_fairness")
        with store.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO widget_counters (merchant_id, product_id, ref, "
                    "impressions, clicks, updated_at) VALUES "
                    "('mer_1', 'prod_1', 'insta', 7, 2, 100), "
                    "('mer_1', 'prod_1', '', 3, 0, 101)"
                )
            )
        migrate(store, "upgrade", "0011_funnel_events")
        names = inspect(store.engine).get_table_names()
        assert "funnel_counters" in names and "widget_counters" not in names
        uniques = inspect(store.engine).get_unique_constraints("funnel_counters")
        assert [u["name"] for u in uniques] == ["uq_funnel_counters_key"]
        with store.engine.begin() as conn:
            rows = conn.execute(
                text("SELECT ref, impressions, clicks FROM funnel_counters ORDER BY pk")
            ).all()
            assert [tuple(r) for r in rows] == [("insta", 7, 2), ("", 3, 0)]
            conn.execute(
                text(
                    "INSERT INTO funnel_counters (merchant_id, product_id, ref, "
                    "impressions, clicks, updated_at) VALUES "
                    "('mer_1', 'prod_2', '', 1, 0, 102)"
                )
            )  # the pk still counts up
        if store.engine.dialect.name == "postgresql":
            with store.engine.connect() as conn:
                pkey = conn.execute(
                    text(
                        "SELECT conname FROM pg_constraint "
                        "WHERE conrelid = 'funnel_counters'::regclass AND contype = 'p'"
                    )
                ).scalar_one()
                assert pkey == "funnel_counters_pkey"
                assert conn.execute(text("SELECT to_regclass('funnel_counters_pk_seq')")).scalar()
        migrate(store, "downgrade", "0010_webhook_delivery_fairness")
        uniques = inspect(store.engine).get_unique_constraints("widget_counters")
        assert [u["name"] for u in uniques] == ["uq_widget_counters_key"]
        with store.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM widget_counters")).scalar_one() == 3
    finally:
        store.dispose()


def test_migration_0011_renames_the_counters_and_keeps_them_on_sqlite(tmp_path):
    check_funnel_rename_keeps_the_counters(f"sqlite:///{tmp_path / 'old.sqlite3'}")
