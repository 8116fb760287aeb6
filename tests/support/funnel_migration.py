"""Migration 0011 (widget_counters → funnel_counters) checked both ways, on SQLite by the core
tests and on PostgreSQL by the PostgreSQL tests."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect, text

from buybutton.store import Store


def migrate(store, direction: str, revision: str) -> None:
    config = store._alembic_config()
    with store.engine.begin() as conn:
        config.attributes["connection"] = conn
        getattr(command, direction)(config, revision)


def check_funnel_rename_keeps_the_counters(url: str) -> None:
    """From 0010 (widget_counters, with counts) up to 0011 and back: the rows survive both
    ways, and the constraint (with its index) is renamed with the table."""
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
