"""On-time share per carrier and per lane, week by week: what the ops page charts so a
slipping carrier shows before the complaints do.

A shipment counts in the week of its promised date once that promise is decided: delivered
(on time if delivered by the promised day) or broken (the day is over and the parcel has not
arrived, which is late whether it is still moving, lost or returning). So a week with open
late alerts can never read 100 %.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from shipflow.delays.detectors import Policy, last_broken_promise
from shipflow.delays.service import policy_for, sql_date
from shipflow.domain import Status
from shipflow.store.models import Shipment

if TYPE_CHECKING:
    from shipflow.config import Settings


@dataclass(frozen=True)
class Point:
    week: date  # the Monday starting the week of the promised dates
    on_time: int
    due: int  # promises decided that week: delivered, or broken

    @property
    def share(self) -> float:
        return self.on_time / self.due


Series = dict[str, list[Point]]


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def lane_name(warehouse_code: str, state: str, postal_code: str, policy: Policy) -> str:
    """ "Newark warehouse → NY": the origin's name and the destination's state (or ZIP area)."""
    warehouse = policy.warehouses.get(warehouse_code)
    origin = warehouse.name if warehouse else (warehouse_code or "unknown origin")
    if state:
        destination = state
    elif postal_code:
        destination = f"postal area {postal_code[:3]}"
    else:
        destination = "unknown destination"
    return f"{origin} → {destination}"


def on_time_by_week(
    session: Session,
    brand_id: str,
    now: datetime,
    weeks: int = 8,
    by_lane: bool = False,
    top: int = 6,
    *,
    settings: Settings,
) -> Series:
    """Series named by carrier (or "carrier: origin -> destination"); the `top` busiest."""
    policy = policy_for(session, brand_id, settings)
    delivered_on = sql_date(session, Shipment.delivered_at)
    lane = [Shipment.warehouse_code, Shipment.destination_state, Shipment.destination_postal_code]
    keys = [Shipment.carrier, *(lane if by_lane else [])]
    start = _monday(now.date()) - timedelta(weeks=weeks - 1)
    delivered = Shipment.status == Status.DELIVERED
    on_time = case((and_(delivered, delivered_on <= Shipment.promised_date), 1), else_=0)
    # (carrier[, warehouse, state, postal code], promised date, due, on time)
    rows: Sequence[Sequence[Any]] = session.execute(
        select(*keys, Shipment.promised_date, func.count(), func.sum(on_time))
        .where(
            Shipment.brand_id == brand_id,
            Shipment.kind == "forward",
            Shipment.promised_date >= start,
            Shipment.promised_date <= now.date(),
            or_(delivered, Shipment.promised_date <= last_broken_promise(now)),
        )
        .group_by(*keys, Shipment.promised_date)
    ).all()
    totals: dict[str, dict[date, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for *names, promised, count, kept in rows:
        name = names[0]
        if by_lane:
            warehouse, state, postal_code = names[1:]
            name = f"{name}: {lane_name(warehouse, state, postal_code, policy)}"
        week = _monday(date.fromisoformat(str(promised)[:10]))
        totals[name][week][0] += int(kept or 0)
        totals[name][week][1] += count
    busiest = sorted(totals, key=lambda n: -sum(c for _, c in totals[n].values()))[:top]
    return {
        name: [Point(week, *totals[name][week]) for week in sorted(totals[name])]
        for name in sorted(busiest)
    }
