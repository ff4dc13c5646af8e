"""Time as the delay models count it: days between two moments, and the year of deliveries
that still describes a lane or a destination area. Below `risk` and `area_times`, so both
count alike."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime

from shipflow.edd.history import HistoryRecord

DAY = 86400.0  # seconds
HISTORY_DAYS = 365  # deliveries older than this no longer describe a lane or an area


def days_between(start: datetime, end: datetime) -> float:
    """Days from `start` to `end`; 0 when `end` is not after it."""
    return max((end - start).total_seconds() / DAY, 0.0)


def delivered_in_history(
    records: Iterable[HistoryRecord], as_of: datetime
) -> Iterator[tuple[HistoryRecord, datetime]]:
    """The records delivered in the `HISTORY_DAYS` before `as_of` (what is known then), each
    with its delivery moment."""
    end = as_of.timestamp()
    for record in records:
        delivered = record.delivered_at
        if delivered and end - HISTORY_DAYS * DAY <= delivered.timestamp() < end:
            yield record, delivered
