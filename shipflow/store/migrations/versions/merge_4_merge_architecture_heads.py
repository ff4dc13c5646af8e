"""merge the architecture work's heads (brand settings copies dropped, order sources)

Revision ID: merge_4
Revises: arch_brandconfig_1, arch_channels_1
Create Date: 2026-12-06 02:00:00
"""

from collections.abc import Sequence

revision: str = "merge_4"
down_revision: str | Sequence[str] | None = ("arch_brandconfig_1", "arch_channels_1")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
