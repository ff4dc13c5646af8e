"""Pickup points as a journey: where a parcel waits and until when, stored from the carrier's
updates; reminders before the deadline; a parcel left past it goes to the failed-delivery
workflow like a failed attempt (the customer may still choose a redelivery or the return)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from shipflow.domain import (
    Address,
    CarrierService,
    PickupPoint,
    Reason,
    ServiceLevel,
    Status,
    TrackingUpdate,
)
from shipflow.i18n import format_day
from shipflow.store.models import Shipment
from shipflow.store.shipment_writes import TrackedShipment, stage

UNCOLLECTED = frozenset({Reason.NOT_COLLECTED, Reason.COD_REFUSED})


def as_json(point: PickupPoint) -> dict[str, Any]:
    return asdict(point)


def from_json(data: dict[str, Any] | None) -> PickupPoint | None:
    if not data:
        return None
    address = data.get("address")
    return PickupPoint(**{**data, "address": Address(**address) if address else None})


def chain_problem(services: Iterable[CarrierService], point: PickupPoint) -> str | None:
    """What to fix when none of the brand's pickup-point services delivers to the point's
    chain (a FamilyMart store must never go out as a 7-ELEVEN order); None when one does. A
    service naming no chains takes any of its carrier's points."""
    offered = [s for s in services if s.level is ServiceLevel.PICKUP_POINT]
    if not offered:
        return "the brand has no pickup-point service; leave pickup_point out"
    if any(not s.pickup_chains or point.chain in s.pickup_chains for s in offered):
        return None
    chains = ", ".join(sorted(set().union(*(s.pickup_chains for s in offered))))
    if not point.chain:
        return f"name the store's chain as its store map gave it, one of {chains}"
    return f"no pickup-point service of the brand delivers to {point.chain} stores; use {chains}"


def record(session: Session, shipment: TrackedShipment, update: TrackingUpdate) -> None:
    """Keep what the carrier last said about the pickup point and its deadline."""
    if update.pickup_point is not None:
        stage(session, shipment, pickup_point=as_json(update.pickup_point))
    if update.pickup_deadline is not None:
        stage(session, shipment, pickup_deadline=update.pickup_deadline)


def waiting(session: Session, brand_id: str | None = None) -> list[Shipment]:
    """Forward parcels waiting at a pickup point with a known deadline."""
    statement = select(Shipment).where(
        Shipment.status == Status.AVAILABLE_FOR_PICKUP.value,
        Shipment.kind == "forward",
        Shipment.pickup_deadline.is_not(None),
    )
    if brand_id is not None:
        statement = statement.where(Shipment.brand_id == brand_id)
    return list(session.scalars(statement))


def reminder_due(deadline: datetime, now: datetime, days: list[int]) -> int | None:
    """The reminder (days before the deadline) due now: the nearest one whose time has come,
    so a late run sends one reminder, not a burst; None before the first and after the deadline."""
    if now >= deadline:
        return None
    due = [d for d in days if deadline - timedelta(days=d) <= now]
    return min(due) if due else None


def address_line(address: Address | None) -> str:
    if address is None:
        return ""
    parts = (address.line1, address.line2, address.city, address.state, address.postal_code)
    return ", ".join(p for p in parts if p)


def message_context(
    point: dict[str, Any] | None, deadline: datetime | None, language: str, zone: str
) -> dict[str, str]:
    """The store's name, address, hours and the deadline (a day in the customer's zone), for
    the ready-for-pickup and reminder messages."""
    found = from_json(point)
    day = deadline.astimezone(ZoneInfo(zone)).date() if deadline else None
    return {
        "pickup_name": found.name or found.id if found else "",
        "pickup_address": address_line(found.address) if found else "",
        "pickup_hours": found.hours if found else "",
        "pickup_deadline": format_day(day, with_year=True, language=language) if day else "",
    }
