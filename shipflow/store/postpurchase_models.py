"""Tables of the post-purchase flows: failed-delivery cases, returns, customer messages,
and labels (stored with the shipment so a customer can download one again)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, synonym

from shipflow.store.models import LEASED_FILLFACTOR, Base, new_id, utcnow


class NdrCaseRow(Base):
    __tablename__ = "ndr_cases"
    __table_args__ = (Index("ix_ndr_cases_brand_state", "brand_id", "state"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=new_id("ndr"))
    brand_id: Mapped[str] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"))
    shipment_id: Mapped[str] = mapped_column(
        ForeignKey("shipments.id", ondelete="CASCADE"), unique=True
    )
    state: Mapped[str] = mapped_column(String(32))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str | None] = mapped_column(String(32))
    action: Mapped[str | None] = mapped_column(String(32))
    action_details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    follow_ups: Mapped[int] = mapped_column(Integer, default=0)
    push_tries: Mapped[int] = mapped_column(Integer, default=0)
    carrier_reference: Mapped[str] = mapped_column(String(100), default="")
    assigned_to: Mapped[str | None] = mapped_column(String(254))  # an ops user's e-mail (ops_1)
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_contact_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]
    created_at = synonym("opened_at")  # lists page over (created_at, id) like every resource


class ReturnRequestRow(Base):
    __tablename__ = "return_requests"
    __table_args__ = (Index("ix_returns_brand_status", "brand_id", "status"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=new_id("ret"))
    brand_id: Mapped[str] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"))
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    # requested -> review | approved | refused; approved -> label_created -> in_transit
    # -> received -> refunded
    status: Mapped[str] = mapped_column(String(32))
    decision: Mapped[dict[str, Any]] = mapped_column(default=dict)
    refund_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    currency: Mapped[str] = mapped_column(String(3))
    shipment_id: Mapped[str | None] = mapped_column(ForeignKey("shipments.id", ondelete="SET NULL"))
    language: Mapped[str] = mapped_column(String(16), default="en")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    items: Mapped[list[ReturnItemRow]] = relationship(
        back_populates="request", cascade="all, delete-orphan"
    )


class ReturnItemRow(Base):
    __tablename__ = "return_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    return_id: Mapped[str] = mapped_column(
        ForeignKey("return_requests.id", ondelete="CASCADE"), index=True
    )
    sku: Mapped[str] = mapped_column(String(64))
    quantity: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(32))
    unit_price: Mapped[int] = mapped_column(BigInteger, default=0)
    accepted: Mapped[bool] = mapped_column(default=False)
    refusal: Mapped[str | None] = mapped_column(String(32))
    photos: Mapped[list[Any]] = mapped_column(default=list)

    request: Mapped[ReturnRequestRow] = relationship(back_populates="items")


class LabelRow(Base):
    __tablename__ = "labels"

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=new_id("lbl"))
    brand_id: Mapped[str] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"))
    shipment_id: Mapped[str] = mapped_column(
        ForeignKey("shipments.id", ondelete="CASCADE"), index=True
    )
    label_format: Mapped[str] = mapped_column(String(8))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# Given at once by `customer_messages.queue`: a batch's messages then go in as one statement
# (`customer_messages.staged`), or as one executemany from the ORM, with no RETURNING.
new_message_id = new_id("msg")


class CustomerMessageRow(Base):
    """Every customer message, keyed so the same milestone is never sent twice."""

    __tablename__ = "customer_messages"
    __table_args__ = (
        Index("ix_customer_messages_due", "status", "send_after"),
        {"postgresql_with": LEASED_FILLFACTOR},
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=new_message_id)
    brand_id: Mapped[str] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"))
    shipment_id: Mapped[str | None] = mapped_column(
        ForeignKey("shipments.id", ondelete="CASCADE"), index=True
    )
    key: Mapped[str] = mapped_column(String(255), unique=True)
    milestone: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(16))  # email | sms | whatsapp
    recipient: Mapped[str] = mapped_column(String(254))
    language: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="scheduled")  # scheduled|sent|failed
    send_after: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    leased_until: Mapped[datetime | None]  # a worker's claim (shipflow.store.lease)


class ReturnPhotoRow(Base):
    """A photo a customer attached to a return (e.g. of the damage), kept in the database so
    every web process and the ops reviewer see it."""

    __tablename__ = "return_photos"

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=new_id("pho"))
    brand_id: Mapped[str] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"), index=True)
    content_type: Mapped[str] = mapped_column(String(32))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class UpdateSubscriptionRow(Base):
    """A contact a visitor of the tracking page asked to hear about one shipment on: every
    later milestone of that shipment goes there too, besides the order's own contact."""

    __tablename__ = "update_subscriptions"
    __table_args__ = (UniqueConstraint("shipment_id", "channel", "recipient"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=new_id("sub"))
    brand_id: Mapped[str] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"))
    shipment_id: Mapped[str] = mapped_column(
        ForeignKey("shipments.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[str] = mapped_column(String(16))
    recipient: Mapped[str] = mapped_column(String(254))
    language: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
