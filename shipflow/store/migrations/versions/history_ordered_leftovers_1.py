"""delivery history's (brand_id, ordered_at) index

Learning a brand's delay risk reads its history by the orders placed in the last
`history_days` (`shipflow.edd.repository.load_history`); the (brand_id, delivered_at) index
gave the brand's rows only, each then read and filtered by when it was ordered.

Revision ID: history_ordered_leftovers_1
Revises: outbox_due_pgstmts_1
Create Date: 2026-12-06 21:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "history_ordered_leftovers_1"
down_revision: str | Sequence[str] | None = "outbox_due_pgstmts_1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_delivery_history_brand_ordered", "delivery_history", ["brand_id", "ordered_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_delivery_history_brand_ordered", table_name="delivery_history")
