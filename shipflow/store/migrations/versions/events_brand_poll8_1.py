"""events by brand: no index of their own

`tracking_events.brand_id` had an index that only the stale limits' learning read (a brand's
scans of the last 90 days), at one entry for every event stored. That job now finds the
brand's events through its shipments (their brand index, then the events' key by shipment).

Revision ID: events_brand_poll8_1
Revises: hot_shipments_poll8_1
Create Date: 2026-12-07 14:25:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "events_brand_poll8_1"
down_revision: str | Sequence[str] | None = "hot_shipments_poll8_1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_tracking_events_brand_id"


def upgrade() -> None:
    op.drop_index(INDEX, table_name="tracking_events")


def downgrade() -> None:
    op.create_index(INDEX, "tracking_events", ["brand_id"])
