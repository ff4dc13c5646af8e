"""The chance at which a brand's warnings reach a wanted precision, chosen on parcels whose
outcome is known, as the warnings judged them then.

A chance means a probability only as well as the model was calibrated on the months it was
fitted on; how often a given chance turns out late drifts with the carrier's season, so a
threshold set once drifts off the precision it was set for. Chosen again on the parcels whose
promise ended in the last `RECENT_DAYS` (a threshold chosen on every finished parcel overshot:
65.1 % precision for 60 % wanted, sandbox seed 11; docs/benchmarks.md, thirteenth session).

Pure: `risk_store.learn` chooses the brand's threshold with it, `benchmarks/delay_alerts.py`
its operating points.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Protocol

# Set on the sandbox with disruptions, seed 11; checked on seed 12 and Olist
# (docs/benchmarks.md, thirteenth session).
RECENT_DAYS = 60


class Judged(Protocol):
    """A parcel whose outcome is known: its promise's end, whether it missed it, and its
    chances as judged at each check (moment, chance)."""

    @property
    def deadline(self) -> datetime: ...

    @property
    def late(self) -> bool: ...

    @property
    def chances(self) -> Sequence[tuple[datetime, float]]: ...


def lowest_thresholds(
    parcels: Iterable[Judged], lead: timedelta, precisions: Sequence[float]
) -> dict[float, float]:
    """The lowest threshold at which the warnings at least `lead` ahead reach each of
    `precisions` among `parcels` (absent where none does). A parcel is warned at a threshold
    when its highest chance by then reached it."""
    highest: dict[float, list[int]] = {}
    for p in parcels:
        chance = max((c for t, c in p.chances if t <= p.deadline - lead), default=None)
        if chance is not None:
            highest.setdefault(chance, [0, 0])[p.late] += 1
    points: dict[float, float] = {}
    warned = hits = 0
    for chance in sorted(highest, reverse=True):
        on_time, late = highest[chance]
        warned, hits = warned + on_time + late, hits + late
        for precision in precisions:
            if hits >= precision * warned:
                points[precision] = chance
    return points


def ended_lately(deadline: datetime, at: datetime) -> bool:
    """Whether a promise ending at `deadline` ended in the `RECENT_DAYS` before `at`: a parcel
    a threshold chosen at `at` is chosen on."""
    return at - timedelta(days=RECENT_DAYS) < deadline <= at
