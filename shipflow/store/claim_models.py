"""A customer's "I didn't get it" claim on a delivered parcel, and the carrier's delivery
photo it is judged against (see `shipflow.claims`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shipflow.store.models import Base, new_id, utcnow


class DeliveryClaim(Base):
    """One claim per shipment (the unique key makes a repeated form a no-op): open -> closed,
    with the carrier's proof as it stood when the customer wrote, and what ops did about it."""

    __tablename__ = "delivery_claims"
    __table_args__ = (Index("ix_delivery_claims_brand_state", "brand_id", "state", "opened_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=new_id("clm"))
    brand_id: Mapped[str] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"))
    shipment_id: Mapped[str] = mapped_column(
        ForeignKey("shipments.id", ondelete="CASCADE"), unique=True
    )
    state: Mapped[str] = mapped_column(String(16), default="open")
    what_happened: Mapped[str] = mapped_column(String(32))
    checked: Mapped[list[Any]] = mapped_column(default=list)  # neighbours, safe place, ...
    details: Mapped[str] = mapped_column(Text, default="")
    contact: Mapped[str] = mapped_column(String(254))
    language: Mapped[str] = mapped_column(String(16), default="en")
    proof: Mapped[dict[str, Any]] = mapped_column(default=dict)
    replacement_id: Mapped[str | None] = mapped_column(String(40))  # the reshipped parcel
    refunded_at: Mapped[datetime | None]
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]


class DeliveryPhoto(Base):
    """The carrier's photo of a delivered parcel, as it sent it: shown only on the signed
    tracking page and to ops, never in `shipments.details` (which every poll reads)."""

    __tablename__ = "delivery_photos"

    shipment_id: Mapped[str] = mapped_column(
        ForeignKey("shipments.id", ondelete="CASCADE"), primary_key=True
    )
    media_type: Mapped[str] = mapped_column(String(32))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
