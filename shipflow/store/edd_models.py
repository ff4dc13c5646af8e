"""Tables of delivery-date estimation: the delivered history it learns from, the models it
trained, each service's queue as last counted, and every revision of a shipment's predicted
date (the promise itself never moves)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shipflow.store.models import Base, utcnow


class DeliveryHistoryRow(Base):
    """One delivered (or still moving) past order: imported from a file or tracked by shipflow."""

    __tablename__ = "delivery_history"
    __table_args__ = (
        UniqueConstraint("brand_id", "source", "order_id", name="uq_delivery_history_order"),
        Index("ix_delivery_history_brand_delivered", "brand_id", "delivered_at"),
        Index("ix_delivery_history_brand_ordered", "brand_id", "ordered_at"),  # load_history
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    brand_id: Mapped[str] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(16))  # import | tracked
    order_id: Mapped[str] = mapped_column(String(64))
    ordered_at: Mapped[datetime]
    shipper_id: Mapped[str] = mapped_column(String(64))
    origin_postal_code: Mapped[str] = mapped_column(String(16))
    origin_country: Mapped[str] = mapped_column(String(2))
    origin_state: Mapped[str] = mapped_column(String(16), default="")
    destination_postal_code: Mapped[str] = mapped_column(String(16))
    destination_country: Mapped[str] = mapped_column(String(2))
    destination_state: Mapped[str] = mapped_column(String(16), default="")
    carrier: Mapped[str] = mapped_column(String(32))
    service: Mapped[str] = mapped_column(String(64))
    handed_to_carrier_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    promised_date: Mapped[date | None] = mapped_column(Date)
    items: Mapped[int] = mapped_column(Integer, default=1)
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class TransitModelRow(Base):
    """A trained transit model (TransitModel.to_dict()); the newest per brand is the one used."""

    __tablename__ = "transit_models"
    __table_args__ = (Index("ix_transit_models_brand_trained", "brand_id", "trained_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    brand_id: Mapped[str] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"))
    trained_at: Mapped[datetime] = mapped_column(default=utcnow)
    as_of: Mapped[datetime]
    records: Mapped[int] = mapped_column(Integer, default=0)  # deliveries it was fitted on
    calibration_samples: Mapped[int] = mapped_column(Integer, default=0)
    model: Mapped[dict[str, Any]] = mapped_column(default=dict)


class BacklogCountRow(Base):
    """A brand's queue per carrier service as the periodic job last counted it
    (`shipflow.edd.backlog.count_backlogs`): what quotes stretch transit by, instead of each
    process aggregating months of shipments. One row per brand, so a brand counted with
    nothing in flight is told from one not counted yet."""

    __tablename__ = "backlog_counts"

    brand_id: Mapped[str] = mapped_column(
        ForeignKey("brands.id", ondelete="CASCADE"), primary_key=True
    )
    counted_at: Mapped[datetime]
    # service key ("carrier:service") -> that service's `Backlog` as a dict
    services: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # the usual transit's daily totals, each settled day counted once: local day (ISO) ->
    # service key -> [deliveries, working days from order to delivery]
    days: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # `Calendars.fingerprint` of the calendar `days` were counted in (none: an earlier
    # release's, or the backlog switched off): another one has them all counted again
    calendar: Mapped[str | None] = mapped_column(String(40))


class PredictionRevision(Base):
    """Each change of a shipment's predicted delivery date, with what it was based on."""

    __tablename__ = "prediction_revisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    shipment_id: Mapped[str] = mapped_column(
        ForeignKey("shipments.id", ondelete="CASCADE"), index=True
    )
    predicted_date: Mapped[date] = mapped_column(Date)
    basis: Mapped[str] = mapped_column(String(200), default="")
    revised_at: Mapped[datetime] = mapped_column(default=utcnow)
