"""Migrations on a real PostgreSQL: from an empty schema to head, twice, through the CLI."""

import uuid

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from buybutton.cli import main
from buybutton.store import Store
from buybutton.store.schema import metadata
from tests.support.funnel_migration import check_funnel_rename_keeps_the_counters
from tests.support.rollups_migration import check_rollups_are_backfilled

pytestmark = pytest.mark.postgres


@pytest.fixture
def empty_schema_url(postgres_base_url):
    schema = f"bbmig_{uuid.uuid4().hex[:10]}"
    admin = create_engine(postgres_base_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    yield (
        make_url(postgres_base_url)
        .update_query_dict({"options": f"-csearch_path={schema}"})
        .render_as_string(hide_password=False)
    )
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def test_db_upgrade_creates_every_table_and_is_idempotent(
    empty_schema_url, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("BUYBUTTON_HOME", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", empty_schema_url)
    assert main(["db", "upgrade"]) == 0
    assert main(["db", "upgrade"]) == 0
    store = Store(empty_schema_url)
    try:
        tables = set(inspect(store.engine).get_table_names())
        assert {t.name for t in metadata.sorted_tables} <= tables
        assert store.current_revision() is not None
    finally:
        store.dispose()


def test_migration_0011_renames_the_counters_and_keeps_them(empty_schema_url):
    check_funnel_rename_keeps_the_counters(empty_schema_url)


def test_migration_0015_backfills_the_rollups(empty_schema_url):
    check_rollups_are_backfilled(empty_schema_url)
