"""merge the trust fixes' heads (idempotency claims, label purchases, ops session versions,
brand secrets scrubbed)

Revision ID: merge_3
Revises: trust_money_1, trust_carrierhttp_1, trust_secrets_1, trust_badinput_1
Create Date: 2026-12-06 01:40:00
"""

from collections.abc import Sequence

revision: str = "merge_3"
down_revision: str | Sequence[str] | None = (
    "trust_money_1",
    "trust_carrierhttp_1",
    "trust_secrets_1",
    "trust_badinput_1",
)
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
