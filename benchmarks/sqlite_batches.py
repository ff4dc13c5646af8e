"""This process's CPU for the batch writes of `shipflow.store.db` on SQLite, the embedded
default's database: `insert_all` and `update_all` per row, at the batch sizes the jobs see
(a receipts batch of 50-100 events, an outbox batch of up to 500 messages).

    python benchmarks/sqlite_batches.py [--repeat 200]

The rows are outbox messages (a JSON payload, times, text), in a temporary file migrated as
`shipflow db upgrade` does; each figure is the best of five rounds of `--repeat` batches,
each batch in a transaction rolled back (so the table does not grow), less the same
transaction without the statement. CPU time of this thread (`time.thread_time`), so the
machine's other load inflates it least. Asserts nothing.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from shipflow.store import db  # noqa: E402
from shipflow.store.migrate import upgrade  # noqa: E402
from shipflow.store.models import OutboxMessage  # noqa: E402

OUTBOX = OutboxMessage.__table__
SIZES = (10, 50, 200)


def rows(count: int, now: datetime) -> list[dict]:
    return [
        {
            "topic": "customer.milestone",
            "dedupe_key": f"shipment-{n}:in_transit",
            "payload": {"shipment_id": f"shp_{n:020d}", "status": "in_transit", "n": n},
            "available_at": now + timedelta(seconds=n),
            "last_error": None,
        }
        for n in range(count)
    ]


def best_cpu(factory, repeat: int, work: Callable) -> float:
    """Seconds of CPU per batch: the best of five rounds, the bare transaction's taken off."""

    def round_of(body: Callable) -> float:
        started = time.thread_time()
        for _ in range(repeat):
            with factory() as session:
                body(session)
                session.rollback()
        return (time.thread_time() - started) / repeat

    bare = min(round_of(lambda session: session.connection()) for _ in range(5))
    return min(round_of(work) for _ in range(5)) - bare


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="shipflow-sqlitebatch-"))
    url = f"sqlite:///{folder / 'shipflow.db'}"
    upgrade(url)
    engine = db.make_engine(url)
    factory = db.make_session_factory(engine)
    now = datetime.now(UTC)
    with factory.begin() as session:
        db.insert_all(session, OUTBOX, rows(max(SIZES), now))
        ids = list(session.scalars(select(OutboxMessage.id)))
    for size in SIZES:
        batch = rows(size, now + timedelta(days=1))
        for row in batch:
            row["dedupe_key"] += ":new"  # the stored rows' keys are taken
        changes = [
            {"id": i, "attempts": 1, "processed_at": now, "last_error": "x"} for i in ids[:size]
        ]
        insert = best_cpu(factory, args.repeat, lambda s, b=batch: db.insert_all(s, OUTBOX, b))
        update = best_cpu(
            factory, args.repeat, lambda s, c=changes: db.update_all(s, OUTBOX, "id", c)
        )
        print(
            f"{size:4d} rows: insert_all {insert / size * 1e6:6.1f} us/row, "
            f"update_all {update / size * 1e6:6.1f} us/row"
        )


if __name__ == "__main__":
    main()
