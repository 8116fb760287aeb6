"""Count what a block sends to the database (SQLAlchemy event listeners), for tests that hold
a path to a fixed number of statements and transactions."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine


@dataclass
class Sent:
    statements: list[str] = field(default_factory=list)
    #: ``(statement, parameters)`` of each, as the driver received them.
    executed: list[tuple[str, Any]] = field(default_factory=list)
    #: One entry per transaction begun: ``"write"`` or ``"read"`` (buybutton's read-only ones).
    transactions: list[str] = field(default_factory=list)

    @property
    def writes(self) -> int:
        return self.transactions.count("write")

    @property
    def reads(self) -> int:
        return self.transactions.count("read")


@contextmanager
def counting(engine: Engine) -> Iterator[Sent]:
    """Within the block, every statement (``BEGIN`` and ``COMMIT`` excluded) and every
    transaction begun on ``engine``."""
    sent = Sent()

    def on_execute(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.split(None, 1)[0].upper() not in ("BEGIN", "COMMIT", "ROLLBACK"):
            sent.statements.append(statement)
            sent.executed.append((statement, parameters))

    def on_begin(conn: Any) -> None:
        readonly = conn.get_execution_options().get("buybutton_readonly", False)
        sent.transactions.append("read" if readonly else "write")

    event.listen(engine, "before_cursor_execute", on_execute)
    event.listen(engine, "begin", on_begin)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
        event.remove(engine, "begin", on_begin)
