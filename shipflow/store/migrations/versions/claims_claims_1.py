"""delivery claims ("I didn't get it") and the carriers' delivery photos

Revision ID: claims_claims_1
Revises: merge_6
Create Date: 2026-12-06 06:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shipflow.store.models

revision: str = "claims_claims_1"
down_revision: str | Sequence[str] | None = "merge_6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "delivery_claims",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("brand_id", sa.String(length=40), nullable=False),
        sa.Column("shipment_id", sa.String(length=40), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("what_happened", sa.String(length=32), nullable=False),
        sa.Column("checked", sa.JSON(), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("contact", sa.String(length=254), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("proof", sa.JSON(), nullable=False),
        sa.Column("replacement_id", sa.String(length=40), nullable=True),
        sa.Column("refunded_at", shipflow.store.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("opened_at", shipflow.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", shipflow.store.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["brand_id"], ["brands.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["shipment_id"], ["shipments.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("shipment_id"),
    )
    op.create_index(
        "ix_delivery_claims_brand_state", "delivery_claims", ["brand_id", "state", "opened_at"]
    )
    op.create_table(
        "delivery_photos",
        sa.Column("shipment_id", sa.String(length=40), nullable=False),
        sa.Column("media_type", sa.String(length=32), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("received_at", shipflow.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["shipment_id"], ["shipments.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("shipment_id"),
    )


def downgrade() -> None:
    op.drop_table("delivery_photos")
    op.drop_index("ix_delivery_claims_brand_state", table_name="delivery_claims")
    op.drop_table("delivery_claims")
