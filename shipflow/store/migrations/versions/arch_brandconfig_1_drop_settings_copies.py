"""drop the untyped copies of brand configuration (brands, warehouses, carrier_accounts
`settings`): code reads the typed configuration (`shipflow.brands.brand_config`); the rows stay
for the ids and codes that foreign keys and queries need

Revision ID: arch_brandconfig_1
Revises: merge_3
Create Date: 2026-12-08 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "arch_brandconfig_1"
down_revision: str | Sequence[str] | None = "merge_3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("brands", "warehouses", "carrier_accounts")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("settings")


def downgrade() -> None:
    """The columns come back empty; that version's brand sync (`shipflow demo load`) refills them."""
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("settings", sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
            )
