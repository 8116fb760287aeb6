"""Persistence: one :class:`Store` per database URL, SQLAlchemy Core underneath.

SQLite (the default, a file in the home folder, created 0600 on first use) runs in WAL mode with
a busy timeout, and write transactions start with ``BEGIN IMMEDIATE`` so concurrent writers queue
instead of failing on a lock upgrade. PostgreSQL is used as it is; any URL SQLAlchemy accepts works.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    Connection,
    Delete,
    Row,
    Table,
    Update,
    create_engine,
    event,
    insert,
    update,
)
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.sql.elements import BinaryExpression, BindParameter, BooleanClauseList
from sqlalchemy.sql.operators import eq, in_op

from ..config import Settings, make_private_folder, setup_log
from ..errors import ConfigError, ErrorCode, ServiceUnavailable
from . import schema

if TYPE_CHECKING:  # alembic is imported where migrations run, not with the store
    from alembic.config import Config as AlembicConfig
    from alembic.script import ScriptDirectory

__all__ = ["DatabaseProblem", "Store", "diagnose", "schema"]

_MIGRATIONS = Path(__file__).with_name("migrations")


def _sqlite_file(url: URL) -> Path | None:
    """The file a SQLite URL names, or ``None`` (in memory, or a ``file:`` URI left to SQLite)."""
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file:") or url.query.get("uri"):
        return None
    return Path(database)


def _create_private_file(path: Path) -> bool:
    """Create ``path`` empty and owner-only (0600) unless it exists; True if this call made it.
    SQLite takes an empty file for a new database and gives its -wal and -shm files the same
    mode, so the whole database stays private without touching the process umask."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        return False
    except OSError:  # e.g. the folder went away: SQLite's own open fails next, and says so
        return False
    return True


def _sqlite_engine(url: URL) -> Engine:
    path = _sqlite_file(url)
    if path is not None and not path.absolute().parent.is_dir():
        raise ConfigError(
            f"DATABASE_URL names a SQLite file in a folder that does not exist: "
            f"{path.absolute().parent} (create it, or fix the path)."
        )
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

    @event.listens_for(engine, "do_connect")
    def _create_file(_dialect: object, _record: object, _cargs: object, _cparams: object) -> None:
        if path is not None and _create_private_file(path):
            setup_log.info("created a new SQLite database at %s", path.absolute())

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        readonly = connection.get_execution_options().get("buybutton_readonly", False)
        connection.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")

    return engine


def _parse_url(database_url: str) -> URL:
    try:
        return make_url(database_url)
    except ArgumentError:
        raise ConfigError(
            "DATABASE_URL is not a database URL (e.g. "
            "postgresql+psycopg://user:password@host/db, sqlite:///path)."
        ) from None


def _create_engine(url: URL) -> Engine:
    """The engine for ``url``, or a :class:`ConfigError` that says what to write instead."""
    backend = url.get_backend_name()
    try:
        if backend == "sqlite":
            return _sqlite_engine(url)
        return create_engine(url, pool_pre_ping=True)
    except NoSuchModuleError:
        if backend == "postgres":
            raise ConfigError(
                "DATABASE_URL starts with postgres://, a name SQLAlchemy does not "
                "accept: write postgresql+psycopg://… instead."
            ) from None
        raise ConfigError(
            f"DATABASE_URL names an unknown database or driver: "
            f"{url.drivername!r} (PostgreSQL: postgresql+psycopg://…; "
            f"SQLite: sqlite:///path)."
        ) from None
    except ImportError as exc:
        hint = " (pip install 'buybutton[postgres]')" if backend == "postgresql" else ""
        raise ConfigError(
            f"DATABASE_URL needs the Python module {exc.name!r}, which is not installed{hint}."
        ) from None


def location(url: URL) -> str:
    """Where a database is, for people and logs: ``the SQLite database at /path`` or
    ``the database at postgresql://host:port/db`` (no user, password or options)."""
    if url.get_backend_name() == "sqlite":
        path = _sqlite_file(url)
        return f"the SQLite database at {path.absolute() if path else url.database or ':memory:'}"
    host = f"{url.host or 'localhost'}{f':{url.port}' if url.port else ''}"
    return f"the database at {url.get_backend_name()}://{host}/{url.database or ''}"


@dataclass(frozen=True)
class DatabaseProblem:
    """Why the database could not be used, when it is the database's state and not a bug.

    ``reason`` is a stable word (``unreachable``, ``read_only``, ``disk_full``, ``busy``,
    ``io_error``, ``not_migrated``); ``detail`` the driver's message, shortened to its gist."""

    reason: str
    detail: str

    def describe(self, url: URL) -> str:
        """One line for people, e.g. ``cannot reach the database at postgresql://h:5432/db
        (connection refused)``."""
        where = location(url)
        verb = "cannot open" if url.get_backend_name() == "sqlite" else "cannot reach"
        text = {
            "unreachable": f"{verb} {where}",
            "read_only": f"{where} is read-only",
            "disk_full": f"{where} is full",
            "busy": f"{where} is busy (locked by another process)",
            "io_error": f"{where} failed to read or write its files",
            "not_migrated": f"{where} is missing tables (run `buybutton db upgrade`)",
        }[self.reason]
        return f"{text} ({self.detail})"


# SQLSTATE classes and codes of PostgreSQL, and SQLite's error names, by problem.
_PG_STATES = {
    "08": "unreachable",
    "57P": "unreachable",
    "53": "disk_full",
    "25006": "read_only",
    "55P03": "busy",
    "42P01": "not_migrated",
    "3D000": "unreachable",
}
_SQLITE_NAMES = {
    "SQLITE_CANTOPEN": "unreachable",
    "SQLITE_READONLY": "read_only",
    "SQLITE_FULL": "disk_full",
    "SQLITE_BUSY": "busy",
    "SQLITE_LOCKED": "busy",
    "SQLITE_IOERR": "io_error",
    "SQLITE_NOTADB": "unreachable",
}


def _gist(message: str) -> str:
    # psycopg: 'connection failed: connection to server at "h", port 5 failed: Connection refused
    # \n\tIs the server running…' → 'connection refused'.
    line = message.strip().splitlines()[0] if message.strip() else "no message"
    line = line.rsplit(" failed: ", 1)[-1].strip()
    for prefix in ("FATAL:", "ERROR:"):
        line = line.removeprefix(prefix).strip()
    line = " ".join(line.split())
    return line[:1].lower() + line[1:200]


def diagnose(exc: BaseException) -> DatabaseProblem | None:
    """The :class:`DatabaseProblem` behind a SQLAlchemy error, or ``None`` for errors that are
    not about the database's state (a bug, a constraint)."""
    if not isinstance(exc, DBAPIError):
        return None
    orig = exc.orig
    detail = _gist(str(orig))
    reason = None
    sqlstate = getattr(orig, "sqlstate", None) or ""
    for prefix in sorted(_PG_STATES, key=len, reverse=True):
        if sqlstate.startswith(prefix):
            reason = _PG_STATES[prefix]
            break
    reason = reason or _SQLITE_NAMES.get(getattr(orig, "sqlite_errorname", None) or "")
    if reason is None and detail.startswith("no such table"):
        reason = "not_migrated"
    if reason is None and (exc.connection_invalidated or exc.statement is None):
        reason = "unreachable"  # failed to connect, or the connection died under us
    return DatabaseProblem(reason, detail) if reason else None


#: The tables whose rows the server's caches render (offers: a product and its merchant).
WATCHED = ("products", "merchants")
#: What :meth:`Store.on_change` listeners get when a watched row changed, but which one is not
#: known (a statement not keyed by id): everything of that table.
ANY = "*"
_CHANGED = "buybutton.changed"
_BEFORE_COMMIT = "buybutton.before-commit"
T = TypeVar("T")


def before_commit(
    conn: Connection, name: str, flush: Callable[[Connection, T], None], state: Callable[[], T]
) -> T | None:
    """Work to do last in the :meth:`Store.transaction` of ``conn``, right before it commits:
    ``flush(conn, s)`` runs once, with ``s`` made by ``state()`` at the first call for ``name``
    and returned by every call (the caller adds to it). Returns ``None`` when ``conn`` is not in
    such a transaction: then the caller does its work at once. What runs last holds the row
    locks it takes for the commit only (a counter every checkout adds to, for instance)."""
    hooks = conn.info.get(_BEFORE_COMMIT)
    if hooks is None:
        return None
    if name not in hooks:
        hooks[name] = (flush, state())
    held: T = hooks[name][1]
    return held


def _table_name(statement: Update | Delete) -> str | None:
    return getattr(statement.table, "name", None)


def _changed_rows(statement: Update | Delete) -> set[str]:
    """``{"products:prod_…"}`` for the rows a ``WHERE table.id = …`` (or ``IN``) statement
    names; ``{"products:*"}`` when its rows are not named so."""
    table = _table_name(statement)
    ids: set[str] = set()
    clauses: list[Any] = [statement.whereclause]
    while clauses:
        clause = clauses.pop()
        if isinstance(clause, BooleanClauseList):
            clauses.extend(clause.clauses)
        elif (
            isinstance(clause, BinaryExpression)
            and getattr(clause.left, "name", None) == "id"
            and getattr(clause.left, "table", None) is statement.table
            and isinstance(clause.right, BindParameter)
            and clause.operator in (eq, in_op)
        ):
            value = clause.right.effective_value
            ids.update(str(v) for v in (value if isinstance(value, (list, tuple)) else [value]))
    return {f"{table}:{row_id}" for row_id in ids} if ids else {f"{table}:{ANY}"}


def _watch_changes(engine: Engine) -> None:
    """Note in the connection which watched rows its statements changed, for the listeners of
    :meth:`Store.on_change` once the transaction commits. (A new row changes nothing cached.)"""

    @event.listens_for(engine, "after_execute")
    def _noted(conn: Connection, clause: object, *_: object) -> None:
        if isinstance(clause, (Update, Delete)) and _table_name(clause) in WATCHED:
            conn.info.setdefault(_CHANGED, set()).update(_changed_rows(clause))


class Store:
    """The database: transactions for the core, migrations for the CLI."""

    def __init__(self, database_url: str):
        self.url = _parse_url(database_url)
        self.engine = _create_engine(self.url)
        self._listeners: list[Callable[[frozenset[str]], None]] = []
        _watch_changes(self.engine)

    def on_change(self, listener: Callable[[frozenset[str]], None]) -> None:
        """Call ``listener`` after each committed write transaction that changed rows of
        :data:`WATCHED` tables, with their keys (``"products:prod_…"``, ``"merchants:mch_…"``,
        or ``"products:*"``). Caches of rendered rows invalidate on it; it must not raise."""
        self._listeners.append(listener)

    @classmethod
    def from_settings(cls, settings: Settings) -> Store:
        """The store of ``settings.database_url``. The home folder is created (0700) when the
        SQLite file is to be in it; any other missing folder is a :class:`ConfigError`."""
        url = _parse_url(settings.database_url)
        if url.get_backend_name() == "sqlite":
            path = _sqlite_file(url)
            if path is not None and path.absolute().parent == settings.home:
                make_private_folder(settings.home)
        return cls(settings.database_url)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def location(self) -> str:
        """Where the data lives, for people (no password): see :func:`location`."""
        return location(self.url)

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A read-write transaction: committed when the block ends, rolled back if it raises.
        Once committed, the :meth:`on_change` listeners hear of the watched rows it changed."""
        changed: set[str] | None = None
        with self.engine.begin() as conn:
            conn.info.pop(_CHANGED, None)  # left by a write outside transaction(): stale now
            hooks: dict[str, tuple[Callable[[Connection, Any], None], Any]] = {}
            conn.info[_BEFORE_COMMIT] = hooks
            try:
                yield conn
                for flush, state in list(hooks.values()):
                    flush(conn, state)
            finally:
                conn.info.pop(_BEFORE_COMMIT, None)
                changed = conn.info.pop(_CHANGED, None)
        if changed:
            keys = frozenset(changed)
            for listener in self._listeners:
                listener(keys)

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only transaction (it never takes SQLite's write lock)."""
        with self.engine.connect() as conn:
            conn.execution_options(buybutton_readonly=True)
            with conn.begin():
                yield conn

    def _alembic_config(self) -> AlembicConfig:
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(_MIGRATIONS))
        return config

    def _scripts(self) -> ScriptDirectory:
        from alembic.script import ScriptDirectory

        return ScriptDirectory.from_config(self._alembic_config())

    def upgrade(self, revision: str = "head") -> None:
        """Create or migrate the schema to ``revision``; running it twice changes nothing."""
        from alembic import command

        config = self._alembic_config()
        with self.engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, revision)

    def current_revision(self) -> str | None:
        from alembic.runtime.migration import MigrationContext

        with self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def head_revision(self) -> str:
        """The revision this version of buybutton's migrations end at."""
        head = self._scripts().get_current_head()
        assert head is not None  # the migrations ship with the package: there is a head
        return head

    def ensure_schema(self, *, upgrade: bool) -> None:
        """Make sure the schema is the one this code expects: migrate it if ``upgrade`` (the
        embedded SQLite default does, on first use), else raise :class:`ServiceUnavailable` naming
        ``buybutton db upgrade``. A schema newer than this code is an error either way."""
        from alembic.util import CommandError

        scripts = self._scripts()
        current, head = self.current_revision(), scripts.get_current_head()
        if current == head:
            return
        if current is not None:
            try:
                scripts.get_revision(current)
            except CommandError:
                raise ServiceUnavailable(
                    f"{self.location} is at schema revision {current}, which this version of "
                    f"buybutton does not know (it was migrated by a newer one): upgrade buybutton.",
                    code=ErrorCode.DATABASE_SCHEMA_UNKNOWN,
                ) from None
        if not upgrade:
            state = "has no tables yet" if current is None else f"is at schema revision {current}"
            raise ServiceUnavailable(
                f"{self.location} {state}; this buybutton needs {head}: run "
                f"`buybutton db upgrade`.",
                code=ErrorCode.DATABASE_NOT_MIGRATED,
            )
        self.upgrade()
        if current is not None:
            setup_log.info(
                "migrated %s from schema revision %s to %s", self.location, current, head
            )

    def check_writable(self, now: int) -> None:
        """Rewrite the one health row in a committed transaction: raises the database's error
        when it cannot take a write (unreachable, read-only, full, not migrated). One small row,
        so a load balancer may call it every second."""
        with self.transaction() as conn:
            if self.dialect == "postgresql":
                # Do not wait for the WAL flush (an fsync per poll): a standby, a read-only or a
                # full database still refuses the write itself.
                conn.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
            done = conn.execute(
                update(schema.health).where(schema.health.c.pk == 1).values(checked_at=now)
            ).rowcount
            if not done:  # the row was deleted by hand: put it back
                conn.execute(insert(schema.health).values(pk=1, checked_at=now))

    def dispose(self) -> None:
        self.engine.dispose()


def fetch_page(
    conn: Connection,
    table: Table,
    where: ColumnElement[bool],
    *,
    limit: int,
    starting_after: str | None,
    filter_first: bool = False,
) -> tuple[Sequence[Row[Any]], bool]:
    """Rows of ``table`` matching ``where``, newest first, after the row whose id is
    ``starting_after``; returns ``(rows, has_more)``. Cursor pagination stays stable while rows
    are being added, unlike offsets. ``filter_first``: ``where`` holds a range that an index
    serves (e.g. a creation time); SQLite, whose planner knows nothing of ranges, is told not to
    walk the newest-first index instead (which would read every row when the range is empty)."""
    from sqlalchemy import literal_column, select

    query = select(table).where(where)
    newest: ColumnElement[Any] = table.c.pk
    if filter_first and conn.dialect.name == "sqlite":
        newest = literal_column(f"+{table.name}.pk")  # a unary + : not an index's ordering
    if starting_after:
        cursor = select(table.c.pk).where(table.c.id == starting_after).scalar_subquery()
        query = query.where(table.c.pk < cursor)
    rows = conn.execute(query.order_by(newest.desc()).limit(limit + 1)).all()
    return rows[:limit], len(rows) > limit
