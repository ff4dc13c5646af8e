"""ops session version: sign-out and password change end the user's sessions

Revision ID: trust_secrets_1
Revises: merge_2
Create Date: 2026-11-24 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "trust_secrets_1"
down_revision: str | Sequence[str] | None = "merge_2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("ops_users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("session_version", sa.Integer(), server_default="0", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("ops_users", schema=None) as batch_op:
        batch_op.drop_column("session_version")
