"""sales channels: shops connected through the API (encrypted credentials, enabled flag,
reconciliation cursor), one brand per shop, deliveries acted on, shop orders' state

Revision ID: channels_core_1
Revises: merge_4
Create Date: 2026-12-06 03:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "channels_core_1"
down_revision: str | Sequence[str] | None = "merge_4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain columns (no table rebuild on SQLite: a batch rebuild of `orders` would cascade).
    op.add_column(
        "channel_accounts",
        sa.Column("enabled", sa.Boolean(), server_default=sa.true(), nullable=False),
    )
    op.add_column("channel_accounts", sa.Column("credentials", sa.Text(), nullable=True))
    op.add_column(
        "channel_accounts", sa.Column("sync_cursor", sa.String(length=1024), nullable=True)
    )
    op.add_column(
        "channel_accounts", sa.Column("sync_after", sa.DateTime(timezone=True), nullable=True)
    )
    op.create_index(
        "ux_channel_accounts_shop", "channel_accounts", ["channel", "shop"], unique=True
    )
    op.create_table(
        "channel_deliveries",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True),
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("delivery_id", sa.String(length=255), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["channel_accounts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("account_id", "delivery_id"),
    )
    op.add_column(
        "orders", sa.Column("source_updated_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column(
        "orders", sa.Column("paid", sa.Boolean(), server_default=sa.true(), nullable=False)
    )
    op.add_column("orders", sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("orders", sa.Column("attention", sa.JSON(), server_default="[]", nullable=False))
    op.add_column(
        "orders", sa.Column("source_details", sa.JSON(), server_default="{}", nullable=False)
    )


def downgrade() -> None:
    for column in ("source_details", "attention", "cancelled_at", "paid", "source_updated_at"):
        op.drop_column("orders", column)
    op.drop_table("channel_deliveries")
    op.drop_index("ux_channel_accounts_shop", table_name="channel_accounts")
    for column in ("sync_after", "sync_cursor", "credentials", "enabled"):
        op.drop_column("channel_accounts", column)
