"""Replay a history day by day and score when shipflow would first have warned that a parcel is
going to be late, beside the naive rule "not delivered yet N hours before the promise ends".

Every local midnight, and at each of its tracking events (the sandbox carrier's; the product's
detectors run on every event), each parcel in flight whose promise has not ended is judged by
the product's warning model (`shipflow.delays.risk`, replayed by `shipflow.delays.risk_history`
as the brand's learning job does) on what was known then: lane times refitted on the 1st and
15th from parcels delivered before, the warning weights and the late shares per moment refitted
then from the past replay's parcels whose promise had already ended. A parcel
is late if not delivered by the end of its promised day (the history's own promise, or
shipflow's with `--promise shipflow`).

    python -m benchmarks.delay_alerts --history ../shared/data/edd/olist_history_2016_2017.csv \
        --test-from 2017-07-01
    python -m benchmarks.delay_alerts --sandbox-carrier 20000 --disruptions
"""

from __future__ import annotations

import argparse
import bisect
import resource
import statistics
import time as clock
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from benchmarks.disruptions import disrupted
from benchmarks.edd_accuracy import DEFAULT_TABLE, load_postal_table, score_shipflow
from shipflow.delays import risk_history
from shipflow.delays.config import AtRiskConfig
from shipflow.delays.risk import day_end
from shipflow.delays.risk_history import Check, Learned
from shipflow.delays.thresholds import RECENT_DAYS, ended_lately, lowest_thresholds
from shipflow.demo.history import demo_brand, sandbox_history
from shipflow.domain import Status, TrackingEvent
from shipflow.edd.history import HistoryRecord, read_history

LEADS_HOURS = (24, 72, 120)
THRESHOLDS = (0.2, 0.3, 0.4, 0.5, 0.7)
PRECISIONS = (0.6, 0.7, 0.85)  # the targets' precisions (docs/benchmarks.md)


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
    horizon: timedelta | None = None,
) -> tuple[list[Parcel], list[Parcel]]:
    """Every parcel with its chance of being late at each midnight it was in flight and at
    each of its tracking events (`events`, by order id) before delivery, as the product judges
    it (`shipflow.delays.risk_history.replay`, which also learns the weights): the test
    parcels (ordered from `test_from`), then the earlier ones (whose outcomes, once known,
    choose the operating points: `chosen_points`). With a `horizon`, only the checks within it
    of the promise's end, as the `at_risk` detector judges (`at_risk.horizon_days`)."""
    events = events or {}
    parcels = {
        r.order_id: Parcel(r, day_end(promises[r.order_id], zone), [], events.get(r.order_id, ()))
        for r in records
        if r.order_id in promises
    }

    def judge(check: Check, learned: Learned) -> None:
        if horizon is not None and check.deadline - check.at > horizon:
            return
        if (model := learned.model()) is not None:
            parcels[check.record.order_id].chances.append((check.at, model.chance(check.row)))

    deadlines = {order_id: p.deadline for order_id, p in parcels.items()}
    risk_history.replay(records, deadlines, zone, max(deadlines.values()), events, judge)
    tests = [p for p in parcels.values() if p.record.ordered_at >= test_from]
    return tests, [p for p in parcels.values() if p.record.ordered_at < test_from]


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


def operating_points(parcels: Sequence[Parcel], lead_hours: int) -> dict[float, float]:
    """The lowest threshold at which the warnings `lead_hours` ahead reach each of `PRECISIONS`
    among `parcels` (`thresholds.lowest_thresholds`, as the product chooses its own). Chosen
    on parcels whose outcome is known, then applied to others, it is an operating point a
    brand could have set (`chosen_points`); on the test parcels themselves it peeks at their
    outcome (`frontier`)."""
    return lowest_thresholds(parcels, timedelta(hours=lead_hours), PRECISIONS)


def frontier(parcels: Sequence[Parcel], lead_hours: int) -> dict[float, float]:
    """The highest recall any one threshold reaches `lead_hours` ahead at each of `PRECISIONS`:
    the model's whole curve, not its points at `THRESHOLDS` (a change moves both recall and
    precision there), read off the test parcels' own outcomes. A parcel is warned at a
    threshold when its highest chance by then reached it."""
    points = operating_points(parcels, lead_hours)
    return {
        precision: warned_at(parcels, points[precision], lead_hours)[0]
        if precision in points
        else 0.0
        for precision in PRECISIONS
    }


def warned_at(parcels: Sequence[Parcel], threshold: float, lead_hours: int) -> tuple[float, float]:
    """Recall and precision of the warnings at `threshold`, `lead_hours` ahead."""
    return _warned(parcels, lead_hours, lambda _: threshold)


def _warned(
    parcels: Sequence[Parcel], lead_hours: int, threshold: Callable[[datetime], float | None]
) -> tuple[float, float]:
    """Recall and precision `lead_hours` ahead when a check warns once its chance reaches the
    threshold in force at its moment (None: no warning then)."""
    lead = timedelta(hours=lead_hours)
    warned = [
        p
        for p in parcels
        if any(
            (limit := threshold(t)) is not None and c >= limit
            for t, c in p.chances
            if t <= p.deadline - lead
        )
    ]
    hits, late = sum(p.late for p in warned), sum(p.late for p in parcels)
    return (hits / late if late else 0.0, hits / len(warned) if warned else 0.0)


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
    print(
        "\n| lead | "
        + " | ".join(f"recall at {100 * p:.0f} % precision" for p in PRECISIONS)
        + " |"
    )
    print("|---:|" + "---:|" * len(PRECISIONS))
    for lead in LEADS_HOURS:
        best = frontier(parcels, lead)
        print(f"| {lead} h | " + " | ".join(f"{100 * best[p]:.1f} %" for p in PRECISIONS) + " |")


def chosen_points(
    parcels: Sequence[Parcel], lead_hours: int, moments: Sequence[datetime]
) -> dict[datetime, dict[float, float]]:
    """At each of `moments`, the operating points (`operating_points`) of the parcels whose
    promise had ended shortly before (`thresholds.ended_lately`): what a brand could have set
    its threshold to at that moment, as the product sets it (`risk_store.learn`)."""
    return {
        m: operating_points([p for p in parcels if ended_lately(p.deadline, m)], lead_hours)
        for m in moments
    }


def warned_as_chosen(
    tests: Sequence[Parcel],
    points: Mapping[datetime, Mapping[float, float]],
    precision: float,
    lead_hours: int,
) -> tuple[float, float]:
    """Recall and precision `lead_hours` ahead when each check is held to the threshold last
    chosen before it for `precision` (`chosen_points`; no warning before one is chosen)."""
    moments = sorted(points)

    def threshold(at: datetime) -> float | None:
        last = bisect.bisect_right(moments, at)
        return points[moments[last - 1]].get(precision) if last else None

    return _warned(tests, lead_hours, threshold)


def learning_moments(first: date, last: date, zone: str) -> list[datetime]:
    """Each midnight from `first` to `last`, every `at_risk.relearn_hours` (a day by default):
    when the product's learning job chooses the brand's threshold again (`risk_store.learn`)."""
    every = timedelta(hours=AtRiskConfig().relearn_hours)
    moment, end = datetime.combine(first, time(), ZoneInfo(zone)), day_end(last, zone)
    moments = []
    while moment < end:
        moments.append(moment)
        moment += every
    return moments


def print_chosen(tests: Sequence[Parcel], earlier: Sequence[Parcel], zone: str) -> None:
    """The warnings at thresholds chosen without peeking: at each of the product's learnings
    (`learning_moments`), from the parcels whose promise had ended shortly before
    (`chosen_points`)."""
    first = min(p.record.ordered_at for p in tests).astimezone(ZoneInfo(zone)).date()
    last = max(p.deadline for p in tests).astimezone(ZoneInfo(zone)).date()
    moments = learning_moments(first, last, zone)
    print(
        f"\nAt thresholds chosen at each learning from the parcels whose promise had ended in"
        f" the {RECENT_DAYS} days before:\n"
    )
    print(
        "| lead | " + " | ".join(f"at {100 * p:.0f} % precision wanted" for p in PRECISIONS) + " |"
    )
    print("|---:|" + "---|" * len(PRECISIONS))
    for lead in LEADS_HOURS:
        points = chosen_points([*earlier, *tests], lead, moments)
        cells = []
        for wanted in PRECISIONS:
            recall, precision = warned_as_chosen(tests, points, wanted, lead)
            cells.append(f"{100 * recall:.1f} % at {100 * precision:.1f} %")
        print(f"| {lead} h | " + " | ".join(cells) + " |")


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
    parser.add_argument(
        "--horizon-days",
        type=int,
        default=AtRiskConfig().horizon_days,
        help="judge only promises ending within this many days, as a brand sets "
        "at_risk.horizon_days to the lead it wants (default: the product's, %(default)s)",
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
    horizon = timedelta(days=args.horizon_days)
    scored, earlier = replay(records, promises, zone, start, events, horizon)
    print_scores(f"{title}, against {args.promise}'s promise", scored)
    print_chosen(scored, earlier, zone)
    if events:
        print_signs(scored, LEADS_HOURS[0])
    wall = clock.perf_counter() - started
    cpu = resource.getrusage(resource.RUSAGE_SELF).ru_utime - cpu
    print(f"\n{len(records)} orders replayed in {wall:.1f} s wall, {cpu:.1f} s CPU")


if __name__ == "__main__":
    main()
