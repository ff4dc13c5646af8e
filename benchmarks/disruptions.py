"""Disruptions written into a sandbox carrier history, for the benchmarks that score how
shipflow holds up when a network has a bad week (issue #18)."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, timedelta

from shipflow.edd.history import HistoryRecord


def disrupted(records: Sequence[HistoryRecord], seed: int = 5) -> list[HistoryRecord]:
    """The sandbox history with four disruptions written into its delivery times (2025):
    a hub slowdown (the first warehouse's handovers of 8-19 September, +2 days), a weather day
    (deliveries due 9-10 October to the busiest destination state slip to the 13th), a
    post-holiday backlog (handovers 28 November - 5 December, 70 % of parcels +1-2 days) and
    the carrier losing a region (the second busiest state, 11-31 August, +3-5 days)."""
    rng = random.Random(seed)
    states = [s for s, _ in _busiest(records)]
    hub = records[0].shipper_id
    out = []
    for r in records:
        extra, handed, due = 0, r.handed_to_carrier_at, r.delivered_at
        if handed and due:
            if r.shipper_id == hub and date(2025, 9, 8) <= handed.date() <= date(2025, 9, 19):
                extra += 2
            if r.destination_state == states[0] and due.date() in (
                date(2025, 10, 9),
                date(2025, 10, 10),
            ):
                extra += (date(2025, 10, 13) - due.date()).days
            if date(2025, 11, 28) <= handed.date() <= date(2025, 12, 5) and rng.random() < 0.7:
                extra += rng.choice((1, 2))
            if r.destination_state == states[1] and date(2025, 8, 11) <= handed.date() <= date(
                2025, 8, 31
            ):
                extra += rng.randint(3, 5)
        if extra:
            moved = due + timedelta(days=extra)  # type: ignore[operator]
            moved += timedelta(days=moved.weekday() == 6)  # no deliveries on Sundays
            r = replace(r, delivered_at=moved)
        out.append(r)
    return out


def _busiest(records: Sequence[HistoryRecord]) -> list[tuple[str, int]]:
    counts: dict[str, int] = defaultdict(int)
    for r in records:
        counts[r.destination_state] += 1
    return sorted(counts.items(), key=lambda kv: -kv[1])
