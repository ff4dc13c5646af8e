"""update subscriptions: e-mail or phone contacts asked for on the tracking page, per shipment

Revision ID: pages_1
Revises: merge_5
Create Date: 2026-12-06 04:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shipflow.store.models

revision: str = "pages_1"
down_revision: str | Sequence[str] | None = "merge_5"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "update_subscriptions",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column(
            "brand_id",
            sa.String(40),
            sa.ForeignKey("brands.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "shipment_id",
            sa.String(40),
            sa.ForeignKey("shipments.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("recipient", sa.String(254), nullable=False),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("created_at", shipflow.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("shipment_id", "channel", "recipient"),
    )
    op.create_index("ix_update_subscriptions_shipment_id", "update_subscriptions", ["shipment_id"])


def downgrade() -> None:
    op.drop_index("ix_update_subscriptions_shipment_id", "update_subscriptions")
    op.drop_table("update_subscriptions")
