"""Days as the delay models count them (`shipflow.delays.days`)."""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from shipflow.delays.days import days_between, delivered_in_history
from tests.edd.factories import record

AS_OF = datetime(2027, 6, 1, tzinfo=UTC)


def test_days_between_counts_fractions_of_a_day_and_never_goes_below_zero():
    assert days_between(AS_OF, AS_OF + timedelta(hours=36)) == 1.5
    assert days_between(AS_OF, AS_OF - timedelta(hours=1)) == 0.0


def test_the_history_is_what_was_delivered_in_the_365_days_before():
    parcel = record(date(2026, 5, 1), 2)
    year = timedelta(days=365)
    delivered = {
        "first in": AS_OF - year,
        "too old": AS_OF - year - timedelta(seconds=1),
        "last in": AS_OF - timedelta(seconds=1),
        "not yet": AS_OF,
        "in flight": None,
    }
    records = [replace(parcel, order_id=k, delivered_at=at) for k, at in delivered.items()]
    found = [(r.order_id, at) for r, at in delivered_in_history(records, AS_OF)]
    assert found == [("first in", AS_OF - year), ("last in", AS_OF - timedelta(seconds=1))]
