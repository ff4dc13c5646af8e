"""What a history shows of its shippers and services beyond their times: cut-offs and the
weekdays carriers deliver on."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from shipflow.calendars import BusinessCalendar, calendar
from shipflow.edd.history import HistoryRecord
from shipflow.edd.lanes import record_location


def learned_cutoffs(
    records: Sequence[HistoryRecord],
    weekdays: frozenset[int],
    min_orders: int = 20,
    gain: float = 0.05,
) -> dict[str, tuple[time, str]]:
    """Each shipper's cut-off as its handovers show it: the half hour before which orders
    leave a working day earlier, where one makes handling clearly more regular (its most
    common number of days `gain` more common) than counting every order from its own day.
    Marketplace sellers and imported shippers come without a configured cut-off."""
    by_shipper: dict[str, list[HistoryRecord]] = defaultdict(list)
    for record in records:
        if record.handed_to_carrier_at:
            by_shipper[record.shipper_id].append(record)
    found = {}
    for shipper, rows in by_shipper.items():
        origin = record_location(rows[0], "origin")
        zone = origin.timezone or getattr(rows[0].ordered_at.tzinfo, "key", None)
        if len(rows) < min_orders or zone is None:
            continue
        working = calendar(weekdays, origin.country, origin.subdivision)
        points = [_handover_point(r, working, zone) for r in rows]

        def regularity(minute: int, points: list[tuple[int, int, int]] = points) -> float:
            """Share of the most common handling; a parcel handed over before the day the
            cut-off allows contradicts it and counts against it."""
            days = (made if at < minute else missed for at, made, missed in points)
            counts = Counter(d for d in days if d >= 0)
            return max(counts.values(), default=0) / len(points)

        best = max(range(6 * 60, 24 * 60, 30), key=lambda minute: (regularity(minute), minute))
        if regularity(best) >= regularity(24 * 60) + gain:
            found[shipper] = (time(best // 60, best % 60), zone)
    return found


@lru_cache(maxsize=32_768)  # every retraining refits on the same records; ~25 MB at most
def _handover_point(
    record: HistoryRecord, working: BusinessCalendar, zone: str
) -> tuple[int, int, int]:
    """(minute of the day ordered, handling days if it made the cut-off, if it did not)."""
    local = record.ordered_at.astimezone(ZoneInfo(zone))
    handed = record.handed_to_carrier_at.date()  # type: ignore[union-attr]
    made = working.count(working.next_day(local.date()), handed)
    missed = working.count(working.next_day(local.date() + timedelta(days=1)), handed)
    return local.hour * 60 + local.minute, made, missed


def observed_delivery_weekdays(records: Sequence[HistoryRecord], share: float = 0.02) -> frozenset:
    """Weekdays carrying at least `share` of deliveries: the carrier's delivery days."""
    counts = Counter(r.delivered_at.weekday() for r in records if r.delivered_at)
    total = sum(counts.values())
    return frozenset(d for d, n in counts.items() if n >= share * total)


def learned_weekdays(
    records: Sequence[HistoryRecord], min_deliveries: int = 200
) -> dict[str, frozenset[int]]:
    """Delivery weekdays per service with enough deliveries to tell."""
    by_service: dict[str, list[HistoryRecord]] = {}
    for record in records:
        by_service.setdefault(record.service_key, []).append(record)
    return {
        key: observed_delivery_weekdays(group)
        for key, group in by_service.items()
        if len(group) >= min_deliveries
    }
