"""How the carrier's network is doing right now ahead of a parcel: of the brand's other
parcels in flight to the same destination, the share already behind their lane's usual scans
for the time they have left, against that share's usual level.

A region the carrier has lost or a weather day holds every parcel going there, and the
parcels closest to their promise show it first: a parcel handed over yesterday is not behind
yet itself, but its neighbours are (issue #18, item 5; docs/benchmarks.md). Only the brand's
own parcels count (`risk_history.replay` is given one brand's), so one brand's parcels never
move another's warnings. Computed each midnight by the replay and stored with the model as it
stood when learned (`RiskModel.network`), so the product reads what the replay learned from.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict, deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from shipflow.delays.days import days_between
from shipflow.delays.risk import LaneTimes, NetworkKey, lane_keys, network_key
from shipflow.domain import TrackingEvent
from shipflow.edd.history import HistoryRecord

BEHIND_SHARE = 0.1  # a parcel is behind when fewer of its lane's lacked its next scan so late
USUAL_DAYS = 28  # a group's usual share of parcels behind: the mean of its last 28 midnights
SHARE_PRIOR = 5  # parcels' worth of the group's usual share mixed into tonight's


def behind(
    record: HistoryRecord,
    known: Sequence[TrackingEvent],
    now: datetime,
    deadline: datetime,
    lanes: LaneTimes,
) -> bool | None:
    """Whether the parcel still lacks a scan that fewer than `BEHIND_SHARE` of its lane's
    delivered parcels lacked with as little time left to the end of their delivery day as it
    has to its promise's end; None with no scan yet or no lane parcel seen after as many."""
    if not known:
        return None
    keys = lane_keys(record)
    if lanes.after_scan(keys, len(known) + 1) is None:
        return None
    left = days_between(now, deadline)
    return lanes.next_scan_overdue(keys, len(known), left) > -math.log(BEHIND_SHARE)


@dataclass
class NetworkWatch:
    """Each destination's share of parcels behind over its last midnights."""

    shares: dict[NetworkKey, deque[float]] = field(
        default_factory=lambda: defaultdict(lambda: deque(maxlen=USUAL_DAYS))
    )

    def day(
        self,
        in_flight: Iterable[HistoryRecord],
        now: datetime,
        lanes: LaneTimes,
        events: Mapping[str, Sequence[TrackingEvent]],
        deadlines: Mapping[str, datetime],
    ) -> dict[NetworkKey, float]:
        """Each group's share of parcels behind at `now` (`deadlines`: by order id), smoothed
        towards its usual share, minus that usual share (a new group's usual: tonight's share
        over all groups)."""
        tally: dict[NetworkKey, list[int]] = defaultdict(lambda: [0, 0])
        for record in in_flight:
            deadline = deadlines.get(record.order_id)
            if deadline is None:
                continue
            known = [e for e in events.get(record.order_id, ()) if e.occurred_at <= now]
            judged = behind(record, known, now, deadline, lanes)
            if judged is None:
                continue
            tally[network_key(record)][0] += judged
            tally[network_key(record)][1] += 1
        counted = sum(t[1] for t in tally.values())
        tonight = sum(t[0] for t in tally.values()) / counted if counted else 0.0
        excess: dict[NetworkKey, float] = {}
        for key in set(tally) | set(self.shares):
            late, n = tally.get(key, (0, 0))
            past = self.shares[key]
            usual = statistics.fmean(past) if past else tonight
            excess[key] = (late + SHARE_PRIOR * usual) / (n + SHARE_PRIOR) - usual
            if n:
                past.append(late / n)
        return excess
