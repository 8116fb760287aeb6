"""Persistence: one :class:`Store` per database URL, SQLAlchemy Core underneath.

SQLite (the default, a file in the instance folder) runs in WAL mode with a busy timeout, and
write transactions start with ``BEGIN IMMEDIATE`` so concurrent writers queue instead of failing
on a lock upgrade. PostgreSQL is used as it is; any URL SQLAlchemy accepts works.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlalchemy import Connection, create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError

from ..config import ConfigError
from . import schema

__all__ = ["Store", "schema"]

_MIGRATIONS = Path(__file__).with_name("migrations")


def _sqlite_engine(url) -> Engine:
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        readonly = connection.get_execution_options().get("buybutton_readonly", False)
        connection.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")

    return engine


class Store:
    """The database: transactions for the core, migrations for the CLI."""

    def __init__(self, database_url: str):
        try:
            url = make_url(database_url)
        except ArgumentError as exc:
            raise ConfigError(f"DATABASE_URL is not a database URL: {exc}") from None
        self.url = url
        if url.get_backend_name() == "sqlite":
            self.engine = _sqlite_engine(url)
        else:
            self.engine = create_engine(url, pool_pre_ping=True)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A read-write transaction: committed when the block ends, rolled back if it raises."""
        with self.engine.begin() as conn:
            yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only transaction (it never takes SQLite's write lock)."""
        with self.engine.connect() as conn:
            conn.execution_options(buybutton_readonly=True)
            with conn.begin():
                yield conn

    def upgrade(self, revision: str = "head") -> None:
        """Create or migrate the schema to ``revision``; running it twice changes nothing."""
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(_MIGRATIONS))
        with self.engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, revision)

    def current_revision(self) -> str | None:
        from alembic.runtime.migration import MigrationContext

        with self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def dispose(self) -> None:
        self.engine.dispose()


def fetch_page(conn: Connection, table, where, *, limit: int, starting_after: str | None):
    """Rows of ``table`` matching ``where``, newest first, after the row whose id is
    ``starting_after``; returns ``(rows, has_more)``. Cursor pagination stays stable while rows
    are being added, unlike offsets."""
    from sqlalchemy import select

    query = select(table).where(where)
    if starting_after:
        cursor = select(table.c.pk).where(table.c.id == starting_after).scalar_subquery()
        query = query.where(table.c.pk < cursor)
    rows = conn.execute(query.order_by(table.c.pk.desc()).limit(limit + 1)).all()
    return rows[:limit], len(rows) > limit
