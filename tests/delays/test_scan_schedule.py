"""The lanes' on-time scan schedules (`shipflow.delays.scan_schedule`): learned from a brand's
tracked parcels delivered by their promise's end, and how far a parcel in flight is behind."""

import json
import math
from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from shipflow.delays.risk import (
    FEATURES,
    LaneState,
    LaneTimes,
    MomentRates,
    RiskModel,
    WarningModel,
    day_end,
    features,
)
from shipflow.delays.scan_schedule import STAGES, ScanSchedule, schedule_keys
from shipflow.domain import Status, TrackingEvent
from tests.edd.factories import NY, history

AS_OF = datetime(2026, 11, 1, tzinfo=NY)
H = timedelta(hours=1)
# 30 parcels ordered Mon-Thu 09:00 from 7 Sep, handed over 17:00, delivered 12:00 the next
# day, their promise ending at that day's midnight: picked up 31 h before it, delivered 12 h
# before; the destination hub scans every other one 24 h before it (midnight), the others 18 h.
ON_TIME = [
    replace(r, origin_state="NY", destination_state="IL")
    for r in history([1] * 40, start=datetime(2026, 9, 7).date())
    if r.ordered_at.weekday() != 4
][:30]


def _scans(record, hub_hours: int) -> tuple[TrackingEvent, ...]:
    return (
        TrackingEvent(Status.IN_TRANSIT, record.handed_to_carrier_at, "PU"),
        TrackingEvent(Status.IN_TRANSIT, record.delivered_at - hub_hours * H, "AR"),
    )


def _learned(parcels: list = ON_TIME) -> tuple[ScanSchedule, dict, dict]:
    """The schedule from `parcels`, beside a late parcel (promised the day it was ordered) and
    an untracked on-time one, which it must leave out."""
    late = replace(ON_TIME[0], order_id="late")
    untracked = replace(ON_TIME[1], order_id="untracked")
    events = {r.order_id: _scans(r, 12 if i % 2 == 0 else 6) for i, r in enumerate(parcels)}
    events["late"] = _scans(late, 12)
    deadlines = {
        r.order_id: day_end(r.delivered_at.date(), "America/New_York")
        for r in [*parcels, untracked]
    }
    deadlines["late"] = day_end(late.ordered_at.date(), "America/New_York")
    records = [*parcels, late, untracked]
    return ScanSchedule.fit(records, deadlines, AS_OF, events), events, deadlines


def test_the_schedule_is_the_days_before_the_promise_end_each_on_time_parcel_reached_a_stage():
    schedule, *_ = _learned()
    keys = schedule_keys(ON_TIME[0])
    assert keys == (
        ("ups:ground", "10001", "606"),
        ("ups:ground", "10001", "IL"),
        ("ups:ground", "NY", "IL"),
        ("ups:ground", "IL"),
        ("ups:ground",),
    )
    assert len(schedule.reached) == len(keys) * STAGES
    for key in keys:  # one lane: every level holds the same 30 parcels, not the late one
        assert list(schedule.reached[(key, 1)]) == pytest.approx([31 / 24] * 30)
        assert list(schedule.reached[(key, 2)]) == pytest.approx([0.75] * 15 + [1.0] * 15)
        # the delivery, at noon, stands for every stage a parcel did not scan
        assert list(schedule.reached[(key, 3)]) == pytest.approx([0.5] * 30)
        assert list(schedule.reached[(key, STAGES)]) == pytest.approx([0.5] * 30)


def test_a_brand_without_tracking_events_learns_no_schedule():
    schedule, _, deadlines = _learned()
    assert ScanSchedule.fit(ON_TIME, deadlines, AS_OF, {}).reached == {}


def test_behind_is_minus_the_log_share_of_on_time_peers_no_further_along():
    schedule, *_ = _learned()
    flying = replace(ON_TIME[0], order_id="flying", delivered_at=None)
    none_ahead = -math.log(30.5 / 31)
    assert schedule.behind(flying, 1, left=1.1) == pytest.approx(none_ahead)
    assert schedule.behind(flying, 1, left=0.9) == pytest.approx(math.log(2))  # 15 of 30 ahead
    assert schedule.behind(flying, 1, left=0.6) == pytest.approx(math.log(62))  # all 30
    assert schedule.behind(flying, 2, left=0.6) == pytest.approx(none_ahead)
    assert schedule.behind(flying, 0, left=1.0) == pytest.approx(math.log(62))  # not picked up
    assert schedule.behind(flying, STAGES, left=0.1) == 0.0
    # another destination area backs off to the origin and destination state's schedule
    elsewhere = replace(flying, destination_postal_code="62701")
    assert schedule.behind(elsewhere, 1, left=0.9) == pytest.approx(math.log(2))
    assert schedule.behind(replace(flying, service="express"), 1, left=0.9) == 0.0
    too_few, *_ = _learned(ON_TIME[:9])
    assert too_few.behind(flying, 1, left=0.9) == 0.0


def test_the_schedule_is_the_seventeenth_input_and_is_stored_with_the_model():
    schedule, events, deadlines = _learned()
    lanes = LaneTimes.fit(ON_TIME, AS_OF, events)
    flying = replace(ON_TIME[0], order_id="flying", delivered_at=None)
    deadline = deadlines[ON_TIME[0].order_id]
    now = deadline - 21.6 * H  # 0.9 days left, picked up only
    known = events[ON_TIME[0].order_id][:1]
    x = features(flying, deadline, now, lanes, LaneState(), known, schedule=schedule)
    assert x is not None and x[16] == pytest.approx(math.log(2))
    assert x[33] == pytest.approx(math.log(2))  # within a day and a half, tracked: again
    assert features(flying, deadline, now, lanes, LaneState(), known)[16] == 0.0  # type: ignore[index]
    weights = WarningModel((0.0,) * 16 + (1.0,) + (0.0,) * (len(FEATURES) - 17))
    model = RiskModel("America/New_York", lanes, MomentRates(), weights, schedule=schedule)
    assert model.chance(flying, deadline, now, known) == pytest.approx(2 / 3)
    stored = RiskModel.from_dict(json.loads(json.dumps(model.to_dict())))
    assert stored.chance(flying, deadline, now, known) == pytest.approx(2 / 3)
