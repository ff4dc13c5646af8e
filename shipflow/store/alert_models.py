"""Ops users (a login per brand for the ops pages) and the one-open-alert-per-key index."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from shipflow.store.models import Alert, Base, new_id, utcnow

OPEN_ALERT = text("status <> 'resolved'")

# At most one unresolved alert per brand and dedupe key, even under concurrent sweeps.
Index(
    "uq_alerts_open_dedupe",
    Alert.brand_id,
    Alert.dedupe_key,
    unique=True,
    postgresql_where=OPEN_ALERT,
    sqlite_where=OPEN_ALERT,
)
Index("ix_alerts_shipment", Alert.shipment_id)


class OpsUser(Base):
    __tablename__ = "ops_users"
    __table_args__ = (UniqueConstraint("brand_id", "email"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=new_id("opu"))
    brand_id: Mapped[str] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(254))
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]
    # In every session cookie; bumped on sign-out and password change, which ends them all.
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")
