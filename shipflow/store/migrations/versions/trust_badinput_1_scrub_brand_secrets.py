"""scrub secrets from brands.settings (they are read from config.yaml when used)

Revision ID: trust_badinput_1
Revises: merge_2
Create Date: 2026-11-24 10:00:00
"""

import copy
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "trust_badinput_1"
down_revision: str | Sequence[str] | None = "merge_2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

brands = sa.table("brands", sa.column("id", sa.String), sa.column("settings", sa.JSON))


def without_secrets(settings: dict[str, Any]) -> dict[str, Any]:
    """A brand's settings without carrier credentials, alert channels and the store webhook."""
    kept = copy.deepcopy(settings)
    for account in kept.get("carriers") or []:
        account.pop("credentials", None)
    for section, keys in (
        ("returns", ("store_webhook_url", "store_webhook_secret")),
        ("alerts", ("channels",)),
    ):
        for key in keys:
            (kept.get(section) or {}).pop(key, None)
    return kept


def upgrade() -> None:
    connection = op.get_bind()
    for brand_id, settings in connection.execute(sa.select(brands.c.id, brands.c.settings)).all():
        scrubbed = without_secrets(settings or {})
        if scrubbed != (settings or {}):
            connection.execute(
                brands.update().where(brands.c.id == brand_id).values(settings=scrubbed)
            )


def downgrade() -> None:
    """Nothing to restore: `shipflow demo load` (or a brand sync) rewrites the rows."""
