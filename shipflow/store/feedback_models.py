"""Customer feedback left on the tracking page after delivery: one answer per shipment,
kept with the carrier so delivery experience can be compared across carriers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shipflow.store.models import Base, new_id, utcnow


class Feedback(Base):
    __tablename__ = "feedback"
    __table_args__ = (Index("ix_feedback_brand_carrier", "brand_id", "carrier", "created_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=new_id("fbk"))
    brand_id: Mapped[str] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"))
    shipment_id: Mapped[str] = mapped_column(
        ForeignKey("shipments.id", ondelete="CASCADE"), unique=True
    )
    carrier: Mapped[str] = mapped_column(String(32))
    score: Mapped[int] = mapped_column(Integer)  # 0-10, "how likely to recommend"
    comment: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(16), default="en")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
