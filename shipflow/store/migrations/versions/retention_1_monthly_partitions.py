"""monthly partitions of webhook_receipts and tracking_events (PostgreSQL only)

Each table is rebuilt as a table range-partitioned by `received_at`: the old one is renamed,
the new one created like it with a default partition and one partition per month from its
oldest row to three months ahead, the rows copied, the id sequence handed over, the old table
dropped, then its indexes and foreign keys re-created as they were. The primary key becomes
(id, received_at) and tracking_events' unique (shipment_id, dedupe_key) a plain index, as a
partitioned table's unique keys must hold its partition key (see shipflow/store/partitions.py).
SQLite is left as it is.

Revision ID: retention_1
Revises: merge_4
Create Date: 2026-12-06 03:40:00
"""

from collections.abc import Sequence
from datetime import UTC, date, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "retention_1"
down_revision: str | Sequence[str] | None = "merge_4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = {"webhook_receipts": "received_at", "tracking_events": "received_at"}
AHEAD = 3


def _month(day: date) -> date:
    return day.replace(day=1)


def _next(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def _definitions(bind, table: str) -> tuple[list[str], list[tuple[str, str, str]]]:
    """The table's plain indexes (CREATE statements) and its constraints (name, type, def)."""
    constraints = bind.execute(
        sa.text(
            "SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = to_regclass(:table)"
        ),
        {"table": table},
    ).all()
    backing = {name for name, kind, _ in constraints if kind in ("p", "u")}
    indexes = bind.execute(
        sa.text(
            "SELECT indexname, indexdef FROM pg_indexes "
            "WHERE schemaname = current_schema() AND tablename = :table"
        ),
        {"table": table},
    ).all()
    return [sql for name, sql in indexes if name not in backing], [tuple(c) for c in constraints]


def _rebuild(table: str, partition_by: str | None, keep_unique: bool) -> None:
    bind = op.get_bind()
    indexes, constraints = _definitions(bind, table)
    op.execute(f"ALTER TABLE {table} RENAME TO {table}_old")
    suffix = f" PARTITION BY RANGE ({partition_by})" if partition_by else ""
    op.execute(f"CREATE TABLE {table} (LIKE {table}_old INCLUDING DEFAULTS){suffix}")
    if partition_by:
        op.execute(f"CREATE TABLE {table}_default PARTITION OF {table} DEFAULT")
        oldest = bind.scalar(sa.text(f"SELECT min({partition_by}) FROM {table}_old"))
        month = _month((oldest or datetime.now(UTC)).astimezone(UTC).date())
        last = _month(datetime.now(UTC).date())
        for _ in range(AHEAD):
            last = _next(last)
        while month <= last:
            end = _next(month)
            op.execute(
                f"CREATE TABLE {table}_p{month:%Y%m} PARTITION OF {table} "
                f"FOR VALUES FROM ('{month.isoformat()} 00:00+00') TO ('{end.isoformat()} 00:00+00')"
            )
            month = end
    op.execute(f"INSERT INTO {table} SELECT * FROM {table}_old")
    op.execute(f"ALTER SEQUENCE {table}_id_seq OWNED BY {table}.id")
    op.execute(f"DROP TABLE {table}_old")
    for name, kind, definition in constraints:
        if kind == "p":
            columns = f"id, {partition_by}" if partition_by else "id"
            op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} PRIMARY KEY ({columns})")
        elif kind == "u" and not keep_unique:
            columns = definition.removeprefix("UNIQUE ")
            op.execute(f"CREATE INDEX {name} ON {table} {columns}")
        else:
            op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")
    for sql in indexes:
        if keep_unique and sql.startswith("CREATE INDEX uq_"):  # back to a unique constraint
            name, columns = sql.split()[2], sql[sql.index("(") :]
            op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} UNIQUE {columns}")
        else:
            op.execute(sql)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, key in TABLES.items():
        _rebuild(table, key, keep_unique=False)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TABLES:
        _rebuild(table, None, keep_unique=True)
