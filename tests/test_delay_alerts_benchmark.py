"""The delay-warning replay must score warnings and the naive rule right."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from benchmarks.delay_alerts import Parcel, score
from benchmarks.disruptions import disrupted
from tests.edd.factories import history

DEADLINE = datetime(2025, 9, 10, tzinfo=UTC)
H = timedelta(hours=1)


def _parcel(delivered: datetime, chances: list[tuple[datetime, float]]) -> Parcel:
    record = replace(
        history([2])[0],
        ordered_at=DEADLINE - 96 * H,
        delivered_at=delivered,
        order_id=str(delivered),
    )
    return Parcel(record, DEADLINE, chances)


def test_warnings_and_the_naive_rule_are_scored_at_the_same_lead():
    late = _parcel(DEADLINE + 5 * H, [(DEADLINE - 48 * H, 0.9)])
    last_minute = _parcel(DEADLINE - 2 * H, [(DEADLINE - 48 * H, 0.1)])
    early = _parcel(DEADLINE - 60 * H, [])
    figures = score([late, last_minute, early], threshold=0.5, lead_hours=24)
    assert figures["late parcels"] == "1 of 3"
    assert (figures["recall"], figures["precision"]) == ("100.0 %", "100.0 %")
    assert figures["median lead, h (late, flagged)"] == "48"
    # the naive rule flags both parcels not delivered 24 h before the end: one was on time
    assert (figures["naive recall"], figures["naive precision"]) == ("100.0 %", "50.0 %")
    # a warning 48 h ahead does not count at a 72 h lead
    assert score([late, last_minute], 0.5, 72)["recall"] == "0.0 %"


def test_disruptions_only_ever_delay_deliveries():
    records = [
        replace(r, destination_state=("IL", "CA", "NY")[i % 3])
        for i, r in enumerate(history([2] * 250, start=datetime(2025, 7, 1).date()))
    ]
    after = disrupted(records)
    moved = [(a, b) for a, b in zip(records, after, strict=True) if a != b]
    assert moved and all(b.delivered_at > a.delivered_at for a, b in moved)
    assert all(b.delivered_at.weekday() != 6 for _, b in moved)
