import json
import math
from dataclasses import replace
from datetime import date, datetime, time, timedelta

import numpy as np
import pytest

from shipflow.delays.area_times import AreaTimes
from shipflow.delays.boosted import Trees
from shipflow.delays.risk import (
    FEATURES,
    MODEL_VERSION,
    STORED_TIMES,
    LaneState,
    LaneTimes,
    MomentRates,
    RiskModel,
    WarningModel,
    chance_beyond,
    features,
    lane_keys,
    network_key,
    region_key,
)
from shipflow.domain import Reason, Status, TrackingEvent
from shipflow.edd.history import HistoryRecord
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
    assert model.chance(np.array([1.0, 2.5])) >= 0.5 > model.chance(np.array([1.0, -1.0]))


def test_a_constant_input_does_not_break_the_fit():
    """Such a column's std comes out as rounding noise (about 1e-15), not 0: scaled by it, the
    inputs overflowed and the Newton step was singular (these constants and this draw did)."""
    rng = np.random.default_rng(0)
    signal = rng.normal(size=340)
    late = (signal + rng.normal(size=340) > 1.0).astype(float)
    constants = [np.full(340, 0.31015492830383945), np.full(340, 1.5668782980153044)]
    rows = np.column_stack([np.ones(340), signal, *constants])
    assert 0 < rows.std(axis=0)[2] < 1e-12
    model = WarningModel.fit(rows, late)
    assert all(math.isfinite(w) for w in model.weights) and model.weights[1] > 1.0


def test_the_destination_area_median_is_the_fifteenth_feature():
    delivered = history([2] * 10, start=date(2026, 9, 1))  # handed 17:00, delivered 12:00 after 2
    as_of = datetime(2027, 6, 1, tzinfo=NY)
    lanes = LaneTimes.fit(delivered * 3, as_of)
    parcel = replace(delivered[0], delivered_at=None)
    now = parcel.ordered_at + timedelta(days=1)
    args = (parcel, now + timedelta(days=3), now, lanes, LaneState())
    x = features(*args, areas=AreaTimes.fit(delivered, as_of))
    assert x is not None and len(x) == 34
    assert x[14] == pytest.approx(math.log1p(1 + 19 / 24))  # median 1 day 19 h from handover
    assert features(*args)[14] == 0.0  # type: ignore[index]


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


def _hand_built() -> tuple[RiskModel, HistoryRecord, datetime, datetime, list[TrackingEvent]]:
    """40 delivered parcels of one lane (30 in 2 business days, 10 in 4), each scanned at
    handover and 12 h before delivery; a parcel ordered Tue 1 Sep 09:00, handed over 17:00,
    promised Fri 4 Sep, judged at midnight on Thu 3 Sep with only its pickup scan."""
    delivered = history([2] * 30 + [4] * 10, start=date(2026, 9, 1))
    events = {
        r.order_id: (
            TrackingEvent(Status.IN_TRANSIT, r.handed_to_carrier_at, "PU"),
            TrackingEvent(Status.IN_TRANSIT, r.delivered_at - timedelta(hours=12), "AR"),
        )
        for r in delivered
    }
    lanes = LaneTimes.fit(delivered, datetime(2027, 6, 1, tzinfo=NY), events)
    parcel = replace(delivered[0], order_id="hand-built", delivered_at=None)
    deadline = datetime.combine(date(2026, 9, 5), time(), NY)
    now = datetime.combine(date(2026, 9, 3), time(), NY)
    known = [TrackingEvent(Status.IN_TRANSIT, parcel.handed_to_carrier_at, "PU")]
    at = ("ups:ground", 1, 8, 5)  # one event, 2 days left, 1.3 days since the pickup scan
    rates = MomentRates.fit([(at, True)] * 3 + [(at, False)])
    weights = WarningModel(
        (-2.0, 0.5, 0.5, 0.0, -0.5, -0.5, 1.0, 1.0, 0.5, 3.0, 1.0, 0.5, 0.5, 0.5, 0.5, 2.0, 0.0)
        + (1.0,)
        + (0.0,) * 16  # within a day and a half of the promise's end: +1
    )
    state = LaneState(aged=0.25, recent=0.1, backlog=0.5)
    areas = AreaTimes.fit(delivered, datetime(2027, 6, 1, tzinfo=NY))
    states = {region_key(parcel): state}
    network = {("destination", "US", ""): 0.25, ("destination", "US", "TX"): 0.5}
    model = RiskModel("America/New_York", lanes, rates, weights, states, areas, network)
    return model, parcel, deadline, now, known


def test_golden_features_and_chance_of_a_hand_built_shipment():
    model, parcel, deadline, now, known = _hand_built()
    state = model.states[region_key(parcel)]
    around = model.network[network_key(parcel)]
    x = features(parcel, deadline, now, model.lanes, state, known, model.rates, model.areas, around)
    assert x is not None
    assert list(x[17:]) == [0.0] * 17  # 2 days left: not within a day and a half
    assert [round(float(v), 6) for v in x[:17]] == [
        1.0,
        0.195745,  # lane-times chance from the order: (10 + 0.5) / (40 + 1) still to come
        0.195745,  # from the handover: the same parcels
        1.0,
        1.098612,  # log(1 + 2 days left)
        -0.129212,  # promised 3.6 days against the lane's median of 4.1 (order to delivery)
        0.25,
        0.1,
        0.5,
        0.0,
        0.0,
        0.195745,  # from the pickup scan: the same parcels again
        0.01227,  # 39 of 40 lane parcels got their second scan with less than 2 days left
        0.966843,  # 3 of 4 late at this moment, shrunk to the overall 0.7: logit(0.7245)
        1.566878,  # log(1 + 3.79): the area's median, handed 17:00, delivered 12:00 (weekends)
        0.25,  # its destination's excess share of parcels behind their lane's scans
        0.0,  # no on-time scan schedule learned
    ]
    assert model.chance(parcel, deadline, now, known) == pytest.approx(0.545353, abs=1e-6)
    # An exception weighs +3, but it is also the parcel's second scan, after which every lane
    # parcel arrived within the two days left: logit((0 + 0.5) / (40 + 1)) = -4.39 there.
    exception = TrackingEvent(Status.EXCEPTION, now, "EX", reason=Reason.WEATHER)
    x = features(
        parcel,
        deadline,
        now,
        model.lanes,
        state,
        [*known, exception],
        model.rates,
        model.areas,
        around,
    )
    assert x is not None
    assert [round(float(v), 6) for v in x[9:16]] == [
        1.0,
        0.0,
        -4.394449,
        0.0,
        0.847298,
        1.566878,
        0.25,
    ]
    assert model.weights.chance(x) == pytest.approx(0.694429, abs=1e-6)


def test_within_a_day_and_a_half_of_the_promises_end_the_inputs_count_again():
    """The destination hub's scan, which on-time parcels get on the eve of delivery, is missing
    only then: the model weighs the inputs of its last day and a half apart."""
    model, parcel, deadline, now, known = _hand_built()
    state = model.states[region_key(parcel)]
    args = (model.lanes, state, known, model.rates, model.areas)
    eve = now + timedelta(days=1)  # midnight on Thu 4 Sep: a day left
    x = features(parcel, deadline, eve, *args, model.network[network_key(parcel)])
    assert x is not None and list(x[17:]) == list(x[:17])
    assert x[17] == 1.0 and x[21] == pytest.approx(math.log(2))  # log(1 + 1 day left)
    untracked = features(parcel, deadline, eve, model.lanes, state)  # no events: nothing again
    assert untracked is not None and list(untracked[17:]) == [0.0] * 17
    at_36_hours = features(parcel, deadline, deadline - timedelta(hours=36), *args)
    assert at_36_hours is not None and at_36_hours[17] == 0.0  # 1.5 days left is not within
    assert features(parcel, deadline, deadline - timedelta(hours=35), *args)[17] == 1.0  # type: ignore[index]
    only_near = WarningModel((0.0,) * 17 + (2.0,) + (0.0,) * 16)
    assert only_near.chance(x) == pytest.approx(0.880797, abs=1e-6)  # 1 / (1 + e^-2)
    assert replace(model, weights=only_near).chance(parcel, deadline, now, known) == 0.5


def test_a_stored_model_judges_as_the_learned_one():
    model, parcel, deadline, now, known = _hand_built()
    stored = RiskModel.from_dict(json.loads(json.dumps(model.to_dict())))
    assert stored.chance(parcel, deadline, now, known) == pytest.approx(0.545353, abs=1e-6)


def _with_trees() -> tuple[RiskModel, HistoryRecord, datetime, datetime, list[TrackingEvent]]:
    """The hand-built model, its weights now beside trees fitted on random checks where the
    parcel's own inputs fall."""
    model, parcel, deadline, now, known = _hand_built()
    rng = np.random.default_rng(11)
    rows = rng.normal(size=(2000, len(FEATURES)))
    late = (rows[:, 1] + rows[:, 9] * rows[:, 15] > 0.5).astype(float)
    fitted = WarningModel(model.weights.weights, Trees.fit(rows, late))
    return replace(model, weights=fitted), parcel, deadline, now, known


def test_a_stored_model_with_trees_judges_identically():
    model, parcel, deadline, now, known = _with_trees()
    stored = RiskModel.from_dict(json.loads(json.dumps(model.to_dict())))
    assert stored.weights == model.weights  # every weight and tree node alike
    row = np.random.default_rng(12).normal(size=len(FEATURES))
    assert stored.weights.chance(row) == model.weights.chance(row)
    judged = stored.chance(parcel, deadline, now, known)
    # as closely as the lane times kept as order statistics allow (the weights alone: 0.545353)
    assert judged == pytest.approx(model.chance(parcel, deadline, now, known), abs=1e-6)
    assert judged != pytest.approx(0.545353, abs=1e-3)  # the trees' chance counts


def test_a_model_stored_before_the_trees_loads_and_judges_by_its_weights_alone():
    model, parcel, deadline, now, known = _with_trees()
    stored = model.to_dict()
    del stored["version"], stored["trees"]  # as version 1 stored it
    old = RiskModel.from_dict(json.loads(json.dumps(stored)))
    assert old.weights.trees is None
    assert old.chance(parcel, deadline, now, known) == pytest.approx(0.545353, abs=1e-6)


def test_a_stored_model_keeps_the_thresholds_chosen_for_wanted_precisions():
    model, *_ = _hand_built()
    chosen = replace(model, thresholds={0.6: 0.4306783703189179})
    assert RiskModel.from_dict(json.loads(json.dumps(chosen.to_dict()))).thresholds == {
        0.6: 0.4306783703189179
    }
    stored = model.to_dict()
    del stored["thresholds"]  # stored before thresholds were chosen
    assert RiskModel.from_dict(stored).thresholds == {}


def test_a_model_stored_by_a_newer_version_is_not_used():
    model, *_ = _hand_built()
    with pytest.raises(ValueError, match="newer"):
        RiskModel.from_dict({**model.to_dict(), "version": MODEL_VERSION + 1})


def test_a_stored_model_keeps_each_destination_area_median_only():
    model, *_ = _hand_built()
    stored = model.to_dict()
    median = 3.791667  # 3 days 19 h
    assert stored["areas"] == [["US", "606", median], ["US", "60", median], ["US", "6", median]]
    assert stored["area_overall"] == pytest.approx(median, abs=1e-6)
    areas = RiskModel.from_dict(stored).areas
    assert areas.medians[("US", "606")] == median


def test_a_long_lane_is_stored_as_order_statistics_and_rebuilt_to_its_count():
    times = np.sort(np.random.default_rng(5).gamma(2.0, 1.5, size=5000))
    model, *_ = _hand_built()
    model = replace(model, lanes=LaneTimes(from_order={("ups:ground",): times}))
    stored = model.to_dict()
    assert (len(stored["from_order"][0][2]), stored["from_order"][0][1]) == (STORED_TIMES, 5000)
    rebuilt = RiskModel.from_dict(stored).lanes.from_order[("ups:ground",)]
    assert len(rebuilt) == 5000
    assert chance_beyond(rebuilt, 3.0, 2.0) == pytest.approx(
        chance_beyond(times, 3.0, 2.0), abs=0.01
    )


def test_a_model_learned_over_other_features_is_not_used():
    model, *_ = _hand_built()
    stored = {**model.to_dict(), "features": len(FEATURES) - 1}
    with pytest.raises(ValueError, match="learned over 33 features"):
        RiskModel.from_dict(stored)


def test_times_from_a_scan_come_from_the_one_route_of_a_state_pair_with_five_parcels():
    """The parent levels mix origins with and without a relay hub: their n-th scan is not one
    place, so the finest level counts from `MIN_SCANS` parcels, not `MIN_LANE`."""
    parcel = history([2])[0]
    finest, parent = lane_keys(parcel)[:2]
    lanes = LaneTimes(from_scan={(finest, 3): np.full(5, 1.0), (parent, 3): np.full(40, 2.0)})
    assert set(lanes.after_scan(lane_keys(parcel), 3)) == {1.0}
    lanes = LaneTimes(from_scan={(finest, 3): np.full(4, 1.0), (parent, 3): np.full(40, 2.0)})
    assert set(lanes.after_scan(lane_keys(parcel), 3)) == {2.0}
