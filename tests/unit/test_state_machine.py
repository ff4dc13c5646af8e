from datetime import UTC, datetime, timedelta

import pytest

from shipflow.domain import Status, TrackingEvent, apply_event

T0 = datetime(2026, 11, 23, 12, tzinfo=UTC)
S = Status


def event(status, at=T0):
    return TrackingEvent(status=status, occurred_at=at, raw_code="X")


@pytest.mark.parametrize(
    ("current", "new", "expected", "moved"),
    [
        (S.PENDING, S.INFO_RECEIVED, S.INFO_RECEIVED, True),
        (S.INFO_RECEIVED, S.IN_TRANSIT, S.IN_TRANSIT, True),
        (S.IN_TRANSIT, S.OUT_FOR_DELIVERY, S.OUT_FOR_DELIVERY, True),
        (S.OUT_FOR_DELIVERY, S.DELIVERED, S.DELIVERED, True),
        (S.OUT_FOR_DELIVERY, S.ATTEMPT_FAILED, S.ATTEMPT_FAILED, True),
        (S.ATTEMPT_FAILED, S.OUT_FOR_DELIVERY, S.OUT_FOR_DELIVERY, True),
        (S.ATTEMPT_FAILED, S.IN_TRANSIT, S.IN_TRANSIT, True),
        (S.EXCEPTION, S.IN_TRANSIT, S.IN_TRANSIT, True),
        (S.IN_TRANSIT, S.EXCEPTION, S.EXCEPTION, True),
        (S.ATTEMPT_FAILED, S.RETURNING_TO_SENDER, S.RETURNING_TO_SENDER, True),
        (S.RETURNING_TO_SENDER, S.RETURNED_TO_SENDER, S.RETURNED_TO_SENDER, True),
        # A return stopped: the parcel sent to the store the customer chose instead.
        (S.RETURNING_TO_SENDER, S.AVAILABLE_FOR_PICKUP, S.AVAILABLE_FOR_PICKUP, True),
        (S.RETURNING_TO_SENDER, S.IN_TRANSIT, S.RETURNING_TO_SENDER, False),
        (S.IN_TRANSIT, S.INFO_RECEIVED, S.IN_TRANSIT, False),
        (S.OUT_FOR_DELIVERY, S.IN_TRANSIT, S.OUT_FOR_DELIVERY, False),
        (S.DELIVERED, S.IN_TRANSIT, S.DELIVERED, False),
        (S.DELIVERED, S.RETURNING_TO_SENDER, S.RETURNING_TO_SENDER, True),
        (S.RETURNED_TO_SENDER, S.IN_TRANSIT, S.RETURNED_TO_SENDER, False),
        (S.CANCELLED, S.IN_TRANSIT, S.CANCELLED, False),
        (S.EXPIRED, S.IN_TRANSIT, S.IN_TRANSIT, True),
        (S.IN_TRANSIT, S.EXPIRED, S.EXPIRED, True),
        (S.IN_TRANSIT, S.IN_TRANSIT, S.IN_TRANSIT, False),
    ],
)
def test_transitions(current, new, expected, moved):
    result = apply_event(current, event(new), latest_at=None)
    assert (result.status, result.moved) == (expected, moved)


def test_late_scan_after_delivery_is_not_applied():
    result = apply_event(S.DELIVERED, event(S.IN_TRANSIT, T0 - timedelta(hours=5)), latest_at=T0)
    assert result.status == S.DELIVERED and not result.moved


def test_older_event_never_moves_status():
    result = apply_event(S.IN_TRANSIT, event(S.DELIVERED, T0 - timedelta(hours=1)), latest_at=T0)
    assert result.status == S.IN_TRANSIT and not result.moved


def test_naive_time_is_rejected():
    with pytest.raises(ValueError, match="time-zone aware"):
        TrackingEvent(status=S.IN_TRANSIT, occurred_at=datetime(2026, 1, 1), raw_code="X")
