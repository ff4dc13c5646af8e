"""merge the second wave's heads (shop accounts and orders, pickup points and COD, partitions)

Revision ID: merge_5
Revises: channels_core_1, pickup_cod_1, retention_1
Create Date: 2026-12-06 04:30:00
"""

from collections.abc import Sequence

revision: str = "merge_5"
down_revision: str | Sequence[str] | None = ("channels_core_1", "pickup_cod_1", "retention_1")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
