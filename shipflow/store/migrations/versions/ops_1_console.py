"""ops console: the ops audit trail, learned stale limits, case assignment, e-mail and phone search indexes

Revision ID: ops_1
Revises: merge_5
Create Date: 2026-12-06 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shipflow.store.models

revision: str = "ops_1"
down_revision: str | Sequence[str] | None = "merge_5"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ops_actions",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("brand_id", sa.String(length=40), nullable=False),
        sa.Column("shipment_id", sa.String(length=40), nullable=False),
        sa.Column("actor", sa.String(length=254), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("created_at", shipflow.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["brand_id"], ["brands.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["shipment_id"], ["shipments.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_ops_actions_shipment", "ops_actions", ["shipment_id", "created_at"])
    op.create_table(
        "stale_limits",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("brand_id", sa.String(length=40), nullable=False),
        sa.Column("carrier", sa.String(length=32), nullable=False),
        sa.Column("service", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("hours", sa.Float(), nullable=False),
        sa.Column("samples", sa.Integer(), nullable=False),
        sa.Column("learned_at", shipflow.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["brand_id"], ["brands.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("brand_id", "carrier", "service", "status"),
    )
    with op.batch_alter_table("ndr_cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("assigned_to", sa.String(length=254), nullable=True))
    op.create_index("ix_orders_brand_email", "orders", ["brand_id", "customer_email"])
    op.create_index("ix_orders_brand_phone", "orders", ["brand_id", "customer_phone"])


def downgrade() -> None:
    op.drop_index("ix_orders_brand_phone", table_name="orders")
    op.drop_index("ix_orders_brand_email", table_name="orders")
    with op.batch_alter_table("ndr_cases", schema=None) as batch_op:
        batch_op.drop_column("assigned_to")
    op.drop_table("stale_limits")
    op.drop_index("ix_ops_actions_shipment", table_name="ops_actions")
    op.drop_table("ops_actions")
