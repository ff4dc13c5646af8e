import math
from dataclasses import replace
from datetime import date, datetime, time, timedelta

import numpy as np
import pytest

from shipflow.delays.risk import (
    LaneState,
    LaneTimes,
    MomentRates,
    WarningModel,
    chance_beyond,
    features,
    lane_keys,
)
from shipflow.domain import Reason, Status, TrackingEvent
from tests.edd.factories import NY, history


def test_chance_beyond_is_conditional_on_the_time_already_spent():
    times = np.array([2.0] * 80 + [10.0] * 20)
    assert chance_beyond(times, 0.0, 5.0) < 0.25  # at order: most arrive in 2 days
    assert chance_beyond(times, 3.0, 5.0) > 0.95  # still there after 3: one of the slow


def test_a_parcel_past_its_lane_usual_time_scores_higher_than_a_fresh_one():
    delivered = history([2] * 80 + [9] * 20, start=date(2026, 9, 1))
    lanes = LaneTimes.fit(delivered, datetime(2027, 6, 1, tzinfo=NY))
    parcel = delivered[0]
    deadline = parcel.ordered_at + timedelta(days=8)
    fresh = features(parcel, deadline, parcel.ordered_at + timedelta(hours=1), lanes, LaneState())
    stuck = features(parcel, deadline, parcel.ordered_at + timedelta(days=5), lanes, LaneState())
    assert fresh is not None and stuck is not None
    assert stuck[1] > fresh[1]  # the lane-times chance of missing, counted from the order


def test_the_warning_model_learns_which_way_a_feature_points():
    rng = np.random.default_rng(3)
    signal = rng.normal(size=2000)
    late = (signal + rng.normal(scale=0.5, size=2000) > 1.0).astype(float)
    rows = np.column_stack([np.ones(2000), signal])
    model = WarningModel.fit(rows, late)
    assert model.weights[1] > 1.0
    assert model.warns(np.array([1.0, 2.5])) and not model.warns(np.array([1.0, -1.0]))


def test_no_lane_times_no_features():
    parcel = history([2])[0]
    moment = datetime.combine(date(2026, 9, 2), time(), NY)
    assert features(parcel, moment + timedelta(days=3), moment, LaneTimes(), LaneState()) is None


def _scanned_lane() -> tuple[list, dict]:
    """40 parcels scanned at handover and again at midnight before their noon delivery."""
    delivered = history([2] * 40, start=date(2026, 9, 1))
    events = {
        r.order_id: (
            TrackingEvent(Status.IN_TRANSIT, r.handed_to_carrier_at, "PU"),
            TrackingEvent(Status.IN_TRANSIT, r.delivered_at - timedelta(hours=12), "AR"),
        )
        for r in delivered
    }
    return delivered, events


def test_a_missing_next_scan_counts_against_how_late_the_lane_gets_it():
    delivered, events = _scanned_lane()
    lanes = LaneTimes.fit(delivered, datetime(2027, 6, 1, tzinfo=NY), events)
    keys = lane_keys(delivered[0])
    # every parcel's second scan came a whole day before its delivery day ended
    assert set(lanes.after_scan(keys, 2)) == {1.0}
    assert lanes.next_scan_overdue(keys, 1, left=0.5) == pytest.approx(math.log(82))
    assert lanes.next_scan_overdue(keys, 1, left=1.5) == pytest.approx(-math.log(40.5 / 41))
    assert lanes.next_scan_overdue(keys, 2, left=0.5) == 0.0  # no lane has a third scan


def test_exceptions_failed_attempts_and_an_overdue_scan_are_features():
    delivered, events = _scanned_lane()
    lanes = LaneTimes.fit(delivered, datetime(2027, 6, 1, tzinfo=NY), events)
    parcel = replace(delivered[0], delivered_at=None)
    deadline = datetime.combine(date(2026, 9, 4), time(), NY)
    picked_up = events[parcel.order_id][0]
    now = deadline - timedelta(hours=12)
    x = features(parcel, deadline, now, lanes, LaneState(), [picked_up])
    assert x is not None
    assert (x[9], x[10], x[12]) == (0.0, 0.0, pytest.approx(math.log(82)))
    held = TrackingEvent(Status.EXCEPTION, now, "EX", reason=Reason.WEATHER)
    failed = TrackingEvent(Status.ATTEMPT_FAILED, now, "NA")
    x = features(parcel, deadline, now, lanes, LaneState(), [picked_up, held, failed])
    assert x is not None
    assert (x[9], x[10], x[12]) == (1.0, 1.0, 0.0)  # no lane parcel had a fourth scan


def test_late_shares_per_moment_back_off_to_the_moment_without_the_time_since_the_last_scan():
    stuck = ("sandbox:ground", 4, 4, 6)  # 4 events known, a day left, 1.5 days since the last
    rates = MomentRates.fit([(stuck, True), (stuck, False), (stuck, True)])
    assert rates.overall == 0.625  # (2 + 0.5) / (3 + 1)
    # 2 of 3 late, shrunk by 10 parcels' worth to the coarser moment's (2 + 6.25) / 13
    assert rates.logit(stuck) == pytest.approx(0.584107, abs=1e-6)
    # just scanned: none seen, so the coarser moment's share
    assert rates.logit(("sandbox:ground", 4, 4, 0)) == pytest.approx(0.552069, abs=1e-6)
    assert rates.logit(("sandbox:express", 1, 8, 0)) == pytest.approx(math.log(0.625 / 0.375))
