"""Stale limits learned from history: how long a brand's parcels normally go without a scan
in each status, per carrier and service. A carrier whose hubs are three days apart is not
"silent" after 48 hours; one that normally scans every few hours is silent well before.

The limit is the 95th percentile of the gaps between consecutive scans that left the
status, with a margin, never below a floor; with too few gaps the configured default stays.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from shipflow.store.db import each_in_own_transaction
from shipflow.store.models import Brand, Shipment, TrackingEventRow
from shipflow.store.ops_models import StaleLimit

HISTORY = timedelta(days=90)
MIN_GAPS = 20  # fewer gaps than this: too thin to learn from, the default applies
MARGIN = 1.25  # a parcel is stale once silent a quarter longer than 95 % of its peers
FLOOR_HOURS = 12.0

Key = tuple[str, str, str]  # carrier, service, status
Scan = tuple[str, str, str, str, datetime]  # shipment id, carrier, service, status, time


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile: a value that occurred, not an interpolation."""
    ordered = sorted(values)
    return ordered[max(math.ceil(share * len(ordered)) - 1, 0)]


def gaps_by_status(scans: Iterable[Scan]) -> dict[Key, list[float]]:
    """Hours between each scan and the shipment's next one, keyed by the earlier scan's
    status; `scans` ordered by shipment and time."""
    gaps: dict[Key, list[float]] = defaultdict(list)
    previous: Scan | None = None
    for scan in scans:
        if previous is not None and previous[0] == scan[0]:
            hours = (scan[4] - previous[4]).total_seconds() / 3600
            gaps[(previous[1], previous[2], previous[3])].append(hours)
        previous = scan
    return gaps


def limits_from_gaps(gaps: dict[Key, list[float]]) -> dict[Key, tuple[float, int]]:
    """(hours, number of gaps) for each key with enough history."""
    return {
        key: (round(max(FLOOR_HOURS, percentile(hours, 0.95) * MARGIN), 1), len(hours))
        for key, hours in gaps.items()
        if len(hours) >= MIN_GAPS
    }


def learn(session: Session, brand_id: str, now: datetime) -> dict[Key, tuple[float, int]]:
    """Relearn and store the brand's limits from the last `HISTORY` of applied scans."""
    scans = session.execute(
        select(
            TrackingEventRow.shipment_id,
            Shipment.carrier,
            Shipment.service,
            TrackingEventRow.status,
            TrackingEventRow.occurred_at,
        )
        .join(Shipment, Shipment.id == TrackingEventRow.shipment_id)
        .where(
            Shipment.brand_id == brand_id,
            TrackingEventRow.applied.is_(True),
            TrackingEventRow.occurred_at >= now - HISTORY,
        )
        .order_by(TrackingEventRow.shipment_id, TrackingEventRow.occurred_at)
    )
    limits = limits_from_gaps(gaps_by_status(cast(Iterable[Scan], scans)))
    session.execute(delete(StaleLimit).where(StaleLimit.brand_id == brand_id))
    session.add_all(
        StaleLimit(
            brand_id=brand_id,
            carrier=carrier,
            service=service,
            status=status,
            hours=hours,
            samples=samples,
            learned_at=now,
        )
        for (carrier, service, status), (hours, samples) in limits.items()
    )
    return limits


def learned_limits(session: Session, brand_id: str) -> dict[Key, float]:
    rows = session.execute(
        select(StaleLimit.carrier, StaleLimit.service, StaleLimit.status, StaleLimit.hours).where(
            StaleLimit.brand_id == brand_id
        )
    )
    return {(carrier, service, status): hours for carrier, service, status, hours in rows}


def learn_stale_limits_job(runtime, max_age: timedelta = timedelta(days=1)) -> int:
    """Relearn each brand whose limits are older than `max_age` (by the runtime's clock, so an
    accelerated demo relearns daily in its own time), one transaction per brand; returns how
    many limits were stored. A brand whose learning fails keeps its last limits (logged, tried
    again next run) and does not stop the brands after it."""
    now = runtime.clock.now()
    with runtime.sessions() as session:
        newest = dict(
            session.execute(
                select(Brand.id, func.max(StaleLimit.learned_at))
                .outerjoin(StaleLimit, StaleLimit.brand_id == Brand.id)
                .group_by(Brand.id)
            ).all()
        )
    due = [
        b for b, learned_at in newest.items() if learned_at is None or learned_at <= now - max_age
    ]
    learned = each_in_own_transaction(
        runtime.sessions, due, lambda session, b: len(learn(session, b, now)), "stale limits"
    )
    return sum(learned.values())
