"""outbox due index: the pending messages only, in claim order

The claim reads the pending messages in (available_at, id) order: the old index on
(processed_at, available_at) gave no order for it, so each claim read and sorted the whole
backlog. A partial index of the pending ones in that order hands out the first batch at
once, and processed messages leave it; retention's look-up of old processed messages gets
its own partial index.

Revision ID: outbox_due_pgstmts_1
Revises: backlog_days_leftovers2_1
Create Date: 2026-12-06 15:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "outbox_due_pgstmts_1"
down_revision: str | Sequence[str] | None = "backlog_days_leftovers2_1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING = sa.text("processed_at IS NULL")
PROCESSED = sa.text("processed_at IS NOT NULL")


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_due")
        batch_op.create_index(
            "ix_outbox_due",
            ["available_at", "id"],
            unique=False,
            postgresql_where=PENDING,
            sqlite_where=PENDING,
        )
        batch_op.create_index(
            "ix_outbox_processed",
            ["processed_at"],
            unique=False,
            postgresql_where=PROCESSED,
            sqlite_where=PROCESSED,
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_processed")
        batch_op.drop_index("ix_outbox_due")
        batch_op.create_index("ix_outbox_due", ["processed_at", "available_at"], unique=False)
