"""How long parcels take from handover to delivery into a destination's postal area.

A lane keyed by states or regions mixes a capital reached overnight with an interior town
reached in two weeks, so a parcel still in flight five days before its promise ends looks the
same either way. The first digits of a postal code name the area a sorting centre serves
(three digits: a US sectional centre, a Brazilian CEP sub-sector), so the area's median time
from handover tells them apart; it backs off to fewer digits where the area has had too few
deliveries. Of the inputs tried for the delay warning on the Olist history (issue #18, item 5;
docs/benchmarks.md) it is the one that ranked late parcels better on both test starts.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from shipflow.delays.days import days_between, delivered_in_history
from shipflow.edd.history import HistoryRecord

PREFIX_DIGITS = (3, 2, 1)  # finest area first
MIN_DELIVERIES = 5  # an area's median counts from this many deliveries, else a coarser one's
AreaKey = tuple[str, str]  # country, postal-code prefix


def area_keys(record: HistoryRecord) -> tuple[AreaKey, ...]:
    """The destination's postal areas, finest first: its code's first 3, 2 and 1 characters."""
    code = record.destination_postal_code.replace(" ", "").replace("-", "").upper()
    return tuple(
        (record.destination_country, code[:digits])
        for digits in PREFIX_DIGITS
        if len(code) >= digits
    )


@dataclass(frozen=True)
class AreaTimes:
    """Median days from handover to delivery per destination postal area, and over all."""

    medians: dict[AreaKey, float] = field(default_factory=dict)
    overall: float | None = None

    @classmethod
    def fit(cls, records: Iterable[HistoryRecord], as_of: datetime) -> AreaTimes:
        """From the parcels handed over and delivered in the year before `as_of` (what
        production knows then)."""
        times: dict[AreaKey, list[float]] = {}
        every: list[float] = []
        for r, delivered in delivered_in_history(records, as_of):
            if r.handed_to_carrier_at is None:
                continue
            days = days_between(r.handed_to_carrier_at, delivered)
            every.append(days)
            for key in area_keys(r):
                times.setdefault(key, []).append(days)
        return cls(
            {k: statistics.median(v) for k, v in times.items() if len(v) >= MIN_DELIVERIES},
            statistics.median(every) if every else None,
        )

    def median_days(self, record: HistoryRecord) -> float | None:
        """The finest destination area's median with enough deliveries; None with none at all."""
        for key in area_keys(record):
            if key in self.medians:
                return self.medians[key]
        return self.overall

    def log_median(self, record: HistoryRecord) -> float:
        """log(1 + median days) as a model input; 0 before any delivery is known."""
        days = self.median_days(record)
        return 0.0 if days is None else math.log1p(days)
