"""Carriers that push only what they were asked for get each new shipment subscribed once, at
our webhook address; a refusal is kept, an outage or a quota is retried at the next run."""

from __future__ import annotations

from typing import ClassVar

import pytest
from sqlalchemy import select

from carriers.base import (
    Capability,
    CarrierRateLimited,
    CarrierRejected,
    CarrierUnavailable,
    TrackingQuery,
)
from shipflow.domain import Address
from shipflow.store.db import unit_of_work
from shipflow.store.models import Order, Shipment
from shipflow.tracking.subscriptions import pushing_carriers, subscribe_due
from tests.tracking.fake_carrier import FakeCarrier


class Subscribed:
    calls: ClassVar[list[tuple[list[str], str]]] = []
    queries: ClassVar[list[TrackingQuery]] = []
    answer: ClassVar[dict | Exception] = {}


@pytest.fixture
def pushing(monkeypatch):
    """The fake carrier, made one that pushes only subscribed numbers."""

    def subscribe(self, queries, webhook_url):
        Subscribed.calls.append(([q.tracking_number for q in queries], webhook_url))
        Subscribed.queries.extend(queries)
        if isinstance(Subscribed.answer, Exception):
            raise Subscribed.answer
        return Subscribed.answer

    Subscribed.calls, Subscribed.queries, Subscribed.answer = [], [], {}
    monkeypatch.setattr(
        FakeCarrier, "capabilities", FakeCarrier.capabilities | {Capability.PUSH_SUBSCRIPTIONS}
    )
    monkeypatch.setattr(FakeCarrier, "subscribe", subscribe, raising=False)
    return Subscribed


def state(runtime) -> dict[str, tuple[bool, str | None]]:
    with runtime.sessions() as session:
        return {
            s.tracking_number: (s.push_subscribed_at is not None, s.details.get("push_refused"))
            for s in session.scalars(select(Shipment))
        }


def test_the_carriers_that_need_it_are_the_ones_declaring_it():
    assert {"ups", "kuaidi100", "17track"} <= set(pushing_carriers())
    assert not {"sandbox", "fedex", "sf"} & set(pushing_carriers())


def test_each_new_shipment_is_subscribed_once_at_our_webhook_address(
    runtime, tracked, make_shipment, pushing
):
    make_shipment(tracked["tb"], "TN1")
    make_shipment(tracked["tb"], "TN2")
    make_shipment(tracked["tb"], "DONE", status="delivered")
    assert subscribe_due(runtime) == 2
    base = runtime.settings.base_url.rstrip("/")
    [(numbers, url)] = pushing.calls
    assert (sorted(numbers), url) == (
        ["TN1", "TN2"],
        f"{base}/webhooks/fake/{tracked['tb'].account_id}",
    )
    assert state(runtime) == {"TN1": (True, None), "TN2": (True, None), "DONE": (False, None)}
    assert subscribe_due(runtime) == 0
    assert len(pushing.calls) == 1


def test_a_refused_number_is_kept_with_the_carriers_words_and_a_quota_waits(
    runtime, tracked, make_shipment, pushing
):
    for number in ("GOOD", "BAD", "QUOTA"):
        make_shipment(tracked["tb"], number)
    pushing.answer = {
        "BAD": CarrierRejected("The format of 'BAD' is invalid.", carrier="fake"),
        "QUOTA": CarrierRateLimited("quota used up", carrier="fake"),
    }
    assert subscribe_due(runtime) == 2
    assert state(runtime) == {
        "GOOD": (True, None),
        "BAD": (True, "The format of 'BAD' is invalid."),
        "QUOTA": (False, None),
    }
    pushing.answer = {}
    assert subscribe_due(runtime) == 1
    assert pushing.calls[-1][0] == ["QUOTA"]


def test_a_carrier_that_is_down_is_asked_again_at_the_next_run(
    runtime, tracked, make_shipment, pushing
):
    make_shipment(tracked["tb"], "TN1")
    pushing.answer = CarrierUnavailable("timed out", carrier="fake")
    assert subscribe_due(runtime) == 0
    assert state(runtime) == {"TN1": (False, None)}
    pushing.answer = {}
    assert subscribe_due(runtime) == 1
    assert state(runtime) == {"TN1": (True, None)}


def test_a_subscription_carries_the_route_the_carrier_predicts_the_arrival_from(
    runtime, tracked, make_shipment, pushing
):
    """Kuaidi100 predicts the arrival only for a subscription that names where the parcel goes
    (and better when it names where it leaves from)."""
    with unit_of_work(runtime.sessions) as session:
        order = Order(
            brand_id=tracked["tb"].id,
            order_number="O1",
            currency="CNY",
            ship_to={"country": "CN", "postal_code": "518000", "state": "广东省", "city": "深圳市"},
        )
        session.add(order)
        session.flush()
        order_id = order.id
    make_shipment(tracked["tb"], "TN1", order_id=order_id, warehouse_code="EWR")
    assert subscribe_due(runtime) == 1
    [query] = pushing.queries
    assert (query.tracking_number, query.origin, query.destination) == (
        "TN1",
        Address("US", "08817", city="Edison", state="NJ"),
        Address("CN", "518000", city="深圳市", state="广东省"),
    )
