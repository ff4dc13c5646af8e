"""Label purchases, written before the carrier is called (see `shipflow.label_purchases`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from shipflow.store.models import Base, new_id, utcnow

PENDING = "status = 'pending'"
# Given by `label_purchases` itself: a batch's records are inserted in one statement, and
# each is told apart by its id in what the insert returns.
new_purchase_id = new_id("lbp")


class LabelPurchase(Base):
    """One label bought (or being bought): pending -> bought | failed. Order and return ids are
    plain columns: the purchase must outlive a transaction that rolled its order back."""

    __tablename__ = "label_purchases"
    __table_args__ = (
        # one purchase in flight per order or return: a retried ship cannot buy a second label
        Index(
            "uq_label_purchases_pending_key",
            "idempotency_key",
            unique=True,
            sqlite_where=text(PENDING),
            postgresql_where=text(PENDING),
        ),
        Index("ix_label_purchases_status", "status", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=new_purchase_id)
    brand_id: Mapped[str] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"))
    idempotency_key: Mapped[str] = mapped_column(String(100))  # "order:<id>" or "return:<id>"
    order_id: Mapped[str] = mapped_column(String(40))
    return_id: Mapped[str | None] = mapped_column(String(40))
    carrier_account: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    tracking_number: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
