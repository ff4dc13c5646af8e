"""Monthly partitions of the tables that grow with every event (PostgreSQL only).

`webhook_receipts` and `tracking_events` are range-partitioned by `received_at`, one
partition per calendar month (UTC) named `<table>_pYYYYMM`, plus a default partition so an
insert never fails for want of one. A job creates the coming months ahead; retention drops a
whole month once every row of it is past keeping, instead of deleting row by row.

A partitioned table's unique constraints must contain its partition key, so on PostgreSQL
`tracking_events` keeps (shipment_id, dedupe_key) as a plain index: the ingest locks the
shipment's row before it reads which events are known, so two writers never insert one event
twice (SQLite, which has no row locks, keeps the unique constraint)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Connection, text

from shipflow.store.models import LEASED_FILLFACTOR

if TYPE_CHECKING:
    from shipflow.runtime import Runtime

PARTITIONED = {"webhook_receipts": "received_at", "tracking_events": "received_at"}
# A partitioned table has no storage of its own: its partitions take the storage parameters,
# here the receipts' room for a claim's HOT version (shipflow.store.lease).
STORAGE = {"webhook_receipts": LEASED_FILLFACTOR}
MONTHS_AHEAD = 3
EVENTS_UNIQUE_KEY = "uq_tracking_events_shipment_id"


def include_object(dialect: str) -> Callable[..., bool]:
    """Alembic's `include_object` hook: what autogenerate compares. On PostgreSQL, partitions
    are the partitioned table's storage, not tables of their own, and the events'
    (shipment_id, dedupe_key) unique key is an index by design (see above)."""

    def compared(obj: object, name: str | None, kind: str, reflected: bool, other: object) -> bool:
        if dialect != "postgresql":
            return True
        if name == EVENTS_UNIQUE_KEY:
            return False
        return not (kind == "table" and name is not None and is_partition(name))

    return compared


def is_partition(name: str) -> bool:
    parent, _, part = name.rpartition("_")
    return parent in PARTITIONED and (part == "default" or (part[:1] == "p" and part[1:].isdigit()))


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def month_bounds(month: date) -> tuple[datetime, datetime]:
    """The partition's range: [first instant of the month, first of the next) in UTC."""
    end = next_month(month)
    return (
        datetime(month.year, month.month, 1, tzinfo=UTC),
        datetime(end.year, end.month, 1, tzinfo=UTC),
    )


def partition_name(table: str, month: date) -> str:
    return f"{table}_p{month:%Y%m}"


def partitions(connection: Connection, table: str) -> dict[str, date]:
    """The monthly partitions of `table` and the month each holds."""
    names = connection.scalars(
        text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent "
            "WHERE p.relname = :table AND p.relnamespace = to_regnamespace(current_schema())::oid"
        ),
        {"table": table},
    )
    prefix = f"{table}_p"
    return {
        name: date(int(name[-6:-2]), int(name[-2:]), 1)
        for name in names
        if name.startswith(prefix) and name[len(prefix) :].isdigit()
    }


def ensure_partitions(
    connection: Connection, now: datetime, ahead: int = MONTHS_AHEAD
) -> list[str]:
    """Create this month's and the next `ahead` months' partitions where missing; rows that
    fell into the default partition meanwhile move into their month. Returns those created."""
    if connection.dialect.name != "postgresql":
        return []
    created = []
    for table, key in PARTITIONED.items():
        have = set(partitions(connection, table).values())
        month = month_start(now.astimezone(UTC).date())
        for _ in range(ahead + 1):
            if month not in have:
                create_partition(connection, table, key, month)
                created.append(partition_name(table, month))
            month = next_month(month)
    return created


def create_partition(connection: Connection, table: str, key: str, month: date) -> None:
    """One month's partition; rows of that month already in the default partition move in."""
    name, default = partition_name(table, month), f"{table}_default"
    low, high = month_bounds(month)
    bounds = {"low": low, "high": high}
    where = f"{key} >= :low AND {key} < :high"
    connection.execute(text(f"CREATE TEMP TABLE moving (LIKE {table})"))
    connection.execute(
        text(
            f"WITH moved AS (DELETE FROM {default} WHERE {where} RETURNING *) "
            "INSERT INTO moving SELECT * FROM moved"
        ),
        bounds,
    )
    connection.execute(
        text(
            f"CREATE TABLE {name} PARTITION OF {table} "
            f"FOR VALUES FROM ('{low.isoformat()}') TO ('{high.isoformat()}'){storage(table)}"
        )
    )
    connection.execute(text(f"INSERT INTO {table} SELECT * FROM moving"))
    connection.execute(text("DROP TABLE moving"))


def storage(table: str) -> str:
    """The WITH clause of `table`'s partitions ("" if none)."""
    options = ", ".join(f"{key} = {value}" for key, value in STORAGE.get(table, {}).items())
    return f" WITH ({options})" if options else ""


def ensure_partitions_job(runtime: Runtime) -> int:
    """The periodic job: the coming months' partitions exist before their first row."""
    with runtime.engine.begin() as connection:
        return len(ensure_partitions(connection, runtime.clock.now()))


def drop_partition(connection: Connection, table: str, month: date) -> None:
    connection.execute(text(f"DROP TABLE {partition_name(table, month)}"))
