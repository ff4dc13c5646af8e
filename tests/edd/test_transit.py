import json
from dataclasses import replace
from datetime import UTC, date, datetime, time

import pytest

from shipflow import geo
from shipflow.edd.calibration import calibration_from
from shipflow.edd.distribution import Distribution
from shipflow.edd.lanes import Lane, Origin
from shipflow.edd.transit import ModelConfig, TransitModel, pooling_strength

from .factories import history

AS_OF = datetime(2027, 6, 1, tzinfo=UTC)
NYC, CHI, LAX = (geo.locate("US", z) for z in ("10001", "60601", "90012"))


def lane(origin=NYC, destination=CHI, shipper="wh-nyc"):
    return Lane(
        "ups:ground",
        origin.regions,
        destination.regions,
        geo.distance_km(origin, destination),
        shipper,
    )


def test_quantiles_follow_the_empirical_distribution():
    records = history([2] * 60 + [3] * 30 + [6] * 10)
    dist = TransitModel.fit(records, AS_OF, ModelConfig(half_life_days=1e9)).predict(lane())
    assert dist.quantile(0.5) == 2 and dist.quantile(0.85) == 3 and dist.quantile(0.95) == 6
    assert dist.mode == 2
    assert dist.level == "US:100->~1100km"


def _in_flight(ordered: date, parcels: int) -> list:
    """Parcels handed over on `ordered` (17:00 New York) and not delivered."""
    return [replace(r, delivered_at=None) for r in history([2] * parcels, start=ordered)][:1] * (
        parcels
    )


def test_parcels_in_flight_longer_than_every_delivery_lengthen_the_lane():
    delivered = history([2] * 70 + [3] * 20 + [6] * 10)
    # handed over on Tuesday 18 May: 9 delivery days by 1 June (Memorial Day off), not there
    stuck = _in_flight(date(2027, 5, 18), 20)
    censored = ModelConfig(half_life_days=1e9, censored_in_flight=True)
    plain = TransitModel.fit(delivered + stuck, AS_OF, ModelConfig(half_life_days=1e9))
    assert plain.predict(lane()).quantile(0.85) == 3  # in-flight parcels are not deliveries
    dist = TransitModel.fit(delivered + stuck, AS_OF, censored).predict(lane())
    assert dist.quantile(0.5) == 2 and dist.quantile(0.85) == 9  # 20 of 120 take 9 or more


def test_a_parcel_in_flight_for_less_than_any_delivery_changes_nothing():
    delivered = history([2] * 70 + [3] * 20 + [6] * 10)
    fresh = _in_flight(date(2027, 5, 31), 20)  # handed over yesterday: 1 day so far
    censored = ModelConfig(half_life_days=1e9, censored_in_flight=True)
    dist = TransitModel.fit(delivered + fresh, AS_OF, censored).predict(lane())
    assert (dist.quantile(0.5), dist.quantile(0.85), dist.quantile(0.95)) == (2, 3, 6)


def test_recent_deliveries_weigh_more():
    old, new = history([5] * 50, start=date(2025, 1, 6)), history([2] * 50, start=date(2027, 1, 4))
    dist = TransitModel.fit(old + new, AS_OF, ModelConfig(half_life_days=30)).predict(lane())
    assert dist.mode == dist.quantile(0.5) == 2 and dist.pmf[5] < 0.05


def test_thin_lane_keeps_its_own_median_and_borrows_the_network_spread():
    # 100 deliveries New York -> Chicago: 2 days, with the network's late tail at 3 and 4;
    # 6 deliveries to Los Angeles all took 5 days: the lane stays at 5 with the tail behind it
    chicago = history([2] * 85 + [3] * 10 + [4] * 5)
    los_angeles = history([5] * 6, destination="90012", start=date(2027, 1, 4))
    model = TransitModel.fit(chicago + los_angeles, AS_OF, ModelConfig(half_life_days=1e9))
    far = model.predict(lane(destination=LAX))
    assert far.mode == 5 and far.pmf[2] < 0.02
    assert far.pmf[6] > 0.02 and far.pmf[7] > 0.01  # the spread of Chicago's 3 and 4


def test_thin_lane_borrows_the_spread_around_lanes_not_the_gaps_between_them():
    # Chicago takes 2 days and Los Angeles 5, each with the same late tail (+1, +2): the
    # country-wide spread is that tail, not a mix of 2s and 5s; Miami's 5 deliveries took 3
    tail = [0] * 85 + [1] * 10 + [2] * 5
    chicago = history([2 + t for t in tail])
    los_angeles = history([5 + t for t in tail], destination="90012")
    miami = history([3] * 5, destination="33101", start=date(2027, 1, 4))
    model = TransitModel.fit(chicago + los_angeles + miami, AS_OF, ModelConfig(half_life_days=1e9))
    thin = model.predict(lane(destination=geo.locate("US", "33101")))
    assert thin.mode == 3 and thin.pmf[4] > 0.03 and thin.pmf[5] > 0.01
    assert thin.pmf[1] + thin.pmf[2] < 0.03 and sum(thin.pmf[6:]) < 0.01


# each lane: [deliveries, late] in the earlier half of the history, then in the later half
LASTING = [[100, 2, 100, 2], [100, 30, 100, 30], [100, 5, 100, 5], [100, 40, 100, 40]]
PASSING = [[100, 2, 100, 15], [100, 30, 100, 15], [100, 5, 100, 15], [100, 40, 100, 15]]


@pytest.mark.parametrize(
    "lanes, strength",
    [
        ([[100, 10, 100, 10]] * 8, 1000),  # the same late share everywhere: one network spread
        # lanes differ, and just as much in both halves: p (1 - p) / tau^2 - 1
        ([*LASTING, [100, 10, 100, 10]] * 2, 0.174 * 0.826 / 0.022304 - 1),
        # lanes differed in the earlier half only: what did not last pools entirely
        ([*PASSING, [100, 10, 100, 15]] * 2, 1000),
    ],
)
def test_lanes_pool_their_spread_as_much_as_they_lastingly_differ(lanes, strength):
    assert pooling_strength(lanes) == pytest.approx(strength)


def test_too_few_lanes_in_both_halves_leave_the_configured_pooling():
    assert pooling_strength([[100, 10, 100, 10], [100, 50, 100, 50], [5, 1, 4, 1]] * 2) is None


def test_lanes_late_in_the_earlier_months_only_share_the_network_spread():
    # six lanes from New York, 2 or 5 days plus 3 days late: in the autumn half of them were
    # late 3 times in 10 and the others never; from January every lane 3 times in 20
    destinations = ["60601", "90012", "33101", "75201", "80202", "98101"]
    records = []
    for i, zip_code in enumerate(destinations):
        base = 2 + 3 * (i % 2)
        autumn = [base + 3] * 12 * (i < 3) + [base] * (40 - 12 * (i < 3))
        winter = [base + 3] * 6 + [base] * 34
        records += history(autumn, destination=zip_code)
        records += history(winter, destination=zip_code, start=date(2027, 1, 4))
    model = TransitModel.fit(records, AS_OF, ModelConfig(half_life_days=1e9))
    assert model.shape_strengths["ups:ground|US|US"] == 1000


def test_a_model_stored_before_spreads_were_learned_still_quotes():
    data = json.loads(json.dumps(TransitModel.fit(history([2] * 40), AS_OF).to_dict()))
    del data["spreads"]
    assert TransitModel.from_dict(data).predict(lane()).mode == 2


def test_thin_lane_backs_off_to_coarser_regions():
    model = TransitModel.fit(history([4] * 100), AS_OF, ModelConfig(min_samples=20))
    # New York -> Los Angeles has no lane: it borrows from the country pair US->US
    far = model.predict(lane(destination=LAX))
    assert far.level == "US->US" and far.mode == 4


def test_lane_without_any_history_uses_the_distance_prior():
    far = TransitModel().predict(lane(destination=LAX))
    near = TransitModel().predict(lane())
    assert far.level == "prior:distance"
    assert far.quantile(0.5) > near.quantile(0.5) >= 1


def test_no_history_and_no_distance_is_none():
    assert TransitModel().predict(Lane("ups:ground", ("FR",), ("US",))) is None


def test_handling_is_learned_per_shipper():
    model = TransitModel.fit(history([2] * 40, handling=3), AS_OF, ModelConfig(half_life_days=1e9))
    handling = model.predict_handling(Origin("wh-nyc", NYC.regions))
    assert handling.mode == 3 and handling.level == "shipper:wh-nyc"
    assert model.predict_handling(Origin("other", ("FR",))) is None


def test_round_trips_through_a_json_dict():
    records = history([2, 3, 3, 4, 9] * 10)
    model = TransitModel.fit(records, AS_OF)
    model.calibration = replace(
        calibration_from([0.1, 0.5, 0.9], [0.2, 0.6, 1.0], rates=[0, 0.1, 1e9]),
        charges=(0.01,) * 101,
    )
    copy = TransitModel.from_dict(json.loads(json.dumps(model.to_dict())))
    assert copy.predict(lane()).pmf == pytest.approx(model.predict(lane()).pmf)
    assert copy.calibration == model.calibration and copy.as_of == model.as_of


def test_orders_not_delivered_before_as_of_are_ignored():
    records = history([2] * 30, start=date(2027, 5, 25))
    assert (
        TransitModel.fit(records, AS_OF).histograms.keys()
        == TransitModel.fit(records[:5], AS_OF).histograms.keys()
    )
    assert sum(next(iter(TransitModel.fit(records, AS_OF).histograms.values()))) < 30


def test_conditioning_on_time_already_spent():
    dist = Distribution((0.0, 0.5, 0.3, 0.2), "x")
    later = dist.at_least(2)
    assert later.pmf == pytest.approx((0, 0, 0.6, 0.4))
    assert dist.at_least(9).quantile(0.5) == 3


def test_calibration_maps_stated_confidence_to_the_level_that_achieved_it():
    # outcomes landed where the model said 0.99 or more: 0.95 needs a higher level than 0.95
    calibration = calibration_from([0.97 + i / 5000 for i in range(100)], [1.0] * 100)
    assert calibration.upper(0.95) > 0.98
    assert calibration.lower(0.05) == 1.0


@pytest.mark.parametrize("calibrated, used", [(None, 0.9), (0.97, 0.97), (0.75, 0.75)])
def test_window_mass_is_what_the_calibration_found(calibrated, used):
    # an overconfident model widens its window, an underconfident one narrows it
    model = TransitModel(
        calibration=replace(calibration_from([0.5], [0.5]), window_mass=calibrated)
    )
    assert model.window_mass(0.9) == used


def test_a_lane_is_not_answered_from_another_shippers_cache():
    # two warehouses in one ZIP3: only wh-nyc has history of its own to Chicago
    records = history([2] * 40) + history([5] * 40, shipper="wh-other", destination="90012")
    model = TransitModel.fit(records, AS_OF, ModelConfig(half_life_days=1e9))
    first = model.predict(lane(shipper="wh-nyc"))
    fresh = TransitModel.fit(records, AS_OF, ModelConfig(half_life_days=1e9))
    assert model.predict(lane(shipper="wh-other")) == fresh.predict(lane(shipper="wh-other"))
    assert first != fresh.predict(lane(shipper="wh-other"))


def test_a_lane_is_answered_as_by_a_fresh_model_whatever_was_asked_before():
    # Chicago's late tail is short, Los Angeles' long; Springfield, IL and San Diego, CA are
    # thin lanes sharing their state's levels (and the country's) with them
    records = (
        history([2] * 40 + [3] * 5)
        + history([5] * 30 + [9] * 10, destination="90012")
        + history([3] * 4, destination="62701")
        + history([6] * 4, destination="92101")
    )
    stored = TransitModel.fit(records, AS_OF, ModelConfig(half_life_days=1e9)).to_dict()
    warm = TransitModel.from_dict(stored).prepared()
    springfield, san_diego = (lane(destination=geo.locate("US", z)) for z in ("62701", "92101"))
    first = warm.predict(springfield)
    assert warm.predict(san_diego) == TransitModel.from_dict(stored).predict(san_diego)
    assert first == TransitModel.from_dict(stored).predict(springfield)
    assert first.mode == 3


def _orders_around_two_pm(shipper: str, cutoff_hour: int | None) -> list:
    """Orders at 10:00, 13:45, 14:15 and 18:00 each weekday; those before `cutoff_hour` leave
    that day, the rest the next working day (`None`: every order leaves the day it was placed)."""
    from datetime import timedelta

    from shipflow.calendars import calendar

    working = calendar(frozenset(range(5)), "US", "NY")
    records = []
    for base in history([2] * 30, shipper=shipper):
        day = base.ordered_at.date()
        for hour, minute in ((10, 0), (13, 45), (14, 15), (18, 0)):
            ordered = base.ordered_at.replace(hour=hour, minute=minute)
            late = cutoff_hour is not None and hour >= cutoff_hour
            handed = working.next_day(day + timedelta(days=1)) if late else day
            at = base.handed_to_carrier_at.replace(
                year=handed.year, month=handed.month, day=handed.day
            )
            delivered = calendar(frozenset(range(5)), "US").after(handed, 2)
            records.append(
                replace(
                    base,
                    order_id=f"{base.order_id}-{hour}",
                    ordered_at=ordered,
                    handed_to_carrier_at=at,
                    delivered_at=base.delivered_at.replace(
                        year=delivered.year, month=delivered.month, day=delivered.day
                    ),
                )
            )
    return records


def test_a_shippers_cut_off_is_learned_from_its_handovers():
    records = _orders_around_two_pm("seller-14h", 14) + _orders_around_two_pm("seller-none", None)
    model = TransitModel.fit(records, AS_OF)
    assert model.cutoffs == {"seller-14h": (time(14), "America/New_York")}
    handling = model.predict_handling(Origin("seller-14h", NYC.regions))
    assert handling.pmf[0] == pytest.approx(1.0)  # counted from the day the cut-off allows
    copy = TransitModel.from_dict(json.loads(json.dumps(model.to_dict())))
    assert copy.cutoffs == model.cutoffs


def test_a_configured_cut_off_wins_over_the_learned_one():
    records = _orders_around_two_pm("seller-14h", 14)
    model = TransitModel.fit(records, AS_OF, cutoffs={"seller-14h": (time(12), "America/New_York")})
    assert model.cutoffs == {}
