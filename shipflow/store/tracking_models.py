"""Webhooks as received from carriers and shops (`source_kind`): stored raw before anything
reads them, so a payload that fails to process is never lost and can be retried after a fix."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shipflow.domain import WebhookRequest
from shipflow.store.models import Base, utcnow


class WebhookReceipt(Base):
    __tablename__ = "webhook_receipts"
    __table_args__ = (
        Index("ix_webhook_receipts_due", "status", "available_at"),
        Index("ix_webhook_receipts_brand_status", "brand_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    brand_id: Mapped[str] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"))
    source_kind: Mapped[str] = mapped_column(
        String(16), default="carrier", server_default="carrier"
    )
    carrier: Mapped[str] = mapped_column(String(32))  # the carrier, or the channel of a shop
    account: Mapped[str] = mapped_column(String(40))  # CarrierAccount.id or ChannelAccount.id
    headers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(String(16), default="received")  # received|processed|failed
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    available_at: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None]
    leased_until: Mapped[datetime | None]  # a worker's claim (shipflow.store.lease)


class Received(Protocol):
    """A stored receipt's request: a `WebhookReceipt`, or a row of those columns."""

    headers: dict[str, Any]
    body: bytes
    received_at: datetime


def as_request(receipt: Received) -> WebhookRequest:
    """The webhook exactly as it arrived, for its source to parse."""
    return WebhookRequest(
        headers=receipt.headers, body=receipt.body, received_at=receipt.received_at
    )
