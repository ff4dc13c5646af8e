"""Engines and sessions. SQLite gets WAL, foreign keys and a bounded wait for its write lock;
PostgreSQL is used as it is."""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import time
import weakref
from collections.abc import Callable, Collection, Hashable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import orjson
from sqlalchemy import (
    JSON,
    ColumnElement,
    Engine,
    Insert,
    Integer,
    Select,
    String,
    Table,
    TextClause,
    TypeDecorator,
    Update,
    any_,
    bindparam,
    cast,
    column,
    create_engine,
    event,
    func,
    literal_column,
    select,
    true,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult, Dialect, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql.selectable import TableValuedAlias

log = logging.getLogger(__name__)

NOW_OPTION = "shipflow_now"
# SQLite has one writer at a time: the others wait this long for the lock (`?timeout=<seconds>`
# in the URL changes it), then fail with "database is locked".
SQLITE_BUSY_TIMEOUT_SECONDS = 5.0
# PostgreSQL: serialization failure, deadlock, lock not available (`lock_timeout`).
CONTENTION_SQLSTATES = frozenset({"40001", "40P01", "55P03"})
SQLITE_IN_CHUNK = 5000  # values bound in one SQLite IN list (`in_values`)
_JSON_DECODER = json.JSONDecoder()


def json_loads(text: str | bytes) -> Any:
    """`json.loads` for the engines' JSON columns (`json_deserializer`), less its guess at the
    encoding of every value psycopg hands over as bytes: that guess can only find UTF-8 in
    what PostgreSQL sends (no client encoding is UTF-16 or 32), so the values read are the
    same. A tracking batch decodes three JSON values a shipment."""
    return _JSON_DECODER.decode(text.decode() if isinstance(text, bytes) else text)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        connect_args: dict = {"check_same_thread": False}
        if "timeout" not in parsed.query:  # sqlite3's busy timeout
            connect_args["timeout"] = SQLITE_BUSY_TIMEOUT_SECONDS
        engine = create_engine(url, connect_args=connect_args, json_deserializer=json_loads)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "before_cursor_execute", _write_lock_before_first_write)
        _forget_pool_after_fork(engine)
        return engine
    # `?prepare_threshold=none`: no server-side prepared statements (PgBouncer in transaction
    # mode hands each transaction to any server connection; docs/deploy.md).
    threshold = parsed.query.get("prepare_threshold")
    pg_args = {}
    if isinstance(threshold, str):
        parsed = parsed.difference_update_query(["prepare_threshold"])
        pg_args["prepare_threshold"] = None if threshold.lower() == "none" else int(threshold)
    engine = create_engine(
        parsed,
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=20,
        connect_args=pg_args,
        json_deserializer=json_loads,
    )
    _forget_pool_after_fork(engine)
    return engine


class Batch(NamedTuple):
    """How many items a stage's run claims at most, by database. Under a backlog each run
    shares its fixed cost (the claim, the reads of what the batch has in common, a dozen
    statements, the commit, the runs it feeds) among its items: one Celery worker spent
    28-35 % less CPU an event with receipts batches of 400 than of 100 (docs/benchmarks.md,
    "batch sizes and the tracking token, fourteenth session"). SQLite's are smaller: its batch holds the one write lock the
    web's group commit waits for (200 receipts made those waits longer, the eleventh
    session). A run that finds fewer takes them at once."""

    most: int
    on_sqlite: int

    def on(self, engine: Engine) -> int:
        return self.on_sqlite if engine.dialect.name == "sqlite" else self.most


def is_contention(exc: DBAPIError) -> bool:
    """Did the database give up waiting for other writers (nothing is wrong but the timing)?"""
    cause = exc.orig
    if isinstance(cause, sqlite3.OperationalError):
        return cause.sqlite_errorcode & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    return getattr(cause, "sqlstate", None) in CONTENTION_SQLSTATES


def sqlite_write_lock(driver: sqlite3.Connection, patience: float | None = None) -> None:
    """BEGIN IMMEDIATE, tried again every millisecond for `patience` seconds, for the writers
    that take turns all day: the webhooks' group commit and the jobs' batches (`for_update`).
    SQLite's own busy wait backs off to a try every 100 ms, so a writer using it found the
    lock taken at nearly every try while the others retried sooner: acknowledgements fell to
    the pace of processing, and later processing stalled behind acknowledgements. Raises the
    driver's "database is locked" once `patience` seconds (by default the connection's busy
    timeout) run out."""
    (previous,) = driver.execute("PRAGMA busy_timeout").fetchone()
    driver.execute("PRAGMA busy_timeout = 0")
    deadline = time.monotonic() + (previous / 1000 if patience is None else patience)
    try:
        while True:
            try:
                driver.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                busy = exc.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY
                if not busy or time.monotonic() > deadline:
                    raise
            time.sleep(0.001)
    finally:
        driver.execute(f"PRAGMA busy_timeout = {previous}")


_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


def _write_lock_before_first_write(_conn, cursor, statement: str, *_args) -> None:
    """A transaction's first write takes the write lock by `sqlite_write_lock`, as the group
    commit and `for_update` do, not through the driver's implicit BEGIN and SQLite's busy wait,
    which backs off to a try every 100 ms and so lost nearly every turn to them: the jobs'
    claims (one UPDATE each) waited 0.3-0.8 s at p99 under load, half of that since
    (docs/benchmarks.md, "the embedded default's lock waits")."""
    driver = cursor.connection
    if not driver.in_transaction and statement.lstrip()[:7].upper().startswith(_WRITES):
        sqlite_write_lock(driver)


def _forget_pool_after_fork(engine: Engine) -> None:
    """A forked child (a web worker, the embedded jobs process) must not share its
    parent's pooled connections: two processes on one PostgreSQL socket corrupt each other's
    results, and an SQLite connection must not cross a fork at all (sqlite.org/howtocorrupt)."""
    ref = weakref.ref(engine)

    def forget() -> None:
        child_engine = ref()
        if child_engine is not None:
            child_engine.dispose(close=False)

    os.register_at_fork(after_in_child=forget)


def stamp_times_with(engine: Engine, now: Callable[[], datetime]) -> None:
    """Column defaults of time stamps on this engine call `now` (see `models.utcnow`)."""
    engine.update_execution_options(**{NOW_OPTION: now})


_MEMO = "shipflow.memo"
T = TypeVar("T")
K = TypeVar("K", bound=Hashable)


def per_transaction(session: Session, key: Hashable, compute: Callable[[], T]) -> T:
    """`compute()` once per transaction of `session`: for what a batch asks once per item but
    cannot change within it (a brand's code, its latest model), so a batch of a thousand
    shipments reads it once."""
    memo = session.info.setdefault(_MEMO, {})
    if key not in memo:
        memo[key] = compute()
    return memo[key]


@event.listens_for(Session, "after_transaction_end")
def _forget_memo(session: Session, transaction) -> None:
    if transaction.parent is None:  # the outermost: a flush's own subtransaction ends often
        session.info.pop(_MEMO, None)


def insert_or_skip(dialect: str, target: Any) -> postgresql.Insert | sqlite.Insert:
    """INSERT ... ON CONFLICT DO NOTHING in the database's own words (`dialect`: the engine's
    dialect name): a row that may be there already costs one statement, not a savepoint
    around an insert."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(target).on_conflict_do_nothing()


def one_of(session: Session, column: Any, values: Collection[Any]) -> ColumnElement[bool]:
    """`column IN values`; on PostgreSQL `column = ANY(array)`, the values bound as one array:
    the statement's text is then the same whatever the batch's size, so psycopg prepares it
    once and PostgreSQL plans it once, where an IN list is a new statement, parsed and planned
    again, for each number of values. Strings go as `varchar[]` without the column's length:
    a `varchar(40)[]` is checked element by element on every execution (perf showed it at 8 %
    of a backend's CPU). The array is bound as its text (`_ArrayText`). (SQLite has no
    arrays: its IN list binds each value.) A string or integer column only."""
    if session.get_bind().dialect.name == "postgresql":
        strings = isinstance(column.type, String)
        if not strings and not isinstance(column.type, Integer):
            raise TypeError(f"one_of takes a string or integer column, not {column.type!r}")
        array = _ArrayText(String() if strings else column.type)
        return column == any_(bindparam(None, _array_text(values, quoted=strings), type_=array))
    return column.in_(values)


class _ArrayText(TypeDecorator):
    """A PostgreSQL array bound as its text, as is (`%(p)s::VARCHAR[]`, sent by psycopg as
    of unknown type, so the parameter is the array's own: an explicit cast of a text would
    be PostgreSQL's to evaluate again for every row a filter reads)."""

    impl = postgresql.ARRAY
    cache_ok = True

    def bind_processor(self, dialect: Dialect) -> None:
        return None


def _array_text(values: Iterable[Any], quoted: bool) -> str:
    """PostgreSQL's text form of an array of strings (`quoted`: each in double quotes, its `"`
    and `\\` escaped) or of integers, made by joins: psycopg dumps a list element by element
    in Python (each dumped, searched for what needs quoting, appended): 0.4-0.55 us an
    element, against 0.05."""
    if not quoted:
        return "{" + ",".join(map(str, values)) + "}"
    escaped = [value.replace("\\", "\\\\").replace('"', '\\"') for value in values]
    return '{"' + '","'.join(escaped) + '"}' if escaped else "{}"


def insert_all(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """INSERT `rows` (each with the same keys) as one statement, the rows as one JSON document.
    On PostgreSQL read back by `json_to_recordset`: one execution, where psycopg's pipelined
    executemany sends, and PostgreSQL runs, one per row, and one `json_document` for the batch,
    where arrays (`unnest`) had psycopg escape every element in Python (outbox rows, measured
    per row: this process's CPU 0.041 ms pipelined, 0.031 as arrays, 0.003 as JSON; the
    backend's 0.024, 0.013, 0.011). On SQLite each row an array of its values as the columns'
    types write them, read back by `json_each` (`_sqlite_document`): an executemany had
    SQLAlchemy build and convert a parameter set per row in Python. The Python defaults of
    the columns not given are then evaluated once for all the rows: only for tables whose
    defaults are the same for every row of a batch (the clock, constants), never a generated
    id."""
    insert_all_or_skip(session, table, rows, ())


def insert_all_or_skip(
    session: Session,
    table: Table,
    rows: Sequence[dict[str, Any]],
    conflict: Sequence[str],
    where: ColumnElement[bool] | TextClause | None = None,
) -> int:
    """`insert_all`, less the rows that clash with a row stored under the unique index on the
    columns `conflict` (a partial index's `where`), or with an earlier row of `rows`: INSERT
    ... ON CONFLICT DO NOTHING, safe against a concurrent writer inserting the same. No
    `conflict`: `insert_all` itself. Returns how many rows it stored."""
    if not rows:
        return 0
    names = tuple(rows[0])
    key = (tuple(conflict), where)
    if session.get_bind().dialect.name != "postgresql":
        document = _sqlite_document(session, table, names, rows)
        statement = _each_insert(table, names, key)
    else:
        document = json_document(rows)
        statement = _recordset_insert(table, names, key)
    counted = {"preserve_rowcount": True}  # else an INSERT's is not kept
    result = session.execute(statement, {"rows": document}, execution_options=counted)
    assert isinstance(result, CursorResult)  # a DML statement's; the stubs say only `Result`
    return result.rowcount


# Times and dates go to `json_value` (orjson writes a naive time as if it were local); other
# keys than strings as `json.dumps` writes them.
_DOCUMENT_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS


def json_document(rows: Sequence[Any]) -> str:
    """`rows` as the JSON text PostgreSQL reads back with `json_to_recordset` (`insert_all`,
    `update_all`, the webhook receipts' group commit), written by orjson: `json.dumps` took
    5.8 us a shipment's staged row, 1.7 an outbox message's, 2.5 a customer message's;
    orjson 3.5, 0.24 and 1.25, the times still written by `json_value`. A batch holding an
    integer past 64 bits (a carrier's 22-digit waybill number sent as a JSON number), which
    orjson refuses, goes by `json.dumps`: one such event must not sink its batch."""
    try:
        return orjson.dumps(rows, default=json_value, option=_DOCUMENT_OPTIONS).decode()
    except orjson.JSONEncodeError:
        return json.dumps(rows, default=json_value)


def json_value(value: Any) -> str:
    """What `json_document` writes of the values orjson is not left to: a date or an aware
    time in ISO 8601 (a naive time is refused, as `UTCDateTime` refuses it), bytes in
    `bytea`'s hex input form (`\\x...`); any other value JSON cannot write is an error."""
    if isinstance(value, datetime) and value.tzinfo is None:
        raise ValueError("naive datetime given to a UTC column")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bytes):
        return "\\x" + value.hex()
    raise TypeError(f"{type(value).__name__} is no column value PostgreSQL can read from JSON")


# A unique index's columns and, for a partial index, its WHERE (none: no conflict clause).
Conflict = tuple[tuple[str, ...], ColumnElement[bool] | TextClause | None]


@cache
def _recordset_insert(table: Table, names: tuple[str, ...], conflict: Conflict) -> Insert:
    """`INSERT INTO table (names) SELECT * FROM json_to_recordset(:rows) AS (name type, ...)`,
    with its conflict clause if `conflict` names columns, built once per process. Strings are
    read as `varchar` without the column's length (the column checks it once, on insert)."""
    rows = select(*_recordset(table, names).c)
    columns, where = conflict
    if not columns:
        return table.insert().from_select(names, rows)
    return (
        postgresql.insert(table)
        .from_select(names, rows)
        .on_conflict_do_nothing(index_elements=columns, index_where=where)
    )


def _recordset(table: Table, names: tuple[str, ...]) -> TableValuedAlias:
    """`json_to_recordset(:rows) AS (name type, ...)`: the columns `names` of `table`."""
    types = ((name, table.c[name].type) for name in names)
    columns = [column(name, String() if isinstance(t, String) else t) for name, t in types]
    document = cast(bindparam("rows"), JSON)
    return func.json_to_recordset(document).table_valued(*columns).render_derived(with_types=True)


def update_all(session: Session, table: Table, key: str, rows: Sequence[dict[str, Any]]) -> None:
    """UPDATE each row of `table` whose `key` column equals a row's `key` with that row's other
    values (each row with the same keys, each key once) as one statement, the rows as one
    document as `insert_all` sends them: `UPDATE ... FROM json_to_recordset(:rows)` on
    PostgreSQL, `UPDATE ... FROM json_each(:rows)` on SQLite (its `onupdate` defaults
    evaluated once for all the rows)."""
    if not rows:
        return
    names = tuple(rows[0])
    if session.get_bind().dialect.name != "postgresql":
        document = _sqlite_document(session, table, names, rows)
        session.execute(_each_update(table, key, names), {"rows": document})
        return
    document = json_document(rows)
    session.execute(_recordset_update(table, key, names), {"rows": document})


@cache
def _recordset_update(table: Table, key: str, names: tuple[str, ...]) -> Update:
    rows = _recordset(table, names)
    values = {name: rows.c[name] for name in names if name != key}
    return table.update().where(table.c[key] == rows.c[key]).values(values)


def _sqlite_document(
    session: Session, table: Table, names: tuple[str, ...], rows: Sequence[dict[str, Any]]
) -> str:
    """`rows` as a JSON array of arrays, each value in `names`' order as its column's type
    writes it for SQLite (a time as SQLAlchemy's text, a dict as JSON text): what an
    executemany would have bound. A value JSON cannot write (bytes) is an error."""
    arrays = [[row[name] for name in names] for row in rows]
    for index, process in _bind_processors(table, names, session.get_bind().dialect):
        for values in arrays:
            values[index] = process(values[index])
    return orjson.dumps(arrays).decode()


@lru_cache(maxsize=256)
def _bind_processors(
    table: Table, names: tuple[str, ...], dialect: Dialect
) -> tuple[tuple[int, Callable[[Any], Any]], ...]:
    """The columns among `names` (by position) whose type converts a value for `dialect`."""
    processors = (
        table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names
    )
    return tuple((index, p) for index, p in enumerate(processors) if p is not None)


@cache
def _each_insert(table: Table, names: tuple[str, ...], conflict: Conflict) -> Insert:
    """`INSERT INTO table (names) SELECT value ->> 0, value ->> 1, ... FROM json_each(:rows)`,
    with its conflict clause if `conflict` names columns (then `WHERE true`, which SQLite asks
    of an upsert's SELECT so as not to read its ON as a join's)."""
    rows = select(*_each_values(names).values())
    columns, where = conflict
    if not columns:
        return table.insert().from_select(names, rows)
    return (
        sqlite.insert(table)
        .from_select(names, rows.where(true()))
        .on_conflict_do_nothing(index_elements=columns, index_where=where)
    )


@cache
def _each_update(table: Table, key: str, names: tuple[str, ...]) -> Update:
    """`UPDATE table SET name = value ->> i, ... FROM json_each(:rows) WHERE key = value ->> k`."""
    values = _each_values(names)
    key_value = values.pop(key)
    return table.update().where(table.c[key] == key_value).values(values)


def _each_values(names: tuple[str, ...]) -> dict[str, ColumnElement[Any]]:
    """Each of `names`: its element of a row of `json_each(:rows)`, read as SQL's value (a
    JSON string as text, a number as a number, null as NULL)."""
    rows = func.json_each(bindparam("rows")).table_valued("value")
    return {
        name: rows.c.value.op("->>")(literal_column(str(index))) for index, name in enumerate(names)
    }


def in_values(
    session: Session, column: Any, values: Sequence[Any]
) -> Iterator[ColumnElement[bool]]:
    """`column IN values` in as few clauses as the backend wants (`one_of`): one array
    parameter on PostgreSQL, chunks of `SQLITE_IN_CHUNK` placeholders elsewhere."""
    postgres = session.get_bind().dialect.name == "postgresql"
    size = max(1, len(values)) if postgres else SQLITE_IN_CHUNK
    for start in range(0, len(values), size):
        yield one_of(session, column, values[start : start + size])


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction: committed when the block ends, rolled back if it raises."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def each_in_own_transaction(
    factory: sessionmaker[Session], keys: Iterable[K], work: Callable[[Session, K], T], job: str
) -> dict[K, T]:
    """`work(session, key)` for each key (a brand) in a transaction of its own, committed as it
    ends; one that raises is rolled back and logged, and the keys after it still run: one
    brand's bad data must not stop every brand's periodic work, run after run. Returns the
    result of each key that finished."""
    done: dict[K, T] = {}
    for key in keys:
        try:
            with unit_of_work(factory) as session:
                done[key] = work(session, key)
        except Exception:
            log.exception("%s failed for %s; the others go on", job, key)
    return done


def for_update(session: Session, statement: Select, of: Any = None) -> Select:
    """`statement` made to hold the rows it reads until the transaction ends, and to read them
    fresh: the check-then-act that follows (already shipped? already returned?) then runs one
    request at a time. PostgreSQL locks the rows (only those of `of` if given: the nullable
    side of an outer join cannot be locked); SQLite has no row locks, so the transaction
    takes the database's write lock now (BEGIN IMMEDIATE) instead of at its first write. The
    driver opens a transaction only for a write, so one already open holds that lock."""
    write_lock(session)
    return statement.with_for_update(of=of).execution_options(populate_existing=True)


def _sqlite_driver(session: Session) -> sqlite3.Connection | None:
    """The session's SQLite connection, or None on another database."""
    if session.get_bind().dialect.name != "sqlite":
        return None
    driver = session.connection().connection.driver_connection
    assert driver is not None  # a connection in use has its driver's
    return driver


def write_lock(session: Session) -> None:
    """SQLite: the database's write lock, taken now (BEGIN IMMEDIATE) unless the transaction
    holds it already (the driver opens one only for a write). PostgreSQL: nothing (its row
    locks are taken by the statements, `for_update`)."""
    driver = _sqlite_driver(session)
    if driver is not None and not driver.in_transaction:
        sqlite_write_lock(driver)


@contextmanager
def read_before_write_lock(session: Session) -> Iterator[bool]:
    """SQLite, before a transaction's first write: the block's reads share one snapshot of the
    database (a WAL read transaction, which takes no write lock, so the other writers go on
    meanwhile), and yields True. The caller then takes `write_lock` and must check that what it
    read is still current, as another writer may have committed in between. Elsewhere (on
    PostgreSQL, or once the transaction has written) yields False and does nothing: read
    under the locks instead. Nothing in the block may write (autoflush is off)."""
    driver = _sqlite_driver(session)
    if driver is None or driver.in_transaction:
        yield False
        return
    driver.execute("BEGIN DEFERRED")
    try:
        with session.no_autoflush:
            yield True
    finally:
        if driver.in_transaction:  # (an error may have ended it)
            driver.execute("COMMIT")  # ends the read: nothing was written
