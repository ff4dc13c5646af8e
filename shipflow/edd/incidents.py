"""Open lane incidents widen the promise on their lane until they close.

The delay sweep opens an incident when one carrier's parcels to one region run late far more
than usual, measures how many days its late parcels are behind (`excess_days`), and closes it
once the lane recovers (`shipflow.delays.sweep`). While it is open, a new promise on that lane
moves later by that excess, so customers are not promised what the lane cannot keep now; a
lane without an incident keeps its promise untouched, so nothing is padded where nothing is
wrong.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import timedelta

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from shipflow import geo
from shipflow.edd.engine import Estimate
from shipflow.store.models import Alert

Excess = Mapping[tuple[str, str], int]  # (carrier, region) -> days the lane's parcels are behind


def open_excess(session: Session, brand_id: str) -> dict[tuple[str, str], int]:
    """The measured excess of each of the brand's open lane incidents."""
    rows: Sequence[Row[str | None, str | None, dict | None]] = session.execute(
        select(Alert.carrier, Alert.region, Alert.details).where(
            Alert.brand_id == brand_id,
            Alert.kind == "lane_incident",
            Alert.status != "resolved",
        )
    ).all()
    return {
        (carrier, region): int((details or {}).get("excess_days", 0))
        for carrier, region, details in rows
        if carrier and region
    }


def lane_region(destination: geo.Location, by: str) -> str:
    """The destination's region as lane incidents name it (`alerts.lane.region`)."""
    return destination.postal_code[:3] if by == "zip3" else destination.subdivision or ""


def widened(estimate: Estimate, excess: Excess, by: str) -> Estimate:
    """`estimate` with its promise and latest date moved later by the excess of an open
    incident on its lane (in the service's delivery days), else unchanged; `by`: how the
    brand's incidents name regions (state or zip3)."""
    if not excess or not estimate.ok or estimate.promised is None or not estimate.destination:
        return estimate
    region = lane_region(estimate.destination, by)
    days = excess.get((estimate.assumptions.carrier, region), 0)
    if days <= 0:
        return estimate
    calendar = estimate.delivery

    def later(day):
        if day is None:
            return None
        return calendar.add(day, days) if calendar else day + timedelta(days=days)

    return replace(estimate, promised=later(estimate.promised), latest=later(estimate.latest))
