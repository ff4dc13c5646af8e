"""How the carrier's network is doing right now around a parcel: of the brand's other parcels
in flight from the same origin, and to the same destination, the share already waiting at
their last scan longer than their lane usually waits there, against that share's usual level.

A slowed hub or a region the carrier has lost holds every parcel passing through it, and the
parcels held longest show it first: a parcel handed over yesterday has not yet waited unusually
long itself, but its neighbours have (issue #18, item 5; docs/benchmarks.md). Only the brand's
own parcels count (`risk_history.replay` is given one brand's), so one brand's parcels never
move another's warnings. Computed each midnight by the replay and stored with the model as it
stood when learned (`RiskModel.network`), so the product reads what the replay learned from.
"""

from __future__ import annotations

import statistics
from collections import defaultdict, deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from shipflow.delays.risk import (
    DAY,
    LANE_HISTORY_DAYS,
    MIN_SCANS,
    LaneKey,
    NetworkKey,
    lane_keys,
    network_keys,
)
from shipflow.domain import TrackingEvent
from shipflow.edd.history import HistoryRecord

USUAL_WAIT_SHARE = 0.9  # a parcel waits "unusually" past its lane's 90th percentile wait
USUAL_DAYS = 28  # a group's usual share of waiting parcels: the mean of its last 28 midnights
SHARE_PRIOR = 5  # parcels' worth of the group's usual share mixed into tonight's


@dataclass(frozen=True)
class ScanWaits:
    """Per lane level and n, the usual longest wait (`USUAL_WAIT_SHARE`) from a parcel's n-th
    tracking event to its next event or its delivery, from parcels delivered in the year
    before."""

    usual: dict[tuple[LaneKey, int], float] = field(default_factory=dict)

    @classmethod
    def fit(
        cls,
        records: Iterable[HistoryRecord],
        as_of: datetime,
        events: Mapping[str, Sequence[TrackingEvent]],
    ) -> ScanWaits:
        waits: dict[tuple[LaneKey, int], list[float]] = defaultdict(list)
        for r in records:
            if not r.delivered_at or not 0 <= (as_of - r.delivered_at).total_seconds() < (
                LANE_HISTORY_DAYS * DAY
            ):
                continue
            times = [
                e.occurred_at for e in events.get(r.order_id, ()) if e.occurred_at < r.delivered_at
            ]
            times.append(r.delivered_at)
            for n, (scan, after) in enumerate(zip(times, times[1:], strict=False), 1):
                for key in lane_keys(r):
                    waits[(key, n)].append((after - scan).total_seconds() / DAY)
        return cls(
            {
                key: float(np.quantile(found, USUAL_WAIT_SHARE))
                for key, found in waits.items()
                if len(found) >= MIN_SCANS
            }
        )

    def waiting(
        self, record: HistoryRecord, known: Sequence[TrackingEvent], now: datetime
    ) -> bool | None:
        """Whether the parcel has waited at its last scan past its lane's usual wait there;
        None with no scan yet or no lane parcel seen after as many scans."""
        if not known:
            return None
        for key in lane_keys(record):
            usual = self.usual.get((key, len(known)))
            if usual is not None:
                return (now - known[-1].occurred_at).total_seconds() / DAY > usual
        return None


@dataclass
class NetworkWatch:
    """Each origin's and destination's share of waiting parcels over its last midnights."""

    shares: dict[NetworkKey, deque[float]] = field(
        default_factory=lambda: defaultdict(lambda: deque(maxlen=USUAL_DAYS))
    )

    def day(
        self,
        in_flight: Iterable[HistoryRecord],
        now: datetime,
        waits: ScanWaits,
        events: Mapping[str, Sequence[TrackingEvent]],
    ) -> dict[NetworkKey, float]:
        """Each group's share of waiting parcels at `now`, smoothed towards its usual share,
        minus that usual share (a new group's usual: tonight's share over all groups)."""
        tally: dict[NetworkKey, list[int]] = defaultdict(lambda: [0, 0])
        for record in in_flight:
            known = [e for e in events.get(record.order_id, ()) if e.occurred_at <= now]
            waiting = waits.waiting(record, known, now)
            if waiting is None:
                continue
            for key in network_keys(record):
                tally[key][0] += waiting
                tally[key][1] += 1
        waiting_all = sum(t[0] for t in tally.values())
        counted = sum(t[1] for t in tally.values())
        tonight = waiting_all / counted if counted else 0.0
        excess: dict[NetworkKey, float] = {}
        for key in set(tally) | set(self.shares):
            waiting, n = tally.get(key, (0, 0))
            past = self.shares[key]
            usual = statistics.fmean(past) if past else tonight
            excess[key] = (waiting + SHARE_PRIOR * usual) / (n + SHARE_PRIOR) - usual
            if n:
                past.append(waiting / n)
        return excess
