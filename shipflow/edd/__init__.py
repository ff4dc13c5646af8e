"""Delivery-date estimation: the transit model, quoting, and the service around them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from shipflow.domain import TrackingEvent
    from shipflow.store.models import Shipment


def revise_shipment(shipment: Shipment, events: Sequence[TrackingEvent]) -> date | None:
    """The tracking pipeline's hook after each event (the shipment's own session is used);
    see `shipflow.edd.service.revise_shipment`."""
    from sqlalchemy.orm import object_session

    from shipflow.edd import service

    session = object_session(shipment)
    if session is None:
        return None
    return service.revise_shipment(session, shipment, events)
