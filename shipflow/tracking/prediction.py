"""The seam to the delivery-date engine: after each ingest the prediction is revised.

The EDD engine (shipflow.edd) plugs in by exposing `revise_shipment(shipment, events)`
returning a date or None; where it has none, a carrier's own estimate (or the delivery day)
stands in."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from shipflow.domain import Status, TrackingEvent, TrackingUpdate
from shipflow.store.models import Shipment


def _engine():
    try:
        from shipflow.edd import revise_shipment
    except ImportError:
        return None
    return revise_shipment


def _fallback(shipment: Shipment, update: TrackingUpdate) -> date | None:
    if shipment.status == Status.DELIVERED and shipment.delivered_at is not None:
        return shipment.delivered_at.date()
    if update.estimated_delivery is not None:
        return update.estimated_delivery.date()
    return None


def revise_prediction(
    shipment: Shipment, events: Sequence[TrackingEvent], update: TrackingUpdate
) -> None:
    engine = _engine()
    predicted = (engine(shipment, events) if engine else None) or _fallback(shipment, update)
    if predicted is not None:
        shipment.predicted_date = predicted
