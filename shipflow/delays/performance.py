"""On-time share of delivered shipments per carrier and per lane, week by week: what the
ops page charts so a slipping carrier shows before the complaints do."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from shipflow.delays.service import policy_for, region_column, sql_date
from shipflow.domain import Status
from shipflow.store.models import Shipment

if TYPE_CHECKING:
    from shipflow.config import Settings


@dataclass(frozen=True)
class Point:
    week: date  # the Monday starting the week
    on_time: int
    delivered: int

    @property
    def share(self) -> float:
        return self.on_time / self.delivered


Series = dict[str, list[Point]]


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


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
    """Series named by carrier (or "carrier · region"); the `top` busiest are kept."""
    policy = policy_for(session, brand_id, settings)
    day = sql_date(session, Shipment.delivered_at)
    keys = [Shipment.carrier] + ([region_column(policy)] if by_lane else [])
    start = _monday(now.date()) - timedelta(weeks=weeks - 1)
    # (carrier[, region], day, shipments, on time): a row's length depends on `keys`
    rows: Sequence[Sequence[Any]] = session.execute(
        select(
            *keys, day, func.count(), func.sum(case((day <= Shipment.promised_date, 1), else_=0))
        )
        .where(
            Shipment.brand_id == brand_id,
            Shipment.status == Status.DELIVERED,
            Shipment.promised_date.is_not(None),
            Shipment.delivered_at >= datetime.combine(start, datetime.min.time(), now.tzinfo),
        )
        .group_by(*keys, day)
    ).all()
    totals: dict[str, dict[date, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for *names, delivered_on, count, on_time in rows:
        name = " · ".join(n or "?" for n in names)
        week = _monday(date.fromisoformat(str(delivered_on)[:10]))
        totals[name][week][0] += int(on_time or 0)
        totals[name][week][1] += count
    busiest = sorted(totals, key=lambda n: -sum(c for _, c in totals[n].values()))[:top]
    return {
        name: [Point(week, *totals[name][week]) for week in sorted(totals[name])]
        for name in sorted(busiest)
    }
