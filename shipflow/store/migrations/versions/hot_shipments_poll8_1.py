"""hot shipments: room on each page for a shipment's next version

A pushed event no longer moves the shipment's `next_poll_at` (shipflow.tracking.polling), so
its update changes no indexed column; PostgreSQL writes it as a heap-only tuple, with no
index entry, when the new version fits on the old one's page. Pages written from now on keep
half free for that (fillfactor 50: parcels scanned together are updated in one batch's
transaction, before pruning can clear their old versions; with 80, three in four updates
found no room, at 100 nearly all).

Revision ID: hot_shipments_poll8_1
Revises: backlog_calendar_lead_1
Create Date: 2026-12-07 14:05:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "hot_shipments_poll8_1"
down_revision: str | Sequence[str] | None = "backlog_calendar_lead_1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FILLFACTOR = 50


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE shipments SET (fillfactor = {FILLFACTOR})")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE shipments RESET (fillfactor)")
