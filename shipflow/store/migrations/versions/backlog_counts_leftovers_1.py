"""each brand's queue per carrier service, counted by a periodic job instead of per quote

Revision ID: backlog_counts_leftovers_1
Revises: message_keys_pipeline2_1
Create Date: 2026-12-06 12:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shipflow.store.models

revision: str = "backlog_counts_leftovers_1"
down_revision: str | Sequence[str] | None = "message_keys_pipeline2_1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "backlog_counts",
        sa.Column("brand_id", sa.String(length=40), nullable=False),
        sa.Column("counted_at", shipflow.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("services", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["brand_id"], ["brands.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("brand_id"),
    )


def downgrade() -> None:
    op.drop_table("backlog_counts")
