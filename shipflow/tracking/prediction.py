"""The delivery date after each batch of tracking events: the EDD service's revision where it
can quote the shipment, else the carrier's own estimate (or the delivery day)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy.orm import Session

from shipflow.domain import Status
from shipflow.edd.service import EddService
from shipflow.store.shipment_writes import TrackedShipment, stage, write_staged
from shipflow.tracking.ingest import Tracked


def _fallback(shipment: TrackedShipment, estimated_delivery: datetime | None) -> date | None:
    if shipment.status == Status.DELIVERED and shipment.delivered_at is not None:
        return shipment.delivered_at.date()
    if estimated_delivery is not None:
        return estimated_delivery.date()
    return None


def revise_predictions(edd: EddService, session: Session, tracked: Sequence[Tracked]) -> None:
    revised = edd.revise_shipments(
        session, [(shipment, event.events) for shipment, event in tracked]
    )
    for shipment, event in tracked:
        if revised[shipment.id] is None:  # else its revision is staged and written already
            fallback = _fallback(shipment, event.estimated_delivery)
            if fallback is not None:
                stage(session, shipment, predicted_date=fallback)
    write_staged(session)
