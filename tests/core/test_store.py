"""The migrations build exactly the schema the code declares, on SQLite and PostgreSQL."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from buybutton.store.schema import metadata


def test_migrations_match_the_declared_schema(store):
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def test_migrations_are_one_line_of_revisions(store):
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from buybutton.store import _MIGRATIONS

    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    scripts = ScriptDirectory.from_config(config)
    assert len(scripts.get_heads()) == 1
    assert store.current_revision() == scripts.get_current_head()
