"""backlog counts' calendar: stored daily totals counted again when their calendar changes

The backlog job keeps the usual transit as daily totals in working days. A brand's holidays,
zone or learned delivery weekdays changing left the kept days in the old calendar's units,
blended with new ones for up to the baseline's 90 days. Rows without one (counted before this
revision) are counted again at the job's next look.

Revision ID: backlog_calendar_lead_1
Revises: leases_rows7_1
Create Date: 2026-12-07 11:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "backlog_calendar_lead_1"
down_revision: str | Sequence[str] | None = "leases_rows7_1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("backlog_counts", sa.Column("calendar", sa.String(length=40), nullable=True))


def downgrade() -> None:
    op.drop_column("backlog_counts", "calendar")  # a plain drop (SQLite >= 3.35)
