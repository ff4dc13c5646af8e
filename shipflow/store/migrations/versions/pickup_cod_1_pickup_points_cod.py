"""pickup points and cash on delivery: the store an order or parcel goes to, its deadline,
and the amount to collect

Revision ID: pickup_cod_1
Revises: merge_4
Create Date: 2026-12-06 03:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "pickup_cod_1"
down_revision: str | Sequence[str] | None = "merge_4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain nullable columns or server defaults: no table rebuild on SQLite.
    op.add_column(
        "orders",
        sa.Column("cash_on_delivery", sa.BigInteger(), server_default="0", nullable=False),
    )
    op.add_column("orders", sa.Column("pickup_point", sa.JSON(), nullable=True))
    op.add_column("shipments", sa.Column("pickup_point", sa.JSON(), nullable=True))
    op.add_column(
        "shipments", sa.Column("pickup_deadline", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    # Plain drops (SQLite >= 3.35): a batch rebuild of `orders` would cascade to its lines.
    op.drop_column("shipments", "pickup_deadline")
    op.drop_column("shipments", "pickup_point")
    op.drop_column("orders", "pickup_point")
    op.drop_column("orders", "cash_on_delivery")
