"""Replay a history day by day and score when shipflow would first have warned that a parcel is
going to be late, beside the naive rule "not delivered yet N hours before the promise ends".

Every local midnight, and at each of its tracking events (the sandbox carrier's; the product's
detectors run on every event), each parcel in flight whose promise has not ended is judged by
the warning model (`benchmarks/lateness.py`) on what was known then: lane times refitted on
the 1st and 15th from parcels delivered before, the warning weights and the late shares per
moment refitted then from the past replay's parcels whose promise had already ended. A parcel
is late if not delivered by the end of its promised day (the history's own promise, or
shipflow's with `--promise shipflow`).

    python -m benchmarks.delay_alerts --history ../shared/data/edd/olist_history_2016_2017.csv \
        --test-from 2017-07-01
    python -m benchmarks.delay_alerts --sandbox-carrier 20000 --disruptions
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time as clock
from collections import defaultdict, deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

from benchmarks.disruptions import disrupted
from benchmarks.edd_accuracy import DEFAULT_TABLE, load_postal_table, retrain_dates, score_shipflow
from benchmarks.lateness import (
    LaneState,
    LaneTimes,
    Moment,
    MomentRates,
    WarningModel,
    features,
    lane_keys,
    moment,
    region_key,
)
from shipflow.demo.history import demo_brand, sandbox_history
from shipflow.domain import Status, TrackingEvent
from shipflow.edd.history import HistoryRecord, read_history

LEADS_HOURS = (24, 72, 120)
THRESHOLDS = (0.2, 0.3, 0.4, 0.5, 0.7)
MIN_TRAINING_LATE = 20
AGED_FLIGHT_DAYS = 60  # a parcel this old and undelivered is lost, not in the lane's backlog


@dataclass
class Parcel:
    record: HistoryRecord
    deadline: datetime  # the end of the promised day
    chances: list[tuple[datetime, float]]
    story: Sequence[TrackingEvent] = ()  # its tracking events, oldest first

    @property
    def late(self) -> bool:
        delivered = self.record.delivered_at
        return delivered is None or delivered > self.deadline

    def delivered_by(self, moment: datetime) -> bool:
        delivered = self.record.delivered_at
        return delivered is not None and delivered <= moment


def replay(
    records: Sequence[HistoryRecord],
    promises: dict[str, date],
    zone: str,
    test_from: datetime,
    events: Mapping[str, Sequence[TrackingEvent]] | None = None,
) -> list[Parcel]:
    """Every test parcel with its chance of being late at each midnight it was in flight and
    at each of its tracking events (`events`, by order id) before delivery, as the product's
    sweep and per-event detectors would judge it."""
    events = events or {}
    tz = ZoneInfo(zone)
    ordered = sorted(records, key=lambda r: r.ordered_at)
    deliveries = sorted((r for r in ordered if r.delivered_at), key=lambda r: r.delivered_at)
    parcels = {
        r.order_id: Parcel(r, _day_end(promises[r.order_id], tz), [], events.get(r.order_id, ()))
        for r in ordered
        if r.order_id in promises
    }
    day = ordered[0].ordered_at.astimezone(tz).date() + timedelta(days=1)
    last = max(p.deadline for p in parcels.values()).date()
    retrains = {d.date() for d in retrain_dates(datetime.combine(day, time(), tz), _at(last, tz))}
    lanes, model = LaneTimes(), None
    rows: list[tuple[np.ndarray, datetime, bool]] = []  # features, deadline, late
    moments: list[tuple[Moment, datetime, bool]] = []  # of the checks with tracking events
    rates = MomentRates()
    in_flight: dict[str, HistoryRecord] = {}
    counts: dict[tuple, deque[int]] = defaultdict(lambda: deque(maxlen=28))
    recent: dict[tuple, deque[tuple[int, int]]] = defaultdict(lambda: deque(maxlen=14))
    placed = delivered = 0
    while day <= last:
        now = _at(day, tz)
        if day in retrains:
            lanes = LaneTimes.fit(ordered, now, events)
            rates = MomentRates.fit((m, late) for m, deadline, late in moments if deadline <= now)
            known = [(x, late) for x, deadline, late in rows if deadline <= now]
            if sum(late for _, late in known) >= MIN_TRAINING_LATE:
                model = WarningModel.fit(
                    np.array([x for x, _ in known]), np.array([float(y) for _, y in known])
                )
        while placed < len(ordered) and ordered[placed].ordered_at < now:
            in_flight[ordered[placed].order_id] = ordered[placed]
            placed += 1
        arrived: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
        while delivered < len(deliveries) and deliveries[delivered].delivered_at < now:  # type: ignore[operator]
            record = deliveries[delivered]
            delivered += 1
            if in_flight.pop(record.order_id, None) is None:
                continue
            usual = lanes.usual(lane_keys(record))
            tally = arrived[region_key(record)]
            tally[0] += 1
            tally[1] += usual is not None and _age(record, record.delivered_at) > usual  # type: ignore[arg-type]
        for order_id in [k for k, r in in_flight.items() if _age(r, now) > AGED_FLIGHT_DAYS]:
            del in_flight[order_id]
        states = lane_states(in_flight.values(), now, lanes, counts, recent, arrived)
        for record in in_flight.values():
            parcel = parcels.get(record.order_id)
            if parcel is None or parcel.deadline <= now:
                continue
            state = states[region_key(record)]
            for at in checks(parcel.story, now, min(parcel.deadline, _delivered(record))):
                known = [e for e in parcel.story if e.occurred_at <= at]
                x = features(record, parcel.deadline, at, lanes, state, known, rates)
                if x is None:
                    continue
                rows.append((x, parcel.deadline, parcel.late))
                if known:
                    left = (parcel.deadline - at).total_seconds() / 86400
                    moments.append((moment(record, known, at, left), parcel.deadline, parcel.late))
                if model is not None and record.ordered_at >= test_from:
                    parcel.chances.append((at, model.chance(x)))
        day += timedelta(days=1)
    return [p for p in parcels.values() if p.record.ordered_at >= test_from]


def lane_states(
    in_flight, now, lanes: LaneTimes, counts, recent, arrived
) -> dict[tuple, LaneState]:
    """Each lane's share of parcels in flight past its usual time, of recent deliveries past
    it, and its parcels in flight against its last 28 days; updates the running tallies."""
    flying: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    for record in in_flight:
        usual = lanes.usual(lane_keys(record))
        tally = flying[region_key(record)]
        tally[0] += 1
        tally[1] += usual is not None and _age(record, now) > usual
    states = defaultdict(LaneState)
    for key in set(flying) | set(counts) | set(arrived):
        n, aged = flying.get(key, (0, 0))
        history = counts[key]
        backlog = np.log((n + 1) / (statistics.fmean(history) + 1)) if history else 0.0
        history.append(n)
        recent[key].append(tuple(arrived.get(key, (0, 0))))
        done = sum(d for d, _ in recent[key])
        states[key] = LaneState(
            aged=aged / n if n else 0.0,
            recent=sum(a for _, a in recent[key]) / done if done else 0.0,
            backlog=float(backlog),
        )
    return states


def score(parcels: Sequence[Parcel], threshold: float, lead_hours: int) -> dict[str, str]:
    """Recall, precision and median lead of the model's first warning against the naive rule."""
    late = [p for p in parcels if p.late]
    lead = timedelta(hours=lead_hours)
    first = {id(p): next((t for t, c in p.chances if c >= threshold), None) for p in parcels}
    flagged = [p for p in parcels if (f := first[id(p)]) is not None and f <= p.deadline - lead]
    naive = [
        p
        for p in parcels
        if p.record.ordered_at < p.deadline - lead and not p.delivered_by(p.deadline - lead)
    ]
    leads = [(p.deadline - first[id(p)]).total_seconds() / 3600 for p in flagged if p.late]
    return {
        "late parcels": f"{len(late)} of {len(parcels)}",
        "recall": _pct(sum(p.late for p in flagged), len(late)),
        "precision": _pct(sum(p.late for p in flagged), len(flagged)),
        "median lead, h (late, flagged)": f"{statistics.median(leads):.0f}" if leads else "-",
        "naive recall": _pct(sum(p.late for p in naive), len(late)),
        "naive precision": _pct(sum(p.late for p in naive), len(naive)),
    }


def print_scores(title: str, parcels: Sequence[Parcel]) -> None:
    print(f"\n## {title}\n")
    print(
        "| lead | threshold | late parcels | recall | precision | median lead, h | "
        "naive recall | naive precision |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for lead in LEADS_HOURS:
        for threshold in THRESHOLDS:
            s = score(parcels, threshold, lead)
            print(
                f"| {lead} h | {threshold} | {s['late parcels']} | {s['recall']} | "
                f"{s['precision']} | {s['median lead, h (late, flagged)']} | "
                f"{s['naive recall']} | {s['naive precision']} |"
            )


SIGNS = (
    "an exception scanned before the lead",
    "a delivery attempt failed within the lead",
    "neither (a silent delay, a disruption, a loss)",
)


def sign(parcel: Parcel, lead: timedelta) -> str:
    """What a late parcel's tracking showed: an exception in time to warn, a failed attempt
    too late to (the first attempt is made on the promised day), or nothing either way."""
    warn_by = parcel.deadline - lead
    if any(e.status == Status.EXCEPTION and e.occurred_at <= warn_by for e in parcel.story):
        return SIGNS[0]
    if any(
        e.status == Status.ATTEMPT_FAILED and warn_by < e.occurred_at <= parcel.deadline
        for e in parcel.story
    ):
        return SIGNS[1]
    return SIGNS[2]


def print_signs(parcels: Sequence[Parcel], lead_hours: int) -> None:
    """The model's recall among late parcels by what their tracking showed, at one lead."""
    lead = timedelta(hours=lead_hours)
    late = [p for p in parcels if p.late]
    print(f"\nLate parcels by their tracking events, recall {lead_hours} h ahead:\n")
    print("| tracking showed | late parcels | " + " | ".join(f"at {t}" for t in THRESHOLDS) + " |")
    print("|---|---:|" + "---:|" * len(THRESHOLDS))
    for shown in SIGNS:
        group = [p for p in late if sign(p, lead) == shown]
        recalls = [score(group, t, lead_hours)["recall"] for t in THRESHOLDS]
        print(f"| {shown} | {len(group)} | " + " | ".join(recalls) + " |")


def shipflow_promises(
    records: Sequence[HistoryRecord], quote_from: datetime, zone: str, cutoffs=None
) -> dict[str, date]:
    """shipflow's promise (stated 0.95) for every delivered order placed from `quote_from`, by
    the benchmark protocol (`edd_accuracy.score_shipflow`)."""
    tests = sorted(
        (r for r in records if r.ordered_at >= quote_from and r.delivered_at),
        key=lambda r: r.ordered_at,
    )
    quoted = score_shipflow(records, quote_from, zone, cutoffs)
    return {r.order_id: q.promised for r, q in zip(tests, quoted, strict=True) if q.promised}


def checks(story: Sequence[TrackingEvent], midnight: datetime, until: datetime) -> list[datetime]:
    """The midnight, then each of the day's events before `until` (delivery or promise end)."""
    end = min(midnight + timedelta(days=1), until)
    return [midnight, *(e.occurred_at for e in story if midnight < e.occurred_at < end)]


def _delivered(record: HistoryRecord) -> datetime:
    return record.delivered_at or datetime.max.replace(tzinfo=UTC)


def _day_end(day: date, tz: ZoneInfo) -> datetime:
    return _at(day + timedelta(days=1), tz)


def _at(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), tz)


def _age(record: HistoryRecord, moment: datetime) -> float:
    return (moment - record.ordered_at).total_seconds() / 86400


def _pct(hits: int, total: int) -> str:
    return f"{100 * hits / total:.1f} %" if total else "-"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--history")
    parser.add_argument("--test-from", type=date.fromisoformat, default=date(2017, 7, 1))
    parser.add_argument("--zone", default="America/Sao_Paulo")
    parser.add_argument("--sandbox-carrier", type=int, default=0)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--disruptions", action="store_true")
    parser.add_argument("--promise", choices=["history", "shipflow"], default="history")
    parser.add_argument(
        "--no-events", dest="events", action="store_false", help="judge without tracking events"
    )
    args = parser.parse_args(argv)
    started, cpu = clock.perf_counter(), resource.getrusage(resource.RUSAGE_SELF).ru_utime
    cutoffs, events = None, {}
    if args.history:
        table = Path(args.history).with_name(DEFAULT_TABLE)
        if table.exists():
            load_postal_table(str(table))
        with open(args.history, newline="") as file:
            records, _ = read_history(file, args.zone)
        zone, test_from = args.zone, args.test_from
        title = f"{args.history} from {test_from}"
    else:
        brand = demo_brand()
        simulated = sandbox_history(args.sandbox_carrier, args.seed, brand=brand)
        parcels = [(parcel.record, parcel.events) for parcel in simulated]
        if args.disruptions:
            parcels = disrupted(parcels)
        records = [r for r, _ in parcels]
        if args.events:
            events = {r.order_id: story for r, story in parcels}
        cutoffs = {w.code: (w.cutoff, w.timezone) for w in brand.warehouses}
        zone, test_from = "America/New_York", date(2025, 7, 1)
        title = f"sandbox carrier, {args.sandbox_carrier} orders (seed {args.seed})" + (
            ", disruptions injected" if args.disruptions else ""
        )
    start = datetime.combine(test_from, time(), ZoneInfo(zone))
    if args.promise == "shipflow":
        promises = shipflow_promises(records, start - timedelta(days=120), zone, cutoffs)
    else:
        promises = {r.order_id: r.promised_date for r in records if r.promised_date}
    scored = replay(records, promises, zone, start, events)
    print_scores(f"{title}, against {args.promise}'s promise", scored)
    if events:
        print_signs(scored, LEADS_HOURS[0])
    wall = clock.perf_counter() - started
    cpu = resource.getrusage(resource.RUSAGE_SELF).ru_utime - cpu
    print(f"\n{len(records)} orders replayed in {wall:.1f} s wall, {cpu:.1f} s CPU")


if __name__ == "__main__":
    main()
