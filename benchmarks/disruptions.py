"""Disruptions written into a sandbox carrier history, for the benchmarks that score how
shipflow holds up when a network has a bad week (issue #18).

Each disruption delays a parcel where it happens in the network, so its tracking events tell
the story as a real carrier's would: a hub slowdown or a backlog holds parcels at the origin
hub (its departure scan and everything after come later), a region the carrier loses holds
them before the destination hub, and a weather day stops the last mile (an exception scan on
the day, the delivery days later)."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, timedelta

from shipflow.domain import Reason, Status, TrackingEvent
from shipflow.edd.history import HistoryRecord

Parcel = tuple[HistoryRecord, tuple[TrackingEvent, ...]]
ORIGIN_HUB, DESTINATION_HUB, LAST_MILE = 0, 1, 2  # where a disruption holds the parcel


def disrupted(parcels: Sequence[Parcel], seed: int = 5) -> list[Parcel]:
    """The sandbox history with four disruptions written into its delivery times and events
    (2025): a hub slowdown (the first warehouse's handovers of 8-19 September, +2 days), a
    weather day (deliveries due 9-10 October to the busiest destination state slip to the
    13th), a post-holiday backlog (handovers 28 November - 5 December, 70 % of parcels +1-2
    days) and the carrier losing a region (the second busiest state, 11-31 August, +3-5 days)."""
    rng = random.Random(seed)
    states = [s for s, _ in _busiest([r for r, _ in parcels])]
    hub = parcels[0][0].shipper_id
    out = []
    for r, events in parcels:
        extra, stages, handed, due = 0, [], r.handed_to_carrier_at, r.delivered_at
        if handed and due:
            if r.shipper_id == hub and date(2025, 9, 8) <= handed.date() <= date(2025, 9, 19):
                extra, stages = extra + 2, [*stages, ORIGIN_HUB]
            if r.destination_state == states[0] and due.date() in (
                date(2025, 10, 9),
                date(2025, 10, 10),
            ):
                extra += (date(2025, 10, 13) - due.date()).days
                stages.append(LAST_MILE)
            if date(2025, 11, 28) <= handed.date() <= date(2025, 12, 5) and rng.random() < 0.7:
                extra, stages = extra + rng.choice((1, 2)), [*stages, ORIGIN_HUB]
            if r.destination_state == states[1] and date(2025, 8, 11) <= handed.date() <= date(
                2025, 8, 31
            ):
                extra, stages = extra + rng.randint(3, 5), [*stages, DESTINATION_HUB]
        if extra:
            moved = due + timedelta(days=extra)  # type: ignore[operator]
            moved += timedelta(days=moved.weekday() == 6)  # no deliveries on Sundays
            events = held(events, min(stages), moved - due)  # type: ignore[operator]
            r = replace(r, delivered_at=moved)
        out.append((r, events))
    return out


def held(
    events: tuple[TrackingEvent, ...], stage: int, delay: timedelta
) -> tuple[TrackingEvent, ...]:
    """The parcel's events with everything from `stage` on `delay` later; a weather day at
    the last mile leaves an exception scan where the delivery round would have started."""
    codes = [e.raw_code for e in events]
    first_round = codes.index("OD") if "OD" in codes else len(codes)
    if stage == ORIGIN_HUB:
        start = codes.index("DP") if "DP" in codes[:first_round] else first_round
    elif stage == DESTINATION_HUB:
        arrivals = [i for i, c in enumerate(codes[:first_round]) if c == "AR"]
        start = arrivals[-1] if arrivals else first_round
    else:
        start = first_round
    later = tuple(replace(e, occurred_at=e.occurred_at + delay) for e in events[start:])
    stopped = ()
    if stage == LAST_MILE and start < len(events):
        stopped = (
            replace(
                events[start],
                status=Status.EXCEPTION,
                raw_code="EX",
                raw_text="Exception: weather",
                reason=Reason.WEATHER,
            ),
        )
    return (*events[:start], *stopped, *later)


def _busiest(records: Sequence[HistoryRecord]) -> list[tuple[str, int]]:
    counts: dict[str, int] = defaultdict(int)
    for r in records:
        counts[r.destination_state] += 1
    return sorted(counts.items(), key=lambda kv: -kv[1])
