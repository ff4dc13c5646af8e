"""The sandbox carrier's pickup-point service and cash on delivery: the store travels in the
tracking number, the hold names the store and its deadline, parcels are collected, left
(returned as not collected) or refused at the counter; COD parcels are sometimes refused at
the door. Every story is decided by the tracking number, as for door deliveries."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from carriers.base import CarrierRejected, ShipmentRequest
from carriers.sandbox import SandboxProfile
from carriers.sandbox.carrier import make_tracking_number
from carriers.sandbox.network import simulate
from carriers.sandbox.places import STORES
from shipflow.clock import FixedClock
from shipflow.domain import Address, Money, Parcel, PickupPoint, Reason, Status
from tests.carriers.test_sandbox import NEW_YORK, SAN_FRANCISCO, sandbox

MONDAY = datetime(2026, 11, 16, 15, tzinfo=UTC)
PROFILE = SandboxProfile(exception_rate=0.0, loss_rate=0.0)
COD = Money(4500, "USD")


def pickup_request(store_id: str = "SBX-CHI-01", cod: Money | None = None) -> ShipmentRequest:
    return ShipmentRequest(
        NEW_YORK,
        SAN_FRANCISCO,
        [Parcel(800)],
        "pickup_point",
        cash_on_delivery=cod,
        pickup_point=PickupPoint(store_id) if store_id else None,
    )


def labels(carrier, count: int, make) -> list:
    """`count` labels, a minute apart, each its own sequence and ship time."""
    numbers = []
    for _ in range(count):
        numbers.append(carrier.create_label(make()).tracking_number)
        carrier.clock.advance(timedelta(minutes=1))
    return numbers


def numbers(letter: str, destination: str, count: int, cod: bool = False) -> list[str]:
    """Well-formed numbers as the sandbox issues them (faster than drawing labels)."""
    return [
        make_tracking_number(
            letter, "10001", destination, MONDAY + timedelta(minutes=i), (i % 50) + 50 * cod
        )
        for i in range(count)
    ]


def test_a_pickup_parcel_travels_to_its_store_and_the_hold_names_store_and_deadline():
    clock = FixedClock(MONDAY)
    carrier = sandbox(clock)
    label = carrier.create_label(pickup_request())
    assert label.tracking_number[3] == "P" and label.tracking_number[9:14] == "60603"
    clock.advance(timedelta(days=30))
    [update] = carrier.track([label.tracking_number])
    held = next(e for e in update.events if e.status == Status.AVAILABLE_FOR_PICKUP)
    assert (held.location, held.city, held.postal_code) == ("Corner Mart Loop", "Chicago", "60603")
    assert update.pickup_point == PickupPoint(
        id="SBX-CHI-01",
        name="Corner Mart Loop",
        network="Corner Mart",
        address=Address("US", "60603", "Chicago", "IL", "120 S State St"),
        hours="Mon-Sat 08:00-22:00, Sun 10:00-18:00",
    )
    assert update.pickup_deadline is not None
    local = update.pickup_deadline.astimezone(held.occurred_at.tzinfo)
    assert (local.hour, local.minute) == (10, 0)
    assert timedelta(days=5) <= local - held.occurred_at <= timedelta(days=10)
    assert update.events[-1].status in (Status.DELIVERED, Status.RETURNED_TO_SENDER)


def test_without_a_chosen_store_the_nearest_one_is_used_and_an_unknown_one_is_refused():
    carrier = sandbox(FixedClock(MONDAY))
    nearest = carrier.create_label(pickup_request(store_id=""))
    assert nearest.tracking_number[9:14] == "90026"  # Los Angeles, the nearest to San Francisco
    with pytest.raises(CarrierRejected, match="unknown sandbox pickup point 'NOPE'"):
        carrier.create_label(pickup_request("NOPE"))


def _share_close(count: int, total: int, expected: float) -> None:
    tolerance = 3 * math.sqrt(expected * (1 - expected) / total) + 1 / total
    assert abs(count / total - expected) <= tolerance, (count / total, expected)


def _reasons(update) -> list[tuple[Status, Reason | None]]:
    return [(e.status, e.reason) for e in update.events if e.reason]


def test_pickup_parcels_are_collected_or_returned_not_collected_at_the_configured_rate():
    clock = FixedClock(MONDAY)
    carrier = sandbox(clock, profile=PROFILE)
    clock.advance(timedelta(days=60))
    ended = carrier.track(numbers("P", "60603", 1000))
    collected = sum(u.events[-1].status == Status.DELIVERED for u in ended)
    _share_close(collected, len(ended), PROFILE.pickup_collection_rate)
    for update in ended:
        if update.events[-1].status != Status.DELIVERED:
            assert _reasons(update) == [(Status.RETURNING_TO_SENDER, Reason.NOT_COLLECTED)]


def test_cod_parcels_are_marked_in_the_number_and_sometimes_refused():
    clock = FixedClock(MONDAY)
    carrier = sandbox(clock, profile=replace(PROFILE, failed_attempt_rate=0.0))
    door = replace(pickup_request(cod=COD), service="ground", pickup_point=None)
    assert int(carrier.create_label(door).tracking_number[-3:-1]) >= 50
    prepaid_label = carrier.create_label(replace(door, cash_on_delivery=None))
    assert int(prepaid_label.tracking_number[-3:-1]) < 50
    cod, prepaid = numbers("G", "94105", 1000, cod=True), numbers("G", "94105", 200)
    clock.advance(timedelta(days=60))
    refused = [u for u in carrier.track(cod) if Reason.COD_REFUSED in {e.reason for e in u.events}]
    _share_close(len(refused), 1000, PROFILE.cod_refusal_rate)
    for update in refused:
        assert [s for s, _ in _reasons(update)] == [
            Status.ATTEMPT_FAILED,
            Status.RETURNING_TO_SENDER,
        ]
        assert update.events[-1].status == Status.RETURNED_TO_SENDER
    assert not any(e.reason for u in carrier.track(prepaid) for e in u.events)


def test_a_cod_parcel_refused_at_the_store_goes_back_as_cod_refused():
    clock = FixedClock(MONDAY)
    profile = replace(PROFILE, cod_refusal_rate=1.0, pickup_collection_rate=1.0, loss_rate=0.0)
    carrier = sandbox(clock, profile=profile)
    [number] = labels(carrier, 1, lambda: pickup_request(cod=COD))
    clock.advance(timedelta(days=60))
    [update] = carrier.track([number])
    assert _reasons(update) == [(Status.RETURNING_TO_SENDER, Reason.COD_REFUSED)]


def test_the_same_number_tells_the_same_story_and_prepaid_stories_are_unchanged_by_cod():
    clock = FixedClock(MONDAY)
    carrier = sandbox(clock)
    [number] = labels(carrier, 1, lambda: pickup_request(cod=COD))
    shipment = carrier.shipment(number)
    assert shipment is not None and shipment.cash_on_delivery
    assert shipment.store is not None and shipment.store.id == "SBX-CHI-01"
    assert simulate(shipment, PROFILE) == simulate(shipment, PROFILE)
    prepaid = replace(shipment, cash_on_delivery=False)
    no_refusal = replace(PROFILE, cod_refusal_rate=0.0)
    assert simulate(prepaid, PROFILE) == simulate(shipment, no_refusal)


def test_every_store_is_a_sandbox_place():
    carrier = sandbox(FixedClock(MONDAY))
    for store in STORES:
        label = carrier.create_label(pickup_request(store.id))
        assert carrier.shipment(label.tracking_number).store == store
