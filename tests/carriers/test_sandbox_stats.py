"""The simulated network over a few thousand parcels: shares as configured, transit times as
claimed, the calendar respected, and the same seed telling the same story."""

from __future__ import annotations

import math
import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import holidays
import pytest

from carriers.sandbox.network import SandboxProfile, SimulatedShipment, simulate
from carriers.sandbox.places import HUBS, Place, distance_km
from carriers.sandbox.services import PICKUP_SERVICE, SERVICES, add_working_days, transit_days

PARCELS = 4000
PROFILE = SandboxProfile(
    late_rate=0.12,
    failed_attempt_rate=0.10,
    refail_rate=0.5,
    exception_rate=0.05,
    loss_rate=0.02,
    pickup_collection_rate=0.6,
)
US_HOLIDAYS = holidays.US(years=range(2026, 2028))
SATURDAY_SERVICES = {"same_day", "overnight", "express"}
DOOR_SERVICES = [s for s in SERVICES if s != PICKUP_SERVICE]  # pickup_point: test_sandbox_pickup


def _random_place(rng: random.Random) -> Place:
    hub = rng.choice(HUBS)
    return replace(hub, lat=hub.lat + rng.uniform(-0.6, 0.6), lng=hub.lng + rng.uniform(-0.6, 0.6))


def _shipments(count: int, seed: str = "stats") -> list[SimulatedShipment]:
    rng = random.Random(seed)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    shipments = []
    for i in range(count):
        origin = _random_place(rng)
        service = rng.choice([s for s in DOOR_SERVICES if s != "same_day"])
        destination = _random_place(rng)
        if rng.random() < 0.1:  # same-day parcels stay in town
            service, destination = "same_day", replace(origin, lng=origin.lng + 0.3)
        ship_time = start + timedelta(minutes=rng.randrange(365 * 24 * 60))
        shipments.append(SimulatedShipment(f"SIM{i:06d}", origin, destination, service, ship_time))
    return shipments


@pytest.fixture(scope="module")
def simulated():
    shipments = _shipments(PARCELS)
    return [(s, simulate(s, PROFILE)) for s in shipments]


def _codes(timeline) -> list[str]:
    return [e.code for e in timeline.events]


def _reasons(timeline, code: str) -> list[str]:
    return [e.reason for e in timeline.events if e.code == code]


def _share_close(count: int, total: int, expected: float, sigmas: float = 3.0) -> None:
    tolerance = sigmas * math.sqrt(expected * (1 - expected) / total) + 1 / total
    assert abs(count / total - expected) <= tolerance, (count / total, expected, tolerance)


def _first_attempt_date(timeline):
    return next(e.at.date() for e in timeline.events if e.code == "OD")


def test_late_share_matches_the_configured_rate(simulated):
    undisturbed = [(s, t) for s, t in simulated if "EX" not in _codes(t) and "OD" in _codes(t)]
    late = sum(_first_attempt_date(t) > t.promised_date for _, t in undisturbed)
    _share_close(late, len(undisturbed), PROFILE.late_rate)
    assert all(_first_attempt_date(t) >= t.promised_date for _, t in undisturbed)


def test_on_time_parcels_take_the_claimed_transit_days(simulated):
    checked = 0
    for shipment, timeline in simulated:
        if "OD" not in _codes(timeline) or _first_attempt_date(timeline) != timeline.promised_date:
            continue
        rule = SERVICES[shipment.service]
        claimed = transit_days(shipment.service, distance_km(shipment.origin, shipment.destination))
        expected = add_working_days(timeline.pickup_date, claimed, rule.delivery_weekdays)
        assert _first_attempt_date(timeline) == expected
        checked += 1
    assert checked > PARCELS * 0.7


def test_transit_days_grow_with_service_level_and_distance():
    assert [transit_days(s, 4000) for s in ("same_day", "overnight", "express")] == [0, 1, 2]
    ground = [transit_days("ground", km) for km in (100, 700, 1300, 1900, 2500, 4500)]
    assert ground == [1, 2, 3, 4, 5, 5]
    assert [transit_days("economy", km) for km in (100, 4500)] == [3, 7]


def test_mean_calendar_days_are_ordered_by_service(simulated):
    days: dict[str, list[int]] = {s: [] for s in DOOR_SERVICES}
    for shipment, timeline in simulated:
        if "DL" in _codes(timeline):
            delivered = next(e.at for e in timeline.events if e.code == "DL")
            days[shipment.service].append((delivered.date() - timeline.pickup_date).days)
    means = {s: sum(v) / len(v) for s, v in days.items()}
    order = ["same_day", "overnight", "express", "ground", "economy"]
    assert [means[s] for s in order] == sorted(means[s] for s in order), means


def test_failed_attempt_exception_loss_and_return_shares(simulated):
    total = len(simulated)
    lost = [t for _, t in simulated if "lost" in _reasons(t, "EX")]
    _share_close(len(lost), total, PROFILE.loss_rate)
    in_network = [t for _, t in simulated if "lost" not in _reasons(t, "EX")]
    failed = sum("NA" in _codes(t) for t in in_network)
    _share_close(failed, len(in_network), PROFILE.failed_attempt_rate)
    exceptions = [t for t in in_network if "EX" in _codes(t)]
    _share_close(len(exceptions), len(in_network), PROFILE.exception_rate)
    weather = sum(_reasons(t, "EX") == ["weather"] for t in exceptions)
    _share_close(weather, len(exceptions), PROFILE.weather_share)
    first_reasons = [_reasons(t, "NA")[0] for t in in_network if "NA" in _codes(t)]
    unavailable = PROFILE.failure_reason_weights[0] / sum(PROFILE.failure_reason_weights)
    _share_close(first_reasons.count("customer_unavailable"), len(first_reasons), unavailable)
    returned = sum("RD" in _codes(t) for _, t in simulated)
    _share_close(returned, total, PROFILE.expected_return_share())


def test_every_parcel_ends_delivered_returned_or_lost(simulated):
    endings = {_codes(t)[-1] for _, t in simulated}
    assert endings == {"DL", "RD", "EX"}


def test_calendar_and_local_times_are_respected(simulated):
    for shipment, timeline in simulated:
        saturday_ok = shipment.service in SATURDAY_SERVICES
        times = [e.at for e in timeline.events]
        assert times == sorted(times)
        for event in timeline.events:
            local = event.at
            assert local.utcoffset() is not None
            if event.code in ("PU", "OD", "DL", "NA"):
                assert local.weekday() != 6, event
                assert local.date() not in US_HOLIDAYS, event
                assert 7 <= local.hour < 21, event
            if event.code in ("OD", "NA") or (
                event.code == "DL" and event.facility == "Front door"
            ):
                assert saturday_ok or local.weekday() != 5, (shipment.service, event)


def test_same_seed_same_timeline_and_another_seed_another():
    shipments = _shipments(200)
    assert [simulate(s, PROFILE) for s in shipments] == [simulate(s, PROFILE) for s in shipments]
    reseeded = [simulate(replace(s, seed="other"), PROFILE) for s in shipments]
    assert reseeded != [simulate(s, PROFILE) for s in shipments]
