"""merge feature heads

Revision ID: merge_2
Revises: allocation_2, postpurchase_2
Create Date: 2026-11-23 21:56:35.962798
"""

from collections.abc import Sequence

revision: str = "merge_2"
down_revision: str | Sequence[str] | None = ("allocation_2", "postpurchase_2")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
