"""the backlog count's daily delivery totals, and the indexes its two queries use

Revision ID: backlog_days_leftovers2_1
Revises: delay_risk_warnprod_1
Create Date: 2026-12-06 15:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "backlog_days_leftovers2_1"
down_revision: str | Sequence[str] | None = "delay_risk_warnprod_1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("backlog_counts") as batch:
        batch.add_column(
            sa.Column("days", sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
        )
    op.create_index("ix_shipments_brand_delivered", "shipments", ["brand_id", "delivered_at"])
    op.create_index(
        "ix_shipments_brand_in_flight",
        "shipments",
        ["brand_id", "created_at"],
        postgresql_where=sa.text("delivered_at IS NULL"),
        sqlite_where=sa.text("delivered_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_shipments_brand_in_flight", "shipments")
    op.drop_index("ix_shipments_brand_delivered", "shipments")
    with op.batch_alter_table("backlog_counts") as batch:
        batch.drop_column("days")
