"""order sources: channel accounts, orders' source ids, receipts' source kind

Revision ID: arch_channels_1
Revises: merge_3
Create Date: 2026-11-25 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "arch_channels_1"
down_revision: str | Sequence[str] | None = "merge_3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "channel_accounts",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("brand_id", sa.String(length=40), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("shop", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(["brand_id"], ["brands.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("brand_id", "code"),
    )
    op.create_index(
        op.f("ix_channel_accounts_brand_id"), "channel_accounts", ["brand_id"], unique=False
    )
    # Plain columns (no table rebuild on SQLite): existing orders came from the API.
    op.add_column("orders", sa.Column("source_account", sa.String(length=40), nullable=True))
    op.add_column("orders", sa.Column("source_order_id", sa.String(length=64), nullable=True))
    op.create_index(
        "ux_orders_source", "orders", ["source_account", "source_order_id"], unique=True
    )
    op.add_column(
        "webhook_receipts",
        sa.Column("source_kind", sa.String(length=16), server_default="carrier", nullable=False),
    )


def downgrade() -> None:
    # Plain drops (SQLite >= 3.35): a batch rebuild of `orders` would cascade to its lines.
    op.drop_column("webhook_receipts", "source_kind")
    op.drop_index("ux_orders_source", table_name="orders")
    op.drop_column("orders", "source_order_id")
    op.drop_column("orders", "source_account")
    op.drop_index(op.f("ix_channel_accounts_brand_id"), table_name="channel_accounts")
    op.drop_table("channel_accounts")
