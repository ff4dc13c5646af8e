"""Polling: scheduled by status, leased in batches per carrier, outages never lose a poll."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from carriers.base import CarrierRateLimited, CarrierUnavailable, TrackingQuery
from carriers.convert import UNREADABLE
from shipflow.domain import Address, Status
from shipflow.store.db import unit_of_work
from shipflow.store.models import Order, Shipment
from shipflow.tracking.config import TrackingConfig
from shipflow.tracking.polling import lease_due, poll_due
from shipflow.tracking.webhooks import process_due_receipts
from tests.tracking.fake_carrier import FakeCarrier, event, payload
from tests.tracking.helpers import at, post_webhook


@pytest.mark.parametrize(
    ("status", "minutes"),
    [
        ("in_transit", 120),
        ("out_for_delivery", 30),
        ("info_received", 360),
        ("pending", 360),
        ("delivered", None),
        ("returned_to_sender", None),
        ("cancelled", None),
        ("expired", None),
    ],
)
def test_schedule_by_status(clock, status, minutes):
    due = TrackingConfig().next_poll(status, clock.now())
    assert due == (None if minutes is None else clock.now() + timedelta(minutes=minutes))


def test_schedule_is_configurable(clock):
    config = TrackingConfig(poll_every_minutes={Status.IN_TRANSIT: 15})
    assert config.next_poll("in_transit", clock.now()) == clock.now() + timedelta(minutes=15)
    assert config.next_poll("pending", clock.now()) is None


def polls(runtime) -> dict[str, object]:
    with runtime.sessions() as session:
        return dict(session.execute(select(Shipment.tracking_number, Shipment.next_poll_at)).all())


def test_due_shipments_are_polled_in_carrier_batches_and_rescheduled(
    runtime, tracked, make_shipment, clock, fake_network
):
    for n in range(7):
        make_shipment(tracked["tb"], f"TN{n}")
    make_shipment(tracked["tb"], "LATER", next_poll_at=clock.now() + timedelta(minutes=5))
    make_shipment(tracked["tb"], "DONE", status="delivered", next_poll_at=None)
    fake_network.network["TN0"] = [event("OFD", "out_for_delivery", at(clock, -1))]
    fake_network.network["TN1"] = [event("DL", "delivered", at(clock, -1))]

    assert poll_due(runtime) == 7

    assert sorted(len(call) for call in fake_network.calls) == [1, 3, 3]
    assert "LATER" not in sum(fake_network.calls, []) and "DONE" not in sum(fake_network.calls, [])
    due = polls(runtime)
    now = clock.now()
    assert due["TN0"] == now + timedelta(minutes=30)  # out for delivery: soon
    assert due["TN1"] is None  # delivered: never again
    assert due["TN2"] == now + timedelta(hours=6)  # still pending
    assert poll_due(runtime) == 0


@pytest.mark.parametrize(
    ("failure", "delay"),
    [
        (CarrierUnavailable("timeout", carrier="fake"), 30),
        (CarrierRateLimited("slow down", carrier="fake", retry_after=600), 600),
    ],
)
def test_carrier_outage_pushes_polls_back(
    runtime, tracked, make_shipment, clock, fake_network, failure, delay
):
    for n in range(5):
        make_shipment(tracked["tb"], f"TN{n}")
    fake_network.failure = failure

    assert poll_due(runtime) == 5

    assert len(fake_network.calls) == 1  # the carrier is left alone after the first failure
    assert set(polls(runtime).values()) == {clock.now() + timedelta(seconds=delay)}
    fake_network.failure = None
    clock.advance(timedelta(seconds=delay))
    from shipflow.tracking import polling

    runtime.poll_gates = polling.CarrierGates()  # a new process (or the backoff elapsed)
    assert poll_due(runtime) == 5


def test_a_lease_hides_shipments_until_it_lapses(runtime, tracked, make_shipment, clock):
    for n in range(4):
        make_shipment(tracked["tb"], f"TN{n}")
    config = runtime.settings.tracking
    with runtime.sessions() as session:
        first = lease_due(session, clock.now(), config, limit=3)
        second = lease_due(session, clock.now(), config, limit=3)
        assert len(first) == 3 and len(second) == 1
        assert lease_due(session, clock.now(), config, limit=3) == []
        clock.advance(timedelta(seconds=config.lease_seconds))
        assert len(lease_due(session, clock.now(), config, limit=10)) == 4  # worker died


def test_skip_locked_gives_concurrent_workers_disjoint_batches(
    runtime, tracked, make_shipment, clock
):
    if runtime.engine.dialect.name != "postgresql":
        pytest.skip("SKIP LOCKED is PostgreSQL's; SQLite serializes writers")
    from shipflow.store.lease import claim

    for n in range(10):
        make_shipment(tracked["tb"], f"TN{n}")
    now, later = clock.now(), clock.now() + timedelta(minutes=5)

    def lease(session):
        return claim(
            session,
            Shipment,
            [Shipment.next_poll_at <= now],
            [Shipment.next_poll_at],
            4,
            {"next_poll_at": later},
        )

    with runtime.sessions() as one, runtime.sessions() as two:
        first = {row.id for row in lease(one)}  # transaction still open: rows locked
        second = {row.id for row in lease(two)}  # does not wait, does not overlap
        assert len(first) == len(second) == 4 and not first & second
        one.rollback()
        two.rollback()


def test_a_shipment_created_through_the_api_is_polled(
    client, runtime, tracked, fake_network, clock
):
    from tests.tracking.test_webhooks import api_headers

    response = client.post(
        "/api/v1/shipments",
        json={"carrier": "fake", "carrier_account": "main", "tracking_number": "API1"},
        headers=api_headers(runtime, tracked["tb"]),
    )
    assert response.status_code == 201, response.json
    fake_network.network["API1"] = [event("PU", "in_transit", at(clock, -1))]
    assert poll_due(runtime) == 1
    with runtime.sessions() as session:
        assert (
            session.scalar(select(Shipment.status).where(Shipment.tracking_number == "API1"))
            == "in_transit"
        )


def test_webhook_only_carriers_and_unknown_accounts_are_not_hammered(
    runtime, tracked, make_shipment, clock, fake_network, monkeypatch
):
    from tests.tracking.fake_carrier import FakeCarrier

    make_shipment(tracked["tb"], "NOACCOUNT", carrier_account="gone")
    monkeypatch.setattr(FakeCarrier, "capabilities", frozenset())
    make_shipment(tracked["tc"], "HOOKS")

    assert poll_due(runtime) == 2

    assert fake_network.calls == []
    assert polls(runtime) == {"NOACCOUNT": clock.now() + timedelta(hours=6), "HOOKS": None}


def test_an_unreadable_event_does_not_sink_the_batch(
    runtime, tracked, make_shipment, clock, fake_network
):
    """One poll answers for three numbers: a bad event on one of them is skipped and counted,
    and every number still gets its update."""
    for number in ("TN0", "TN1", "TN2"):
        make_shipment(tracked["tb"], number)
    bad = {"code": "XX", "status": "no-such-status", "at": at(clock, -1)}
    fake_network.network["TN0"] = [event("PU", "in_transit", at(clock, -2)), bad]
    fake_network.network["TN1"] = [event("OFD", "out_for_delivery", at(clock, -1))]
    fake_network.network["TN2"] = [event("DL", "delivered", at(clock, -1))]
    before = UNREADABLE.labels(carrier="fake", what="event")._value.get()

    assert poll_due(runtime) == 3

    with runtime.sessions() as session:
        statuses = dict(session.execute(select(Shipment.tracking_number, Shipment.status)).all())
    assert statuses == {"TN0": "in_transit", "TN1": "out_for_delivery", "TN2": "delivered"}
    assert UNREADABLE.labels(carrier="fake", what="event")._value.get() == before + 1


def test_polls_carry_the_last_four_digits_of_the_orders_phone(
    runtime, tracked, make_shipment, fake_network, monkeypatch
):
    """SF Express answers a route query only with the phone's last four digits: the poll
    takes them from the order (ship-to phone first, else the customer's)."""
    with unit_of_work(runtime.sessions) as session:
        orders = [
            Order(brand_id=tracked["tb"].id, order_number=n, currency="CNY", **values)
            for n, values in (
                ("O1", {"ship_to": {"phone": "+86 138-0013-5678"}, "customer_phone": "111"}),
                ("O2", {"customer_phone": "(02) 2345 6789"}),
                ("O3", {"customer_phone": "123"}),  # too short to have four digits
            )
        ]
        session.add_all(orders)
        session.flush()
        order_ids = [o.id for o in orders]
    for number, order_id in zip(("TN1", "TN2", "TN3"), order_ids, strict=True):
        make_shipment(tracked["tb"], number, order_id=order_id)
    make_shipment(tracked["tb"], "TN4")  # no order
    seen: list[TrackingQuery] = []

    def track_queries(self, queries):
        seen.extend(queries)
        return self.track([q.tracking_number for q in queries])

    monkeypatch.setattr(FakeCarrier, "track_queries", track_queries)
    poll_due(runtime)
    assert sorted((q.tracking_number, q.phone_last4) for q in seen) == [
        ("TN1", "5678"),
        ("TN2", "6789"),
        ("TN3", ""),
        ("TN4", ""),
    ]


def test_polls_carry_where_the_parcel_leaves_from_and_goes_to(
    runtime, tracked, make_shipment, monkeypatch
):
    """Kuaidi100 predicts the arrival from the route: the poll takes the shipment's warehouse
    (from the brand's configuration) and the order's ship-to."""
    with unit_of_work(runtime.sessions) as session:
        order = Order(
            brand_id=tracked["tb"].id,
            order_number="O1",
            currency="CNY",
            customer_name="李四",
            ship_to={
                "country": "CN",
                "postal_code": "100020",
                "state": "北京市",
                "city": "北京市",
                "line1": "建国路88号",
            },
        )
        session.add(order)
        session.flush()
        order_id = order.id
    make_shipment(tracked["tb"], "TN1", order_id=order_id, warehouse_code="EWR")
    make_shipment(tracked["tb"], "TN2", warehouse_code="GONE")  # unconfigured, no order
    seen: list[TrackingQuery] = []

    def track_queries(self, queries):
        seen.extend(queries)
        return []

    monkeypatch.setattr(FakeCarrier, "track_queries", track_queries)
    poll_due(runtime)
    assert {q.tracking_number: (q.origin, q.destination) for q in seen} == {
        "TN1": (
            Address("US", "08817", city="Edison", state="NJ"),
            Address("CN", "100020", city="北京市", state="北京市", line1="建国路88号", name="李四"),
        ),
        "TN2": (None, None),
    }


def test_a_shipment_its_carrier_pushed_to_is_rescheduled_from_its_last_event_not_asked(
    runtime, tracked, make_shipment, clock, fake_network
):
    """Due, but the carrier spoke 30 minutes ago (a push): the next look is in-transit's 120
    minutes after that event, without a call; a status no longer polled is never looked at
    again; a shipment quiet for longer, or whose last event is dated ahead of now, is
    polled."""
    pushed = clock.now() - timedelta(minutes=30)
    make_shipment(tracked["tb"], "PUSHED", status="in_transit", last_event_at=pushed)
    make_shipment(tracked["tb"], "DONE", status="delivered", last_event_at=pushed)
    make_shipment(
        tracked["tb"], "QUIET", status="in_transit", last_event_at=pushed - timedelta(hours=2)
    )
    ahead = clock.now() + timedelta(hours=5)  # a carrier's clock (or time zone) wrong
    make_shipment(tracked["tb"], "AHEAD", status="in_transit", last_event_at=ahead)

    assert poll_due(runtime) == 4

    assert sorted(sum(fake_network.calls, [])) == ["AHEAD", "QUIET"]
    due = polls(runtime)
    assert due["PUSHED"] == pushed + timedelta(minutes=120)
    assert due["DONE"] is None
    assert due["QUIET"] == due["AHEAD"] == clock.now() + timedelta(minutes=120)


def test_pushes_leave_the_poll_where_it_is_and_a_carrier_gone_quiet_is_polled_on_schedule(
    client, runtime, tracked, make_shipment, clock, fake_network
):
    """A push moves no indexed column of the shipment (HOT): the next look stays where it was;
    then the shipment is looked at, rescheduled from its last event, and polled once its
    status's interval has passed without a word. Delivery stops the polls."""
    look = clock.now() + timedelta(hours=1)
    make_shipment(tracked["tb"], "TN1", status="info_received", next_poll_at=look)
    pickup = payload("TN1", event("PU", "in_transit", at(clock, 0)))
    assert post_webhook(client, tracked["tb"], pickup).status_code == 202
    assert process_due_receipts(runtime) == 1
    assert polls(runtime) == {"TN1": look}

    clock.advance(timedelta(hours=1))
    assert poll_due(runtime) == 1
    assert fake_network.calls == []
    assert polls(runtime) == {"TN1": look + timedelta(hours=1)}  # 120 minutes after the scan

    clock.advance(timedelta(hours=1))
    assert poll_due(runtime) == 1
    assert fake_network.calls == [["TN1"]]

    delivered = payload("TN1", event("DL", "delivered", at(clock, 0)))
    assert post_webhook(client, tracked["tb"], delivered).status_code == 202
    assert process_due_receipts(runtime) == 1
    assert polls(runtime) == {"TN1": None}
