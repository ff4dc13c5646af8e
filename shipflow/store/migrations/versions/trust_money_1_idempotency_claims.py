"""idempotency claims: a key's row exists before its response (NULL while in progress)

Revision ID: trust_money_1
Revises: merge_2
Create Date: 2026-11-24 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "trust_money_1"
down_revision: str | Sequence[str] | None = "merge_2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.alter_column("response_status", existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM idempotency_keys WHERE response_status IS NULL")
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.alter_column("response_status", existing_type=sa.Integer(), nullable=False)
