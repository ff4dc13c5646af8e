"""The batch writes of `shipflow.store.db` on both databases: the values stored as the ORM
stores them, in one statement."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Table, select

from shipflow.store.db import insert_all, one_of, update_all
from shipflow.store.models import OutboxMessage
from tests.statements import executions_sent

OUTBOX: Table = OutboxMessage.__table__  # type: ignore[assignment]
ODD_TEXT = 'a "quoted" line\nand another, \\ ü 🚚'


def _rows(clock, count: int) -> list[dict]:
    return [
        {
            "topic": "t",
            "dedupe_key": f"k{n}",
            # an integer past 64 bits: a carrier's 22-digit waybill number as a JSON number
            "payload": {
                "n": n,
                "text": ODD_TEXT,
                "none": None,
                "flag": True,
                "f": 0.5,
                "waybill": 10**21 + n,
            },
            "available_at": clock.now() + timedelta(seconds=n),
            "last_error": ODD_TEXT if n % 2 else None,
        }
        for n in range(count)
    ]


def test_insert_all_stores_the_values_the_orm_would_in_one_statement(runtime, clock):
    """On SQLite too one execution, the rows as one JSON document (an executemany built and
    converted a parameter set per row in Python); times, JSON and text stored as the ORM
    stores them, the defaults (the clock) filled in."""
    rows = _rows(clock, 3)
    with runtime.sessions.begin() as session, executions_sent(runtime.engine) as sent:
        insert_all(session, OUTBOX, rows)
    assert [execution.executemany for execution in sent] == [False]
    with runtime.sessions() as session:
        stored = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert [(m.dedupe_key, m.payload, m.available_at, m.last_error) for m in stored] == [
        (r["dedupe_key"], r["payload"], r["available_at"], r["last_error"]) for r in rows
    ]
    assert {(m.created_at, m.attempts, m.processed_at) for m in stored} == {(clock.now(), 0, None)}


def test_update_all_writes_each_row_its_own_values_in_one_statement(runtime, clock):
    insert_all_rows = _rows(clock, 4)
    with runtime.sessions.begin() as session:
        insert_all(session, OUTBOX, insert_all_rows)
        ids = session.scalars(select(OutboxMessage.id).order_by(OutboxMessage.id)).all()
    changes = [
        {"id": ids[n], "attempts": n + 1, "processed_at": clock.now() + timedelta(minutes=n),
         "last_error": None if n % 2 else ODD_TEXT}
        for n in (0, 1, 3)
    ]  # fmt: skip
    with runtime.sessions.begin() as session, executions_sent(runtime.engine) as sent:
        update_all(session, OUTBOX, "id", changes)
    assert [execution.executemany for execution in sent] == [False]
    with runtime.sessions() as session:
        stored = session.execute(
            select(
                OutboxMessage.attempts, OutboxMessage.processed_at, OutboxMessage.last_error
            ).order_by(OutboxMessage.id)
        ).all()
    assert [tuple(row) for row in stored] == [
        (1, clock.now(), ODD_TEXT),
        (2, clock.now() + timedelta(minutes=1), None),
        (0, None, None),  # not in the batch: untouched
        (4, clock.now() + timedelta(minutes=3), None),
    ]


def test_one_of_finds_each_value_bound_as_one_text(runtime, clock):
    """`one_of` matches each of its values, strings PostgreSQL's array text must quote and
    escape (quotes, backslashes, braces, commas, blanks, "NULL", empty) and integers alike; on
    PostgreSQL each array is bound as one text, not a list psycopg would dump element by
    element in Python."""
    keys = [ODD_TEXT, "{a,b}", "NULL", "", " padded ", "plain"]
    rows = [
        {**row, "dedupe_key": key} for row, key in zip(_rows(clock, len(keys)), keys, strict=True)
    ]
    with runtime.sessions.begin() as session:
        insert_all(session, OUTBOX, rows)
    with runtime.sessions() as session, executions_sent(runtime.engine) as sent:
        by_key = session.execute(
            select(OutboxMessage.id, OutboxMessage.dedupe_key).where(
                one_of(session, OutboxMessage.dedupe_key, [*keys[:-1], "absent"])
            )
        ).all()
        ids = [message_id for message_id, _ in by_key]
        by_id = session.scalars(
            select(OutboxMessage.dedupe_key).where(one_of(session, OutboxMessage.id, ids[1:]))
        ).all()
    assert sorted(key for _, key in by_key) == sorted(keys[:-1])
    assert sorted(by_id) == sorted(key for _, key in by_key[1:])
    if runtime.engine.dialect.name == "postgresql":
        bound = [value for execution in sent for value in execution.parameters.values()]
        assert [type(value) for value in bound] == [str, str]
