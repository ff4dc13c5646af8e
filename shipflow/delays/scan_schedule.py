"""How far a tracked parcel is behind its lane's on-time scan schedule.

Each lane has its own schedule: which hub scans an on-time parcel from this origin to this
destination area, on this service, has had by so many hours before its promise ends. A parcel
silently delayed shows only where its on-time peers would already have scanned, and where that
is depends on the lane (an overnight parcel's destination-hub scan comes around midnight,
late or not; a Pacific destination's hub scans after New York's midnight). So the input is the
share of the lane's on-time delivered parcels that were further along than this parcel is, as
long before their own promise's end as it now is before its own (issue #18, item 5;
docs/benchmarks.md, "Delay warnings, tenth session"). Only tracked parcels count: a brand
without tracking events learns an empty schedule and the input stays 0.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from shipflow.delays.days import days_between, delivered_in_history
from shipflow.domain import TrackingEvent
from shipflow.edd.history import HistoryRecord

STAGES = 10  # scans followed; the delivery stands for every stage a parcel did not scan
MIN_PEERS = 10  # on-time parcels for a lane level's schedule to count, else a coarser one's
ScheduleKey = tuple[str, ...]


def schedule_keys(record: HistoryRecord) -> tuple[ScheduleKey, ...]:
    """Finest to coarsest: service, origin postal code and destination postal area (its
    first 3 characters); the same with the destination state instead; service, origin state
    and destination state; service and destination state; service."""
    service = record.service_key
    area = record.destination_postal_code.replace(" ", "").replace("-", "").upper()[:3]
    origin, state = record.origin_postal_code, record.destination_state
    return (
        (service, origin, area),
        (service, origin, state),
        (service, record.origin_state, state),
        (service, state),
        (service,),
    )


@dataclass(frozen=True)
class ScanSchedule:
    """Per lane level and stage n (keyed (level, n)): sorted days before their promise's end
    at which the lane's on-time parcels reached their n-th scan (or were delivered)."""

    reached: dict[tuple[ScheduleKey, int], np.ndarray] = field(default_factory=dict)

    @classmethod
    def fit(
        cls,
        records: Iterable[HistoryRecord],
        deadlines: Mapping[str, datetime],
        as_of: datetime,
        events: Mapping[str, Sequence[TrackingEvent]],
    ) -> ScanSchedule:
        """From the tracked parcels delivered by their promise's end (`deadlines`, by order
        id) in the year before `as_of`."""
        rows: dict[ScheduleKey, list[np.ndarray]] = {}
        for r, delivered in delivered_in_history(records, as_of):
            deadline = deadlines.get(r.order_id)
            scans = [e.occurred_at for e in events.get(r.order_id, ()) if e.occurred_at < delivered]
            if deadline is None or delivered > deadline or not scans:
                continue
            stages = (scans + [delivered] * STAGES)[:STAGES]
            row = np.array([days_between(moment, deadline) for moment in stages])
            for key in schedule_keys(r):
                rows.setdefault(key, []).append(row)
        reached = {}
        for key, peers in rows.items():
            table = np.sort(np.array(peers), axis=0)
            for n in range(STAGES):
                reached[(key, n + 1)] = table[:, n]
        return cls(reached)

    def behind(self, record: HistoryRecord, scans: int, left: float) -> float:
        """Minus the log share of the lane's on-time parcels no further along than `scans`
        with `left` days to their promise's end, at the finest level with `MIN_PEERS` of
        them (0 with none, or past the stages followed)."""
        if scans >= STAGES:
            return 0.0
        for key in schedule_keys(record):
            times = self.reached.get((key, scans + 1))
            if times is not None and len(times) >= MIN_PEERS:
                ahead = len(times) - int(np.searchsorted(times, left, side="left"))
                return -math.log((len(times) - ahead + 0.5) / (len(times) + 1.0))
        return 0.0
