"""The SQL an engine sends inside a block: what statement-count tests assert on, so a query
per event or per order that creeps back fails a test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import Engine, event

T = TypeVar("T")


class Execution(NamedTuple):
    statement: str
    parameters: Any
    executemany: bool


def statements_sent(engine: Engine) -> AbstractContextManager[list[str]]:
    """Every statement `engine` sends inside the block, in order, as sent."""
    return _recorded(engine, lambda statement, parameters, executemany: statement)


def executions_sent(engine: Engine) -> AbstractContextManager[list[Execution]]:
    """Every execution `engine` sends inside the block, in order: the statement, its
    parameters, and whether it was an executemany."""
    return _recorded(engine, Execution)


@contextmanager
def _recorded(engine: Engine, entry: Callable[[str, Any, bool], T]) -> Iterator[list[T]]:
    sent: list[T] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        sent.append(entry(statement, parameters, executemany))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", record)
