"""Tables of the ops console: the audit trail of what ops did to a shipment, the stale
limits learned from each carrier's scan history and each brand's learned delay risk model."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shipflow.store.models import Base, new_id, utcnow


class OpsAction(Base):
    """One thing a person did about a shipment (contacted the customer, asked the carrier,
    reshipped, refunded): who, when, and what they wrote, so the next person sees it."""

    __tablename__ = "ops_actions"
    __table_args__ = (Index("ix_ops_actions_shipment", "shipment_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=new_id("opa"))
    brand_id: Mapped[str] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"))
    shipment_id: Mapped[str] = mapped_column(ForeignKey("shipments.id", ondelete="CASCADE"))
    actor: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class StaleLimit(Base):
    """How long a brand's parcels normally stay silent in a status with a carrier and
    service (learned by `shipflow.delays.stale_limits`), replacing the fixed default."""

    __tablename__ = "stale_limits"
    __table_args__ = (UniqueConstraint("brand_id", "carrier", "service", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    brand_id: Mapped[str] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"))
    carrier: Mapped[str] = mapped_column(String(32))
    service: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(32))
    hours: Mapped[float] = mapped_column(Float)
    samples: Mapped[int] = mapped_column(Integer)
    learned_at: Mapped[datetime] = mapped_column(default=utcnow)


class DelayRiskModelRow(Base):
    """A brand's learned chance of a parcel missing its promise (`RiskModel.to_dict()`, by
    `shipflow.delays.risk_store`); one per brand, replaced at each learning."""

    __tablename__ = "delay_risk_models"

    brand_id: Mapped[str] = mapped_column(
        ForeignKey("brands.id", ondelete="CASCADE"), primary_key=True
    )
    learned_at: Mapped[datetime] = mapped_column(default=utcnow)
    checks: Mapped[int] = mapped_column(Integer, default=0)  # judgements it was fitted on
    model: Mapped[dict[str, Any] | None]  # None: too few late parcels to learn from yet
