"""The chance that a parcel still in flight misses its promise, from what shipflow knows now.

"Not delivered N hours before the promise ends" flags every slow parcel alike. What tells the
ones that will still make it from the ones that will not: how long the parcel has already
spent against its lane's delivered times (a parcel already past most of its lane's deliveries
has stopped being a fast one), how much slack its promise has left, and how its lane is doing
right now (parcels piling up in flight, many of them already older than the lane's usual, recent
deliveries slower than usual). Where the carrier's tracking events are known, also what they
show: an exception or a failed attempt, the next scan overdue against when the lane's parcels
usually get it, and how often past parcels were late from the same moment (as many events
known, as much time left, as long since the last). And where it goes: its destination postal
area's usual time from handover (`area_times`), which a lane of states or regions averages away,
and how many of the brand's other parcels going there are behind now (`network`). Logistic
weights and boosted trees (`boosted`) weigh these, a chance the mean of theirs, fitted on the
brand's own past parcels (those whose promise has ended), so each brand's threshold means a
probability; a tracked parcel's last day and a half before its promise ends is weighed apart
(`NEAR_DAYS`).

Pure: no I/O. `risk_history` replays a history to learn a `RiskModel`; `risk_store` keeps
each brand's; the `at_risk` detector (`detectors`) asks it for a shipment's chance.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

import numpy as np

from shipflow.delays.area_times import AreaTimes
from shipflow.delays.boosted import Trees
from shipflow.delays.days import days_between, delivered_in_history
from shipflow.delays.scan_schedule import MIN_PEERS, ScanSchedule
from shipflow.domain import Status, TrackingEvent
from shipflow.edd.history import HistoryRecord

MIN_LANE = 30  # deliveries for a lane level's times to count, else its parent's
# Deliveries for a lane level's times from its n-th scan to count: fewer than `MIN_LANE`, as
# only the finest level (service and state pair) has one route, so one meaning of "the n-th
# scan"; its parents mix origins with and without a relay hub (sandbox, 8,000 orders: 24 h
# ahead at 0.4, 43.1 % of late parcels warned at 84.8 % precision, against 32.1 % at 85.2 %
# with 30).
MIN_SCANS = 5
USUAL_SHARE = 0.8  # a parcel is "aged" past its lane's 80th percentile of delivered times
INPUTS = (
    "intercept",
    "chance late by lane times (logit), counted from the order",
    "chance late by lane times (logit), counted from the handover (0 before it)",
    "handed to the carrier",
    "days left before the promise ends (log)",
    "promise slack against the lane's median (log)",
    "lane's parcels in flight now, past their lane's usual time (share)",
    "lane's deliveries of the last 14 days past their lane's usual time (share)",
    "lane's parcels in flight against its last 28 days (log ratio)",
    "an exception scanned",
    "a delivery attempt failed",
    "chance late by the lane's times from the last scan (logit; 0 with no scans)",
    "next scan overdue: -log share of the lane's parcels that got it with this little time left",
    "late share of past parcels at the same moment (logit; 0 with no scans)",
    "destination postal area's median days from handover to delivery (log; 0 with no areas)",
    "parcels in flight to the same destination behind their lane's usual scans (excess share)",
    "behind the lane's on-time scan schedule: -log share of its on-time parcels no further along",
)
# Within the last day and a half before the promise ends, with tracking events, every input
# again: a scan missing then is the destination hub's, which on-time parcels get on the eve of
# delivery, where earlier it is a line haul's or a relay's; one set of weights for both warned
# on-time parcels days ahead (sandbox, 24 h ahead: 66.2 % of late parcels warned at 60 %
# precision, against 64.1 % with one set; docs/benchmarks.md, "Delay warnings, seventh
# session"). Without events nothing changes then, and Olist's warnings a day ahead were less
# precise with the copy.
NEAR_DAYS = 1.5
FEATURES = INPUTS + tuple(f"{name}, within {NEAR_DAYS} days of the end, tracked" for name in INPUTS)
LaneKey = tuple[str, ...]
NetworkKey = tuple[str, ...]
K = TypeVar("K")


def lane_keys(record: HistoryRecord) -> tuple[LaneKey, ...]:
    """Finest to coarsest: service and state pair, service and destination, service."""
    service = record.service_key
    return (
        (service, record.origin_state, record.destination_state),
        (service, record.destination_state),
        (service,),
    )


def region_key(record: HistoryRecord) -> LaneKey:
    """The lane whose current state (backlog, recent lateness) a parcel shares."""
    return lane_keys(record)[1]


def network_key(record: HistoryRecord) -> NetworkKey:
    """The part of the network ahead of a parcel whose state it shares (`network`): its
    destination state. Not its origin: a parcel held there shows it in its own scans (its next
    scan overdue), which the origin's other parcels add little to (sandbox: warnings less
    precise, docs/benchmarks.md)."""
    return ("destination", record.destination_country, record.destination_state)


@dataclass(frozen=True)
class LaneTimes:
    """Sorted delivered times per lane level: days from order, from handover, and from each
    parcel's n-th tracking event to the end of its delivery day (keyed (lane, n))."""

    from_order: dict[LaneKey, np.ndarray] = field(default_factory=dict)
    from_handover: dict[LaneKey, np.ndarray] = field(default_factory=dict)
    from_scan: dict[tuple[LaneKey, int], np.ndarray] = field(default_factory=dict)

    @classmethod
    def fit(
        cls,
        records: Iterable[HistoryRecord],
        as_of: datetime,
        events: Mapping[str, Sequence[TrackingEvent]] | None = None,
    ) -> LaneTimes:
        """The times of parcels delivered in the year before `as_of`; from a scan, to the end
        of the delivery day in `as_of`'s zone (where promises end)."""
        order: dict[LaneKey, list[float]] = {}
        handover: dict[LaneKey, list[float]] = {}
        scan: dict[tuple[LaneKey, int], list[float]] = {}
        for r, delivered in delivered_in_history(records, as_of):
            day_over = _day_end(delivered.astimezone(as_of.tzinfo))
            before = [e for e in (events or {}).get(r.order_id, ()) if e.occurred_at < delivered]
            for key in lane_keys(r):
                order.setdefault(key, []).append(days_between(r.ordered_at, delivered))
                if r.handed_to_carrier_at:
                    handover.setdefault(key, []).append(
                        days_between(r.handed_to_carrier_at, delivered)
                    )
                for n, e in enumerate(before, 1):
                    scan.setdefault((key, n), []).append(days_between(e.occurred_at, day_over))
        return cls(_sorted(order), _sorted(handover), _sorted(scan))

    def times(self, keys: Sequence[LaneKey], handed: bool) -> np.ndarray | None:
        table = self.from_handover if handed else self.from_order
        for key in keys:
            found = table.get(key)
            if found is not None and len(found) >= MIN_LANE:
                return found
        return None

    def after_scan(self, keys: Sequence[LaneKey], n: int) -> np.ndarray | None:
        """Delivered times from the lane's n-th tracking event, at the finest level with data."""
        for key in keys:
            found = self.from_scan.get((key, n))
            if found is not None and len(found) >= MIN_SCANS:
                return found
        return None

    def next_scan_overdue(self, keys: Sequence[LaneKey], n: int, left: float) -> float:
        """How unusual it is to still lack the (n+1)-th scan with `left` days to go: minus the
        log share of the lane's parcels whose (n+1)-th scan came with less than `left` to the
        end of their delivery day (0 when the lane has no such scans)."""
        times = self.after_scan(keys, n + 1)
        if times is None:
            return 0.0
        later = int(np.searchsorted(times, left, side="left"))
        return -math.log((later + 0.5) / (len(times) + 1.0))

    def usual(self, keys: Sequence[LaneKey]) -> float | None:
        """The lane's 80th percentile of days from order: past it, a parcel is "aged"."""
        times = self.times(keys, handed=False)
        return None if times is None else float(times[int(USUAL_SHARE * (len(times) - 1))])


Moment = tuple[str, int, int, int]  # service, events known, quarter days left, since the last
MOMENT_PRIOR = 10  # parcels' worth of the coarser moment's late share mixed into each moment's


def moment(
    record: HistoryRecord, known: Sequence[TrackingEvent], now: datetime, left: float
) -> Moment:
    since = days_between(known[-1].occurred_at, now) if known else 0.0
    return (record.service_key, len(known), min(int(left * 4), 40), min(int(since * 4), 12))


@dataclass(frozen=True)
class MomentRates:
    """How often past parcels were late from the same moment: same service, as many tracking
    events known, as much of the promise left, as long since the last of them (each moment
    backed off to the one without the time since the last event). Where in its journey a
    parcel stands against the time left, learned whatever the carrier's network looks like."""

    counts: dict[tuple, tuple[int, int]] = field(default_factory=dict)  # late, all
    overall: float = 0.5

    @classmethod
    def fit(cls, judged: Iterable[tuple[Moment, bool]]) -> MomentRates:
        counts: dict[tuple, list[int]] = {}
        for key, late in judged:
            for level in (key, key[:3]):
                tally = counts.setdefault(level, [0, 0])
                tally[0] += late
                tally[1] += 1
        late_all = sum(c[0] for k, c in counts.items() if len(k) == 3)
        total = sum(c[1] for k, c in counts.items() if len(k) == 3)
        overall = (late_all + 0.5) / (total + 1.0)
        return cls({k: (c[0], c[1]) for k, c in counts.items()}, overall)

    def logit(self, key: Moment) -> float:
        share = self.overall
        for level in (key[:3], key):
            late, total = self.counts.get(level, (0, 0))
            share = (late + MOMENT_PRIOR * share) / (total + MOMENT_PRIOR)
        return _logit(share)


def chance_beyond(times: np.ndarray, elapsed: float, left: float) -> float:
    """P(T > elapsed + left | T > elapsed) among a lane's delivered times, smoothed."""
    n = len(times)
    alive = n - int(np.searchsorted(times, elapsed, side="right"))
    late = n - int(np.searchsorted(times, elapsed + left, side="right"))
    return (late + 0.5) / (alive + 1.0)


@dataclass(frozen=True, slots=True)
class LaneState:
    """How a lane is doing right now (see `FEATURES`)."""

    aged: float = 0.0
    recent: float = 0.0
    backlog: float = 0.0


def features(
    record: HistoryRecord,
    deadline: datetime,
    now: datetime,
    lanes: LaneTimes,
    state: LaneState,
    known: Sequence[TrackingEvent] = (),
    rates: MomentRates | None = None,
    areas: AreaTimes | None = None,
    network: float = 0.0,
    schedule: ScanSchedule | None = None,
) -> np.ndarray | None:
    """The model's inputs for a parcel not delivered at `now`, its promise ending at
    `deadline`, its tracking events so far `known`, its destination area's times `areas`, its
    destination's excess share of parcels behind `network` (`network_key`), its lane's on-time
    scan schedule `schedule` (empty for a brand without tracking events), then the same
    again within `NEAR_DAYS` of the promise's end with events known (else zeros); None when
    its lane has no delivered times yet."""
    keys = lane_keys(record)
    from_order = lanes.times(keys, handed=False)
    if from_order is None:
        return None
    elapsed, left = days_between(record.ordered_at, now), days_between(now, deadline)
    handed = record.handed_to_carrier_at is not None and record.handed_to_carrier_at <= now
    from_handover = lanes.times(keys, handed=True) if handed else None
    transit = 0.0
    if from_handover is not None:
        in_transit = days_between(record.handed_to_carrier_at, now)  # type: ignore[arg-type]
        transit = _logit(chance_beyond(from_handover, in_transit, left))
    median = float(from_order[len(from_order) // 2])
    statuses = {e.status for e in known}
    from_scan = lanes.after_scan(keys, len(known)) if known else None
    since_scan = (
        0.0
        if from_scan is None
        else _logit(chance_beyond(from_scan, days_between(known[-1].occurred_at, now), left))
    )
    row = np.array(
        [
            1.0,
            _logit(chance_beyond(from_order, elapsed, left)),
            transit,
            float(handed),
            math.log1p(left),
            math.log(max(days_between(record.ordered_at, deadline), 0.5) / max(median, 0.5)),
            state.aged,
            state.recent,
            state.backlog,
            float(Status.EXCEPTION in statuses),
            float(Status.ATTEMPT_FAILED in statuses),
            since_scan,
            lanes.next_scan_overdue(keys, len(known), left) if known else 0.0,
            rates.logit(moment(record, known, now, left)) if known and rates else 0.0,
            areas.log_median(record) if areas else 0.0,
            network,
            schedule.behind(record, len(known), left) if schedule else 0.0,
        ]
    )
    return np.concatenate([row, row * (left < NEAR_DAYS and bool(known))])


@dataclass(frozen=True)
class WarningModel:
    """Logistic weights over `FEATURES` and, learned since `MODEL_VERSION` 2, boosted trees
    over the same inputs (`boosted`): a check's chance is the mean of the two, the weights'
    alone for a model stored without trees. The chance that raises the warning is each
    brand's (`detectors.at_risk_threshold`)."""

    weights: tuple[float, ...]
    trees: Trees | None = None

    @classmethod
    def fit(cls, rows: np.ndarray, late: np.ndarray) -> WarningModel:
        return cls(_logistic(rows, late), Trees.fit(rows, late))

    def chance(self, row: np.ndarray) -> float:
        logistic = 1 / (1 + math.exp(-float(np.dot(self.weights, row))))
        if self.trees is None:
            return float(logistic)
        boosted = 1 / (1 + math.exp(-float(self.trees.logits(row[None, :])[0])))
        return float((logistic + boosted) / 2)


def _logistic(rows: np.ndarray, late: np.ndarray, ridge: float = 1.0) -> tuple[float, ...]:
    """Maximum likelihood with a small ridge (Newton steps on standardised inputs)."""
    scale = rows.std(axis=0)
    scale[0] = 1.0
    # A constant input's std comes out as rounding noise (1e-16), not 0: dividing by it
    # made the inputs overflow and the Newton step singular.
    scale[scale <= 1e-9 * np.maximum(1.0, np.abs(rows).max(axis=0))] = 1.0
    x = rows / scale
    weights = np.zeros(x.shape[1])
    penalty = np.full(x.shape[1], ridge)
    penalty[0] = 0.0
    for _ in range(25):
        p = 1 / (1 + np.exp(-(x @ weights)))
        gradient = x.T @ (p - late) + penalty * weights
        hessian = (x * (p * (1 - p))[:, None]).T @ x + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hessian, gradient)
        weights -= step
        if np.abs(step).max() < 1e-6:
            break
    return tuple(float(w) for w in weights / scale)


STORED_TIMES = 257  # order statistics kept of a lane's times; the others rebuilt between them
# What a stored model holds: 1, the logistic weights alone (no "version" stored); 2, also
# the boosted trees. An older model still loads and judges as it did when it was learned.
MODEL_VERSION = 2


@dataclass(frozen=True)
class RiskModel:
    """What one brand learned (`risk_history.replay`): its lane times, late shares per moment
    and weights, each lane's and each destination's state (`network`) when it learned them
    and its destination areas' times and its lanes' on-time scan schedules (`scan_schedule`),
    and the threshold chosen for a wanted precision (`thresholds`; precision -> chance);
    `zone` is where its promises end (a promised day is kept all day there)."""

    zone: str
    lanes: LaneTimes
    rates: MomentRates
    weights: WarningModel
    states: dict[LaneKey, LaneState] = field(default_factory=dict)
    areas: AreaTimes = field(default_factory=AreaTimes)
    network: dict[NetworkKey, float] = field(default_factory=dict)
    schedule: ScanSchedule = field(default_factory=ScanSchedule)
    thresholds: dict[float, float] = field(default_factory=dict)

    def chance(
        self,
        record: HistoryRecord,
        deadline: datetime,
        now: datetime,
        known: Sequence[TrackingEvent],
    ) -> float | None:
        """The chance the parcel misses `deadline`; None when its lane has no times yet."""
        state = self.states.get(region_key(record), LaneState())
        network = self.network.get(network_key(record), 0.0)
        row = features(
            record,
            deadline,
            now,
            self.lanes,
            state,
            known,
            self.rates,
            self.areas,
            network,
            self.schedule,
        )
        return None if row is None else self.weights.chance(row)

    def to_dict(self) -> dict:
        """JSON-ready. A lane's times are kept as at most `STORED_TIMES` order statistics and
        their count: a brand's year of scans would otherwise be millions of numbers. An area
        keeps only its median (one number per postal prefix with enough deliveries)."""
        lanes = self.lanes
        return {
            "version": MODEL_VERSION,
            "features": len(FEATURES),
            "zone": self.zone,
            "from_order": _stored(lanes.from_order.items()),
            "from_handover": _stored(lanes.from_handover.items()),
            "from_scan": _stored(
                (((*lane, n), t) for (lane, n), t in lanes.from_scan.items()), MIN_SCANS
            ),
            "moments": [[list(k), late, total] for k, (late, total) in self.rates.counts.items()],
            "overall": self.rates.overall,
            "weights": list(self.weights.weights),
            "trees": self.weights.trees.to_dict() if self.weights.trees else None,
            "states": [[list(k), s.aged, s.recent, s.backlog] for k, s in self.states.items()],
            "areas": [[*k, round(m, 6)] for k, m in self.areas.medians.items()],
            "area_overall": self.areas.overall,
            "network": [[list(k), round(v, 6)] for k, v in self.network.items()],
            "schedule": _stored(
                (((*lane, n), t) for (lane, n), t in self.schedule.reached.items()), MIN_PEERS
            ),
            "thresholds": [[p, t] for p, t in self.thresholds.items()],
        }

    @classmethod
    def from_dict(cls, data: Mapping) -> RiskModel:
        """The model `to_dict` stored, of this `MODEL_VERSION` or an older one; ValueError if
        it was learned over other features or by a newer version."""
        if data.get("features") != len(FEATURES) or len(data["weights"]) != len(FEATURES):
            raise ValueError(f"learned over {data.get('features')} features, not {len(FEATURES)}")
        version = data.get("version", 1)
        if version > MODEL_VERSION:
            raise ValueError(f"stored as version {version}, newer than {MODEL_VERSION}")
        trees = data["trees"] if version >= 2 else None
        scan = _loaded(data["from_scan"])
        schedule = _loaded(data["schedule"])
        return cls(
            zone=data["zone"],
            lanes=LaneTimes(
                _loaded(data["from_order"]),
                _loaded(data["from_handover"]),
                {(key[:-1], int(key[-1])): t for key, t in scan.items()},
            ),
            rates=MomentRates(
                {tuple(k): (late, total) for k, late, total in data["moments"]}, data["overall"]
            ),
            weights=WarningModel(tuple(data["weights"]), Trees.from_dict(trees) if trees else None),
            states={tuple(k): LaneState(a, r, b) for k, a, r, b in data["states"]},
            areas=AreaTimes(
                {(country, prefix): m for country, prefix, m in data["areas"]},
                data["area_overall"],
            ),
            network={tuple(k): v for k, v in data["network"]},
            schedule=ScanSchedule({(key[:-1], int(key[-1])): t for key, t in schedule.items()}),
            thresholds={p: t for p, t in data.get("thresholds", ())},
        )


def _stored(table: Iterable[tuple[tuple, np.ndarray]], least: int = MIN_LANE) -> list:
    """[key, count, times]: the lanes with enough times to be used (`least`), each thinned
    to `STORED_TIMES` evenly spaced order statistics."""
    stored = []
    for key, times in table:
        if len(times) < least:
            continue
        kept = times
        if len(times) > STORED_TIMES:
            kept = times[np.linspace(0, len(times) - 1, STORED_TIMES).round().astype(int)]
        stored.append([list(key), len(times), [round(float(t), 6) for t in kept]])
    return stored


def _loaded(stored: list) -> dict:
    """Each lane's `count` times again, interpolated between the stored order statistics."""
    table = {}
    for key, count, kept in stored:
        values = np.array(kept, dtype=float)
        if count > len(values):
            values = np.interp(
                np.linspace(0, len(values) - 1, count), np.arange(len(values)), values
            )
        table[tuple(key)] = values
    return table


def day_end(day: date, zone: str) -> datetime:
    """The end of a promised day where promises end: a promise is a date, kept all day."""
    return _day_end(datetime.combine(day, time(), ZoneInfo(zone)))


def _day_end(moment: datetime) -> datetime:
    """The end of `moment`'s day where it happened."""
    return datetime.combine(moment.date() + timedelta(days=1), time(), moment.tzinfo)


def _logit(p: float) -> float:
    return math.log(p / (1 - p))


def _sorted(table: dict[K, list[float]]) -> dict[K, np.ndarray]:
    return {key: np.sort(np.array(values)) for key, values in table.items()}
