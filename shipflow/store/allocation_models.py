"""Batch allocations: the request as asked, the plan once solved."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shipflow.store.models import Base, new_id, utcnow


class AllocationBatch(Base):
    __tablename__ = "allocation_batches"
    __table_args__ = (Index("ix_allocation_batches_status", "status", "created_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=new_id("alb"))
    brand_id: Mapped[str] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="queued")  # queued|running|done|failed
    request: Mapped[dict[str, Any]] = mapped_column(default=dict)
    result: Mapped[dict[str, Any]] = mapped_column(default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class AllocationRules(Base):
    """A brand's allocation rules as last set through the API; they replace config.yaml's."""

    __tablename__ = "allocation_rules"

    brand_id: Mapped[str] = mapped_column(
        ForeignKey("brands.id", ondelete="CASCADE"), primary_key=True
    )
    rules: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
