from datetime import date, datetime, timedelta

import pytest

from shipflow.domain import CarrierService, Status, TrackingEvent
from shipflow.edd.engine import (
    estimate,
    resolve_destination,
    revise,
    revise_from_events,
    same_estimate_until,
)
from shipflow.edd.transit import ModelConfig, TransitModel

from .factories import NY, WEEKDAYS, history, warehouse

GROUND = CarrierService("ups", "ground")
SATURDAY = CarrierService("ups", "ground", delivery_days=WEEKDAYS | {5})
CHICAGO = resolve_destination("US", "60601")
EXACT = ModelConfig(half_life_days=1e9)
LOS_ANGELES = {"timezone": "America/Los_Angeles", "holiday_subdivision": "CA"}


def trained(transit: int = 2, handling: int | None = None, **kwargs) -> TransitModel:
    """A model that has only ever seen `transit` business days on New York -> Chicago."""
    extra = {} if handling is None else {"handling": handling}
    records = history([transit] * 50, **extra, **kwargs)
    return TransitModel.fit(records, datetime(2027, 1, 1, tzinfo=NY), EXACT)


def quote(ordered_at, model=None, warehouses=None, services=(GROUND,), destination=CHICAGO):
    return estimate(
        warehouses or [warehouse()], services, model or trained(), "SKU", 1, destination, ordered_at
    )


@pytest.mark.parametrize(
    ("ordered_at", "service", "setup", "promised"),
    [
        # Tue before 15:00: handed over Tue, 2 business days -> Thu
        (datetime(2026, 11, 17, 10, tzinfo=NY), GROUND, {}, date(2026, 11, 19)),
        # Tue after cut-off: starts Wed -> Fri
        (datetime(2026, 11, 17, 16, tzinfo=NY), GROUND, {}, date(2026, 11, 20)),
        # Thu after cut-off: starts Fri -> Tue (weekend skipped)...
        (datetime(2026, 11, 19, 16, tzinfo=NY), GROUND, {}, date(2026, 11, 24)),
        # ...or Mon with Saturday delivery
        (datetime(2026, 11, 19, 16, tzinfo=NY), SATURDAY, {}, date(2026, 11, 23)),
        # configured handling days push the handover
        (datetime(2026, 11, 17, 10, tzinfo=NY), GROUND, {"handling_days": 2}, date(2026, 11, 23)),
        # Wed before Thanksgiving: handed over Wed, delivery skips Thu 26 (destination holiday)
        (datetime(2026, 11, 25, 10, tzinfo=NY), GROUND, {}, date(2026, 11, 30)),
        # Christmas Eve after cut-off: origin closed on the 25th, starts Mon 28
        (datetime(2026, 12, 24, 16, tzinfo=NY), GROUND, {}, date(2026, 12, 30)),
        # carrier collects Tue/Thu only: Mon's parcel waits for Tue's pickup -> Thu
        (
            datetime(2026, 11, 16, 10, tzinfo=NY),
            GROUND,
            {"pickup_days": frozenset({1, 3})},
            date(2026, 11, 19),
        ),
        # a warehouse on Los Angeles time: 17:30 in New York is 14:30 there, before its cut-off
        (datetime(2026, 11, 17, 17, 30, tzinfo=NY), GROUND, LOS_ANGELES, date(2026, 11, 19)),
        (datetime(2026, 11, 17, 18, 30, tzinfo=NY), GROUND, LOS_ANGELES, date(2026, 11, 20)),
    ],
)
def test_promise_walks_cutoff_handling_weekends_and_holidays(ordered_at, service, setup, promised):
    # a model without handling history, so the warehouse's configured handling applies
    model = TransitModel.fit(
        history([2] * 50, shipper="elsewhere"), datetime(2027, 1, 1, tzinfo=NY), EXACT
    )
    model.histograms = {k: v for k, v in model.histograms.items() if not k.startswith("handling")}
    result = quote(ordered_at, model, [warehouse(**setup)], services=(service,))
    assert result.ok, result.no_estimate
    assert result.promised == result.most_likely == promised
    assert result.assumptions.handling == "configured"


def test_carriers_deliver_on_state_holidays_but_not_national_ones():
    # Tue 24 Nov to Los Angeles, 2 delivery days: Wed 25, (Thanksgiving), Fri 27, which is
    # a California state holiday (the day after Thanksgiving) that carriers work through
    model = TransitModel.fit(history([2] * 50), datetime(2027, 1, 1, tzinfo=NY), EXACT)
    result = quote(
        datetime(2026, 11, 24, 10, tzinfo=NY), model, destination=resolve_destination("US", "90012")
    )
    assert result.most_likely == date(2026, 11, 27)


def test_learned_handling_is_used_for_a_known_shipper():
    result = quote(datetime(2026, 11, 17, 10, tzinfo=NY), trained(transit=2, handling=1))
    assert result.assumptions.handling == "learned:shipper:wh-nyc"
    assert result.promised == date(2026, 11, 20)  # Tue + 1 handling + 2 transit


def test_countdown_and_assumptions():
    ordered_at = datetime(2026, 11, 17, 12, 46, tzinfo=NY)
    result = quote(ordered_at)
    assert result.cutoff == datetime(2026, 11, 17, 15, tzinfo=NY)
    assert result.countdown == timedelta(hours=2, minutes=14)
    assert (result.assumptions.warehouse, result.assumptions.carrier) == ("wh-nyc", "ups")
    assert result.assumptions.lane_level == "US:100->~1100km"  # origin ZIP3, distance zone


def test_window_is_ordered():
    records = history([2, 3, 3, 4, 6] * 20)
    model = TransitModel.fit(records, datetime(2027, 1, 1, tzinfo=NY), EXACT)
    result = quote(datetime(2026, 11, 17, 10, tzinfo=NY), model)
    assert result.earliest <= result.most_likely <= result.promised <= result.latest
    assert result.earliest == date(2026, 11, 19) and result.latest == date(2026, 11, 25)


def test_warehouse_with_stock_then_fastest_then_nearest():
    ordered_at = datetime(2026, 11, 17, 10, tzinfo=NY)
    model = TransitModel()  # distance prior only
    empty = warehouse("wh-chi", "60601", latitude=41.88, longitude=-87.62, stock={})
    near = warehouse("wh-chi2", "60602", latitude=41.88, longitude=-87.63)
    far = warehouse("wh-nyc")
    assert quote(ordered_at, model, [far, empty]).assumptions.warehouse == "wh-nyc"
    assert quote(ordered_at, model, [far, empty, near]).assumptions.warehouse == "wh-chi2"


def test_lane_without_history_uses_the_distance_prior():
    result = quote(datetime(2026, 11, 17, 10, tzinfo=NY), TransitModel())
    assert result.ok and result.assumptions.lane_level == "prior:distance"


@pytest.mark.parametrize(
    ("warehouses", "destination", "reason"),
    [
        ([warehouse(stock={})], CHICAGO, "no stock"),
        ([warehouse()], resolve_destination("US", "00000"), "unknown postal code"),
        ([warehouse()], resolve_destination("FR", "75001"), "no lane history"),
    ],
)
def test_no_estimate_says_why(warehouses, destination, reason):
    result = quote(
        datetime(2026, 11, 17, 10, tzinfo=NY), TransitModel(), warehouses, destination=destination
    )
    assert not result.ok and result.promised is None
    assert reason in result.no_estimate


def test_confidence_must_be_a_probability():
    with pytest.raises(ValueError):
        estimate(
            [warehouse()],
            [GROUND],
            TransitModel(),
            "SKU",
            1,
            CHICAGO,
            datetime(2026, 11, 17, 10, tzinfo=NY),
            confidence=95,
        )


def test_higher_confidence_never_promises_earlier():
    records = history([2, 3, 3, 4, 6] * 20)
    model = TransitModel.fit(records, datetime(2027, 1, 1, tzinfo=NY), EXACT)
    moment = datetime(2026, 11, 17, 10, tzinfo=NY)
    promised = [
        estimate([warehouse()], [GROUND], model, "SKU", 1, CHICAGO, moment, c).promised
        for c in (0.5, 0.8, 0.95, 0.99)
    ]
    assert promised == sorted(promised) and promised[0] < promised[-1]


def test_coordinates_only_destination_is_quoted_by_distance_zone():
    destination = resolve_destination("US", coordinates=(41.88, -87.62))
    result = quote(datetime(2026, 11, 17, 10, tzinfo=NY), trained(), destination=destination)
    assert result.ok and result.assumptions.lane_level == "US:100->~1100km"


class TestRevise:
    ordered_at = datetime(2026, 11, 17, 10, tzinfo=NY)  # promise: Thu 19 Nov

    def promise(self, model):
        return quote(self.ordered_at, model)

    @pytest.mark.parametrize(
        ("status", "event_at", "expected"),
        [
            (Status.OUT_FOR_DELIVERY, datetime(2026, 11, 20, 8, tzinfo=NY), date(2026, 11, 20)),
            (Status.ATTEMPT_FAILED, datetime(2026, 11, 20, 18, tzinfo=NY), date(2026, 11, 23)),
            (Status.DELIVERED, datetime(2026, 11, 18, 18, tzinfo=NY), date(2026, 11, 18)),
        ],
    )
    def test_last_mile_events(self, status, event_at, expected):
        model = trained()
        promise = self.promise(model)
        revised = revise(promise, model, status, event_at, "America/Chicago")
        assert revised.most_likely == revised.at_confidence == expected
        assert promise.promised == date(2026, 11, 19)  # the promise is untouched

    def test_late_handover_moves_the_prediction(self):
        model = trained()
        handed = datetime(2026, 11, 19, 17, tzinfo=NY)
        revised = revise(
            self.promise(model),
            model,
            Status.IN_TRANSIT,
            handed,
            "America/Chicago",
            handed_over_at=handed,
        )
        assert revised.most_likely == date(2026, 11, 23)

    def test_in_transit_past_the_usual_time_keeps_only_the_slower_outcomes(self):
        records = history([2] * 40 + [3] * 10)
        model = TransitModel.fit(records, datetime(2027, 1, 1, tzinfo=NY), EXACT)
        promise = self.promise(model)
        revised = revise(
            promise,
            model,
            Status.IN_TRANSIT,
            datetime(2026, 11, 20, 9, tzinfo=NY),
            "America/New_York",
            handed_over_at=datetime(2026, 11, 17, 17, tzinfo=NY),
        )
        assert revised.most_likely == date(2026, 11, 20)

    def test_awaiting_handover_drops_dates_already_past(self):
        model = trained()
        revised = revise(
            self.promise(model),
            model,
            Status.INFO_RECEIVED,
            datetime(2026, 11, 20, 9, tzinfo=NY),
            "America/New_York",
        )
        assert revised.most_likely == date(2026, 11, 20)

    def test_from_events_uses_first_scan_as_handover_and_last_scan_position(self):
        model = trained()
        events = [
            TrackingEvent(Status.INFO_RECEIVED, datetime(2026, 11, 17, 11, tzinfo=NY), "LC"),
            TrackingEvent(Status.IN_TRANSIT, datetime(2026, 11, 19, 17, tzinfo=NY), "PU"),
            TrackingEvent(
                Status.IN_TRANSIT,
                datetime(2026, 11, 20, 6, tzinfo=NY),
                "AR",
                postal_code="60601",
                country="US",
            ),
        ]
        revised = revise_from_events(self.promise(model), model, events[::-1], "America/Chicago")
        # at a Chicago hub on Fri: Chicago -> Chicago has no lane of its own and borrows the
        # country pair's 2 business days -> Tue (from the hub, not from the handover)
        assert revised.basis == "from US:606" and revised.most_likely == date(2026, 11, 24)
        handed = revise_from_events(self.promise(model), model, events[:2], "America/Chicago")
        assert handed.basis == "since handover" and handed.most_likely == date(2026, 11, 23)

    def test_no_estimate_cannot_be_revised(self):
        promise = quote(self.ordered_at, TransitModel(), [warehouse(stock={})])
        assert revise(promise, TransitModel(), Status.IN_TRANSIT, self.ordered_at) is None


@pytest.mark.parametrize(
    ("ordered_at", "until"),
    [
        # New York cuts off at 15:00, Los Angeles at 15:00 its time (18:00 in New York)
        (datetime(2026, 11, 17, 10, tzinfo=NY), datetime(2026, 11, 17, 15, tzinfo=NY)),
        (datetime(2026, 11, 17, 15, tzinfo=NY), datetime(2026, 11, 17, 18, tzinfo=NY)),
        (datetime(2026, 11, 20, 19, tzinfo=NY), datetime(2026, 11, 23, 15, tzinfo=NY)),  # Friday
        # Wednesday after both: Thanksgiving is closed, so New York's Friday
        (datetime(2026, 11, 25, 19, tzinfo=NY), datetime(2026, 11, 27, 15, tzinfo=NY)),
    ],
)
def test_an_estimate_is_the_same_until_the_first_warehouses_cut_off(ordered_at, until):
    warehouses = [warehouse(), warehouse("wh-la", **LOS_ANGELES)]
    assert same_estimate_until(warehouses, ordered_at) == until
    first, last = (quote(t, warehouses=warehouses) for t in (ordered_at, until - timedelta(0, 1)))
    assert (first.promised, first.latest, first.cutoff) == (last.promised, last.latest, last.cutoff)
    assert quote(until, warehouses=warehouses).cutoff != first.cutoff


def test_without_warehouses_an_estimate_never_changes():
    assert same_estimate_until([], datetime(2026, 11, 17, tzinfo=NY)).year == 9999
