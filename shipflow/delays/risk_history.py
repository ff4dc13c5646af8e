"""Learning a brand's `RiskModel` by replaying its history day by day, as the detectors would
have judged it: every local midnight, and at each tracking event, each parcel in flight whose
promise has not ended is judged on what was known then. Lane times, the lanes' on-time scan
schedules and the late shares per moment are refitted on the 1st and 15th from parcels
delivered before; the weights from the replay's parcels whose promise had already ended, fitted
only once a judge asks for them (`Learned`). Pure: the caller brings the records, their events
and promises (`risk_store.learn` from the database, the benchmark from a file).
"""

from __future__ import annotations

import statistics
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from shipflow.delays.area_times import AreaTimes
from shipflow.delays.days import days_between
from shipflow.delays.network import NetworkWatch
from shipflow.delays.risk import (
    LaneKey,
    LaneState,
    LaneTimes,
    Moment,
    MomentRates,
    NetworkKey,
    RiskModel,
    WarningModel,
    features,
    lane_keys,
    moment,
    network_key,
    region_key,
)
from shipflow.delays.scan_schedule import ScanSchedule
from shipflow.domain import TrackingEvent
from shipflow.edd.history import HistoryRecord

MIN_TRAINING_LATE = 20  # late parcels the weights need; fewer, and there is no model yet
AGED_FLIGHT_DAYS = 60  # a parcel this old and undelivered is lost, not in the lane's backlog


@dataclass(frozen=True, slots=True)
class Check:
    """One judgement of a parcel in flight: its features at `at`, its promise ending at
    `deadline`, and whether it turned out late (delivered after it, or not at all)."""

    record: HistoryRecord
    at: datetime
    deadline: datetime
    row: np.ndarray
    late: bool


class Learned:
    """The warning model of the replay's last refit, fitted the first time a judge asks for it
    (`model`): the learning job stores only the model at the end of its replay and judges at
    most its last weeks' checks, so most refits need no fit (each fits boosted trees: two
    thirds of the job's CPU when every refit fitted). With too few late parcels to fit, the
    model stays the one `before`."""

    def __init__(self, rows: np.ndarray, late: np.ndarray, before: Learned | None) -> None:
        enough = late.sum() >= MIN_TRAINING_LATE
        self._data: tuple[np.ndarray, np.ndarray] | None = (rows, late) if enough else None
        self._before = None if enough else before
        self._model: WarningModel | None = None

    def model(self) -> WarningModel | None:
        if self._data is not None:
            self._model = WarningModel.fit(*self._data)
            self._data = None  # fitted once; the rows are not needed again
        return self._model if self._before is None else self._before.model()


Judge = Callable[[Check, Learned], None]


@dataclass
class LaneWatch:
    """The running tallies behind each lane's state (`LaneState`): its parcels in flight over
    the last 28 days and its deliveries (all, past the lane's usual time) over the last 14."""

    counts: dict[LaneKey, deque[int]] = field(
        default_factory=lambda: defaultdict(lambda: deque(maxlen=28))
    )
    recent: dict[LaneKey, deque[tuple[int, int]]] = field(
        default_factory=lambda: defaultdict(lambda: deque(maxlen=14))
    )

    def day(
        self,
        in_flight: Iterable[HistoryRecord],
        now: datetime,
        lanes: LaneTimes,
        arrived: Mapping[LaneKey, Sequence[int]],
    ) -> dict[LaneKey, LaneState]:
        """Each lane's state at `now`, from its parcels in flight and the day's deliveries
        (`arrived`: all, past usual); counts the day into the tallies."""
        flying: dict[LaneKey, list[int]] = defaultdict(lambda: [0, 0])
        for record in in_flight:
            usual = lanes.usual(lane_keys(record))
            tally = flying[region_key(record)]
            tally[0] += 1
            tally[1] += usual is not None and days_between(record.ordered_at, now) > usual
        states: dict[LaneKey, LaneState] = {}
        for key in set(flying) | set(self.counts) | set(arrived):
            n, aged = flying.get(key, (0, 0))
            history = self.counts[key]
            backlog = np.log((n + 1) / (statistics.fmean(history) + 1)) if history else 0.0
            history.append(n)
            done_today = arrived.get(key, (0, 0))
            self.recent[key].append((done_today[0], done_today[1]))
            done = sum(d for d, _ in self.recent[key])
            states[key] = LaneState(
                aged=aged / n if n else 0.0,
                recent=sum(a for _, a in self.recent[key]) / done if done else 0.0,
                backlog=float(backlog),
            )
        return states


def replay(
    records: Sequence[HistoryRecord],
    deadlines: Mapping[str, datetime],
    zone: str,
    until: datetime,
    events: Mapping[str, Sequence[TrackingEvent]] | None = None,
    judge: Judge | None = None,
) -> RiskModel | None:
    """Walk the records from the day after the first order to `until`, judging each parcel
    with a deadline (the end of its promised day, by order id) at every midnight and at each
    of its events (`events`, by order id) while in flight; `judge` sees every check with the
    weights learned so far (fitted if it asks). Returns the model learned at `until` (None:
    too few late parcels whose promise had ended)."""
    events = events or {}
    tz = ZoneInfo(zone)
    ordered = sorted(records, key=lambda r: r.ordered_at)
    if not ordered:
        return None
    deliveries = sorted((r for r in ordered if r.delivered_at), key=lambda r: r.delivered_at)  # type: ignore[arg-type, return-value]
    day = ordered[0].ordered_at.astimezone(tz).date() + timedelta(days=1)
    refits = refit_days(day, until.astimezone(tz).date())
    lanes, rates, areas = LaneTimes(), MomentRates(), AreaTimes()
    learned = Learned(np.zeros((0, 0)), np.zeros(0), None)
    schedule = ScanSchedule()
    rows: list[tuple[np.ndarray, datetime, bool]] = []  # features, deadline, late
    moments: list[tuple[Moment, datetime, bool]] = []  # of the checks with tracking events
    in_flight: dict[str, HistoryRecord] = {}
    watch, network_watch = LaneWatch(), NetworkWatch()
    states: dict[LaneKey, LaneState] = {}
    network: dict[NetworkKey, float] = {}
    placed = delivered = 0
    while (now := _at(day, tz)) < until:
        if day in refits:
            lanes, rates, areas, learned = _refit(ordered, events, rows, moments, now, learned)
            schedule = ScanSchedule.fit(ordered, deadlines, now, events)
        while placed < len(ordered) and ordered[placed].ordered_at < now:
            in_flight[ordered[placed].order_id] = ordered[placed]
            placed += 1
        arrived: dict[LaneKey, list[int]] = defaultdict(lambda: [0, 0])
        while delivered < len(deliveries) and deliveries[delivered].delivered_at < now:  # type: ignore[operator]
            record = deliveries[delivered]
            delivered += 1
            if in_flight.pop(record.order_id, None) is None:
                continue
            usual = lanes.usual(lane_keys(record))
            tally = arrived[region_key(record)]
            tally[0] += 1
            age = days_between(record.ordered_at, record.delivered_at)  # type: ignore[arg-type]
            tally[1] += usual is not None and age > usual
        lost = [
            k for k, r in in_flight.items() if days_between(r.ordered_at, now) > AGED_FLIGHT_DAYS
        ]
        for order_id in lost:
            del in_flight[order_id]
        states = watch.day(in_flight.values(), now, lanes, arrived)
        network = network_watch.day(in_flight.values(), now, lanes, events, deadlines)
        for record in in_flight.values():
            deadline = deadlines.get(record.order_id)
            if deadline is None or deadline <= now:
                continue
            story = events.get(record.order_id, ())
            late = record.delivered_at is None or record.delivered_at > deadline
            for at in checks(story, now, min(deadline, _delivered(record), until)):
                known = [e for e in story if e.occurred_at <= at]
                state = states[region_key(record)]
                around = network.get(network_key(record), 0.0)
                x = features(
                    record, deadline, at, lanes, state, known, rates, areas, around, schedule
                )
                if x is None:
                    continue
                rows.append((x, deadline, late))
                if known:
                    left = days_between(at, deadline)
                    moments.append((moment(record, known, at, left), deadline, late))
                if judge is not None:
                    judge(Check(record, at, deadline, x, late), learned)
        day += timedelta(days=1)
    lanes, rates, areas, learned = _refit(ordered, events, rows, moments, until, None)
    model = learned.model()
    if model is None:
        return None
    schedule = ScanSchedule.fit(ordered, deadlines, until, events)
    return RiskModel(zone, lanes, rates, model, states, areas, network, schedule)


def refit_days(first: date, last: date) -> set[date]:
    """`first`, then the 1st and 15th of each month up to `last`."""
    days, day = {first}, first
    while day <= last:
        day = day.replace(day=15) if day.day < 15 else _next_month(day)
        days.add(day)
    return days


def checks(story: Sequence[TrackingEvent], midnight: datetime, until: datetime) -> list[datetime]:
    """The midnight, then each of the day's events before `until` (delivery or promise end)."""
    end = min(midnight + timedelta(days=1), until)
    return [midnight, *(e.occurred_at for e in story if midnight < e.occurred_at < end)]


def _refit(
    records: Sequence[HistoryRecord],
    events: Mapping[str, Sequence[TrackingEvent]],
    rows: Sequence[tuple[np.ndarray, datetime, bool]],
    moments: Sequence[tuple[Moment, datetime, bool]],
    now: datetime,
    before: Learned | None,
) -> tuple[LaneTimes, MomentRates, AreaTimes, Learned]:
    """Lane and destination area times from parcels delivered before `now`, the late shares
    from the checks of parcels whose promise had ended, and those checks to fit the weights
    on (the weights stay `before`'s with too few late)."""
    lanes = LaneTimes.fit(records, now, events)
    areas = AreaTimes.fit(records, now)
    rates = MomentRates.fit((m, late) for m, deadline, late in moments if deadline <= now)
    known = [(x, late) for x, deadline, late in rows if deadline <= now]
    learned = Learned(
        np.array([x for x, _ in known]), np.array([float(y) for _, y in known]), before
    )
    return lanes, rates, areas, learned


def _next_month(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


def _delivered(record: HistoryRecord) -> datetime:
    return record.delivered_at or datetime.max.replace(tzinfo=UTC)


def _at(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), tz)
