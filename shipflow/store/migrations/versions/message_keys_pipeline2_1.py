"""customer messages indexed by shipment: the outbox reads a batch's stored message keys at once

Revision ID: message_keys_pipeline2_1
Revises: claims_claims_1
Create Date: 2026-12-06 07:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "message_keys_pipeline2_1"
down_revision: str | Sequence[str] | None = "claims_claims_1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_customer_messages_shipment_id", "customer_messages", ["shipment_id"])


def downgrade() -> None:
    op.drop_index("ix_customer_messages_shipment_id", table_name="customer_messages")
