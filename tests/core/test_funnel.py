"""buybutton.funnel: funnel beacon validation and the per-(product, ref) counters."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from buybutton import funnel
from buybutton.errors import InvalidRequest
from buybutton.store.schema import funnel_counters
from buybutton.tokens import TokenClaims
from tests.support.funnel_migration import check_funnel_rename_keeps_the_counters


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


def test_migration_0011_renames_the_counters_and_keeps_them_on_sqlite(tmp_path):
    check_funnel_rename_keeps_the_counters(f"sqlite:///{tmp_path / 'old.sqlite3'}")
