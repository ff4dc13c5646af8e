"""leases: a claim sets `leased_until`, which no index holds, in room left on its page

A worker's claim of receipts, outbox messages and customer messages moved the row's due
column (`available_at`, `send_after`) into the future: an indexed column, so every claim
wrote a new entry into each of the table's indexes. The lease now has a column of its own,
outside every index, and the tables keep half of each page free (fillfactor 50, for the
pages written from now on), so PostgreSQL writes the claimed version beside the old one as a
heap-only tuple and no index entry (with 70, half the claims found no room: docs/benchmarks.md). Receipts' partitions take the fillfactor (a partitioned
table has none); `shipflow.store.partitions` gives it to the months made later.

Revision ID: leases_rows7_1
Revises: index_entries_rows7_1
Create Date: 2026-12-07 11:25:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from shipflow.store.models import UTCDateTime

revision: str = "leases_rows7_1"
down_revision: str | Sequence[str] | None = "index_entries_rows7_1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LEASED = ("webhook_receipts", "outbox", "customer_messages")
FILLFACTOR = 50


def upgrade() -> None:
    for table in LEASED:
        op.add_column(table, sa.Column("leased_until", UTCDateTime(timezone=True), nullable=True))
    _fillfactor(f"SET (fillfactor = {FILLFACTOR})")


def downgrade() -> None:
    _fillfactor("RESET (fillfactor)")
    for table in LEASED:
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column("leased_until")


def _fillfactor(change: str) -> None:
    """On each leased table's storage: the receipts' partitions, the others themselves."""
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    partitions = bind.scalars(
        sa.text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'webhook_receipts'::regclass"
        )
    ).all()
    for table in [*partitions, "outbox", "customer_messages"]:
        op.execute(f"ALTER TABLE {table} {change}")
