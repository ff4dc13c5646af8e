"""each brand's learned delay risk model: the chance a parcel in flight misses its promise

Revision ID: delay_risk_warnprod_1
Revises: backlog_counts_leftovers_1
Create Date: 2026-12-06 12:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shipflow.store.models

revision: str = "delay_risk_warnprod_1"
down_revision: str | Sequence[str] | None = "backlog_counts_leftovers_1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "delay_risk_models",
        sa.Column("brand_id", sa.String(length=40), nullable=False),
        sa.Column("learned_at", shipflow.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("checks", sa.Integer(), nullable=False),
        sa.Column("model", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["brand_id"], ["brands.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("brand_id"),
    )


def downgrade() -> None:
    op.drop_table("delay_risk_models")
