"""when a shipment was subscribed to its carrier's pushes (UPS Track Alert, Kuaidi100, 17TRACK)

Revision ID: subs_1
Revises: merge_5
Create Date: 2026-12-06 04:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "subs_1"
down_revision: str | Sequence[str] | None = "merge_5"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "shipments", sa.Column("push_subscribed_at", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    op.drop_column("shipments", "push_subscribed_at")
