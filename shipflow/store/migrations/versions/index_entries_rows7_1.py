"""index entries an event writes: tracking_events' own shipment index and brand key, one
tracking-number index on shipments

Every row inserted, and every update that is not HOT, writes one entry into each index of its
table, and every foreign key is checked by a query per row inserted. `tracking_events`'
index on `shipment_id` repeated the leading column of its (shipment_id, dedupe_key) key, and
its key to `brands` checked what its shipment's brand already implies (the ingest copies the
shipment's brand; the shipment's key deletes the events with it). `shipments` kept two
indexes by tracking number, (carrier, number) for the ingest and (brand, number) for the
tracking page; one on the number serves both, a number being nearly unique.

Revision ID: index_entries_rows7_1
Revises: shipments_order_pg6_1
Create Date: 2026-12-07 11:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "index_entries_rows7_1"
down_revision: str | Sequence[str] | None = "shipments_order_pg6_1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BRAND_KEY = "fk_tracking_events_brand_id_brands"


def upgrade() -> None:
    op.drop_index("ix_tracking_events_shipment_id", table_name="tracking_events")
    with op.batch_alter_table("tracking_events") as batch_op:
        batch_op.drop_constraint(BRAND_KEY, type_="foreignkey")
    op.create_index("ix_shipments_tracking_number", "shipments", ["tracking_number"])
    op.drop_index("ix_shipments_tracking", table_name="shipments")
    op.drop_index("ix_shipments_brand_tracking", table_name="shipments")


def downgrade() -> None:
    op.create_index("ix_shipments_brand_tracking", "shipments", ["brand_id", "tracking_number"])
    op.create_index("ix_shipments_tracking", "shipments", ["carrier", "tracking_number"])
    op.drop_index("ix_shipments_tracking_number", table_name="shipments")
    with op.batch_alter_table("tracking_events") as batch_op:
        batch_op.create_foreign_key(BRAND_KEY, "brands", ["brand_id"], ["id"], ondelete="CASCADE")
    op.create_index("ix_tracking_events_shipment_id", "tracking_events", ["shipment_id"])
