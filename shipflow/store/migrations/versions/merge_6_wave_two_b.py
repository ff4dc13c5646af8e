"""merge the second wave's later heads (ops cases, update subscriptions, shared sandbox state,
push subscriptions)

Revision ID: merge_6
Revises: ops_1, pages_1, scale_state_1, subs_1
Create Date: 2026-12-06 05:15:00
"""

from collections.abc import Sequence

revision: str = "merge_6"
down_revision: str | Sequence[str] | None = ("ops_1", "pages_1", "scale_state_1", "subs_1")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
