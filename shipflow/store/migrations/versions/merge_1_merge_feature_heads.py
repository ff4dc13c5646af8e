"""merge feature heads

Revision ID: merge_1
Revises: postpurchase_1, edd_1, alerts_1, feedback_1, tracking_1
Create Date: 2026-11-23 21:14:08.649748
"""

from collections.abc import Sequence

revision: str = "merge_1"
down_revision: str | Sequence[str] | None = (
    "postpurchase_1",
    "edd_1",
    "alerts_1",
    "feedback_1",
    "tracking_1",
)
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
