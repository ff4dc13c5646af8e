"""The delivery date after each tracking event: the EDD service's revision where it can quote
the shipment, else the carrier's own estimate (or the delivery day)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.orm import Session

from shipflow.domain import Status
from shipflow.domain.events import ShipmentTracked
from shipflow.edd.service import EddService
from shipflow.store.models import Shipment


def _fallback(shipment: Shipment, estimated_delivery: datetime | None) -> date | None:
    if shipment.status == Status.DELIVERED and shipment.delivered_at is not None:
        return shipment.delivered_at.date()
    if estimated_delivery is not None:
        return estimated_delivery.date()
    return None


def revise_prediction(
    edd: EddService, session: Session, shipment: Shipment, tracked: ShipmentTracked
) -> None:
    predicted = edd.revise_shipment(session, shipment, tracked.events) or _fallback(
        shipment, tracked.estimated_delivery
    )
    if predicted is not None:
        shipment.predicted_date = predicted
