"""the sandbox carrier's book (instructions, cancellations, label sequence) in the database

Revision ID: scale_state_1
Revises: merge_5
Create Date: 2026-12-06 04:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shipflow.store.models

revision: str = "scale_state_1"
down_revision: str | Sequence[str] | None = "merge_5"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sandbox_instructions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("tracking_number", sa.String(length=64), nullable=False),
        sa.Column("issued_at", shipflow.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("instruction", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sandbox_instructions")),
    )
    with op.batch_alter_table("sandbox_instructions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sandbox_instructions_tracking_number"), ["tracking_number"]
        )
    op.create_table(
        "sandbox_cancellations",
        sa.Column("tracking_number", sa.String(length=64), nullable=False),
        sa.Column("cancelled_at", shipflow.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tracking_number", name=op.f("pk_sandbox_cancellations")),
    )
    op.create_table(
        "sandbox_sequences",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_sandbox_sequences")),
    )


def downgrade() -> None:
    op.drop_table("sandbox_sequences")
    op.drop_table("sandbox_cancellations")
    with op.batch_alter_table("sandbox_instructions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sandbox_instructions_tracking_number"))
    op.drop_table("sandbox_instructions")
