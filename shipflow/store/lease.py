"""Claiming due rows for one worker: one UPDATE ... WHERE id IN (due rows) RETURNING.

On PostgreSQL the inner select takes `FOR UPDATE SKIP LOCKED`, so concurrent workers get
disjoint batches without waiting on each other. SQLite has one writer at a time: the single
write statement is the lease. The claim's `values` take the rows out of `where` until a
time, so a worker that dies lets its claim lapse and the rows come back; nothing is lost.

Receipts, outbox messages and customer messages are claimed through a column of their own,
`leased_until` (`unleased` in `where`, set by `values`), which no index holds: the
claimed version is then a heap-only tuple (HOT, on the same page: these tables keep room with
a fillfactor) and adds no index entry. Claims that moved the due column itself wrote a new
entry into each of the table's indexes (docs/benchmarks.md, "rows and index entries
written"). A change that makes such a row due before its lease lapses (a retry's backoff)
sets `leased_until` to NULL with it. A shipment's poll still moves `next_poll_at`, which the
poll sets again anyway.

On PostgreSQL the claim plans without a full sort (`enable_sort` off for its transaction):
the statistics autovacuum takes see almost no row waiting, and on that estimate the planner
sorted every waiting row to pick the first `limit` (for the partitioned receipts, an Append of
the partitions' index scans under a Sort, the empty months ahead making the ordered Merge
Append look dearer), so each claim read the whole backlog: 121 ms among 30,000 waiting
receipts, against 0.45 ms by the due index's order (docs/benchmarks.md, "The shipment's
update made HOT").

The outer UPDATE finds the chosen rows by their table's whole primary key: on a partitioned
table (`shipflow.store.partitions`) that is the id and the partition key, which lets the
planner look each one up in its partition's index. By the id alone it hashed the chosen ids
and read every row of the month's partition on every claim (docs/benchmarks.md, "CPU per
event").
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, or_, select, text, tuple_, update
from sqlalchemy.orm import Session

from shipflow.store.partitions import PARTITIONED

_NO_FULL_SORT = text("SET LOCAL enable_sort = off")  # until the claim's commit


def unleased(model: Any, now: datetime) -> ColumnElement[bool]:
    """No worker holds the row: never claimed, or its claim lapsed or was ended."""
    return or_(model.leased_until.is_(None), model.leased_until <= now)


def claim(
    session: Session,
    model: Any,
    where: Sequence[ColumnElement[bool]],
    order_by: Sequence[Any],
    limit: int,
    values: dict[str, Any],
    returning: Sequence[Any] = (),
) -> list[Row]:
    """Set `values` on up to `limit` rows matching `where` and return their `returning`
    columns (the id first). Call in its own short transaction and commit straight after (on
    PostgreSQL its planner setting lasts until then)."""
    key = [model.id]
    if model.__tablename__ in PARTITIONED:
        key.append(getattr(model, PARTITIONED[model.__tablename__]))
    due = select(*key).where(*where).order_by(*order_by).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
        session.execute(_NO_FULL_SORT)
    statement = (
        update(model)
        .where(tuple_(*key).in_(due))
        .values(**values)
        .returning(model.id, *returning)
        .execution_options(synchronize_session=False)
    )
    return list(session.execute(statement))
