"""Pickup points, cash on delivery and several parcels per order after the label: the store
and deadline stored from a carrier update and told to the customer, reminders before the
deadline, uncollected and refused parcels followed up as failed deliveries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

import shipflow.jobs.postpurchase as jobs
from shipflow.domain import (
    Address,
    PickupPoint,
    Reason,
    Status,
    TrackingEvent,
    TrackingUpdate,
)
from shipflow.domain.events import ReturningToSender, ShipmentShipped
from shipflow.jobs.outbox import dispatch_due
from shipflow.pickup_points import reminder_due
from shipflow.store.db import unit_of_work
from shipflow.store.models import Order, Shipment
from shipflow.store.postpurchase_models import CustomerMessageRow, NdrCaseRow
from shipflow.tracking.ingest import ingest
from tests.postpurchase.factories import demo_brand, order
from tests.postpurchase.test_jobs import published

STORE = PickupPoint(
    id="SBX-CHI-01",
    name="Corner Mart Loop",
    network="Corner Mart",
    address=Address("US", "60603", "Chicago", "IL", "120 S State St"),
    hours="Mon-Sat 08:00-22:00",
)
# 10:00 in Springfield, IL on Saturday, Nov 28 (the test clock starts Mon Nov 23, 15:00 UTC).
DEADLINE = datetime(2026, 11, 28, 16, tzinfo=UTC)


def messages(runtime) -> list[CustomerMessageRow]:
    with runtime.sessions() as session:
        return list(session.scalars(select(CustomerMessageRow)))


def ready_at_store(runtime, shipment_id: str) -> None:
    """The carrier says the parcel waits at STORE until DEADLINE; outbox handlers run."""
    now = runtime.clock.now()
    event = TrackingEvent(Status.AVAILABLE_FOR_PICKUP, now - timedelta(hours=1), "PK", "Held")
    update = TrackingUpdate(
        "sandbox", "SBXP1", (event,), pickup_point=STORE, pickup_deadline=DEADLINE
    )
    with unit_of_work(runtime.sessions) as session:
        shipment = session.get_one(Shipment, shipment_id)
        ingest(session, shipment, update, "webhook", now, runtime.reactions.in_transaction)
    while dispatch_due(runtime):
        pass


def test_a_pickup_update_is_stored_and_the_message_names_store_hours_and_deadline(runtime):
    brand = demo_brand(runtime)
    _, shipment_id = order(runtime, brand.brand_id, status="in_transit")
    ready_at_store(runtime, shipment_id)
    with runtime.sessions() as session:
        shipment = session.get_one(Shipment, shipment_id)
        assert shipment.status == Status.AVAILABLE_FOR_PICKUP
        assert shipment.pickup_point == {
            "id": "SBX-CHI-01",
            "name": "Corner Mart Loop",
            "network": "Corner Mart",
            "address": {
                "country": "US",
                "postal_code": "60603",
                "city": "Chicago",
                "state": "IL",
                "line1": "120 S State St",
                "line2": "",
                "name": "",
                "company": "",
                "phone": "",
                "email": "",
                "residential": True,
            },
            "hours": "Mon-Sat 08:00-22:00",
            "chain": "",  # a sandbox store names no chain
        }
        assert shipment.pickup_deadline == DEADLINE
    [ready] = messages(runtime)
    assert ready.milestone == "ready_for_pickup"
    assert ready.subject == "Your Northwind Outfitters order is ready for pickup"
    assert ready.body.startswith(
        "Your parcel is waiting for you at Corner Mart Loop, 120 S State St, Chicago, IL, 60603.\n"
        "Opening hours: Mon-Sat 08:00-22:00\n"
        "Please collect it by Sat, Nov 28, 2026.\n"
        "Track it: "
    )


def test_reminders_go_once_each_before_the_deadline_and_never_after_pickup(runtime, clock):
    brand = demo_brand(runtime)
    _, waiting_id = order(runtime, brand.brand_id, "NW-1", status="in_transit")
    _, collected_id = order(runtime, brand.brand_id, "NW-2", status="in_transit")
    ready_at_store(runtime, waiting_id)
    ready_at_store(runtime, collected_id)
    with unit_of_work(runtime.sessions) as session:
        session.get_one(Shipment, collected_id).status = Status.DELIVERED.value

    def reminders() -> list[tuple[str, str]]:
        return sorted(
            (m.shipment_id, m.key.rsplit(":", 1)[-1])
            for m in messages(runtime)
            if m.milestone == "pickup_reminder"
        )

    assert jobs.remind_pickups(runtime) == 0  # five days ahead: nothing yet
    clock.current = DEADLINE - timedelta(days=2)
    jobs.remind_pickups(runtime)
    jobs.remind_pickups(runtime)
    assert reminders() == [(waiting_id, "2d")]
    clock.current = DEADLINE - timedelta(hours=20)
    jobs.remind_pickups(runtime)
    jobs.remind_pickups(runtime)
    assert reminders() == [(waiting_id, "1d"), (waiting_id, "2d")]
    body = next(m.body for m in messages(runtime) if m.key.endswith(":1d"))
    assert "Please collect it by Sat, Nov 28, 2026, or it will be sent back to us." in body


def test_a_late_first_run_sends_only_the_nearest_reminder():
    days = [2, 1]
    assert reminder_due(DEADLINE, DEADLINE - timedelta(days=3), days) is None
    assert reminder_due(DEADLINE, DEADLINE - timedelta(days=2), days) == 2
    assert reminder_due(DEADLINE, DEADLINE - timedelta(hours=3), days) == 1
    assert reminder_due(DEADLINE, DEADLINE, days) is None


def cases(runtime) -> list[tuple[str, int, str]]:
    with runtime.sessions() as session:
        return [(c.shipment_id, c.attempts, c.reason) for c in session.scalars(select(NdrCaseRow))]


def test_a_parcel_left_past_its_deadline_is_followed_up_as_a_failed_delivery_once(runtime, clock):
    brand = demo_brand(runtime)
    _, shipment_id = order(runtime, brand.brand_id, status="in_transit")
    ready_at_store(runtime, shipment_id)
    clock.current = DEADLINE + timedelta(minutes=5)
    assert jobs.remind_pickups(runtime) == 1
    assert jobs.remind_pickups(runtime) == 0
    # The carrier's return scan that follows is the same failure, not a second one.
    published(
        runtime,
        ReturningToSender(
            brand_id=brand.brand_id,
            shipment_id=shipment_id,
            occurred_at=clock.now(),
            reason=Reason.NOT_COLLECTED,
        ),
    )
    assert cases(runtime) == [(shipment_id, 1, "not_collected")]
    failed = [m for m in messages(runtime) if m.milestone == "attempt_failed"]
    assert len(failed) == 1 and "/ndr/" in failed[0].body


def test_a_refused_cod_parcel_opens_a_case_with_its_own_reason(runtime, clock):
    brand = demo_brand(runtime)
    _, shipment_id = order(runtime, brand.brand_id, status="returning_to_sender")
    published(
        runtime,
        ReturningToSender(
            brand_id=brand.brand_id,
            shipment_id=shipment_id,
            occurred_at=clock.now(),
            reason=Reason.COD_REFUSED,
        ),
    )
    assert cases(runtime) == [(shipment_id, 1, "cod_refused")]


def test_a_return_for_another_reason_is_no_failed_delivery(runtime, clock):
    brand = demo_brand(runtime)
    _, shipment_id = order(runtime, brand.brand_id, status="returning_to_sender")
    published(
        runtime,
        ReturningToSender(
            brand_id=brand.brand_id, shipment_id=shipment_id, occurred_at=clock.now()
        ),
    )
    assert cases(runtime) == []


def test_messages_about_one_of_several_parcels_say_which(runtime, clock):
    brand = demo_brand(runtime)
    order_id, first_id = order(runtime, brand.brand_id, status="in_transit", language="ja")
    with unit_of_work(runtime.sessions) as session:
        session.get_one(Shipment, first_id).created_at = clock.now()
        second = Shipment(
            brand_id=brand.brand_id,
            order=session.get_one(Order, order_id),
            carrier="sandbox",
            carrier_account="sandbox-main",
            tracking_number="SBXG00000000000000000001",
            status="in_transit",
            created_at=clock.now() + timedelta(minutes=1),
        )
        session.add(second)
        session.flush()
        second_id = second.id
    for shipment_id in (first_id, second_id):
        published(
            runtime,
            ShipmentShipped(
                brand_id=brand.brand_id, shipment_id=shipment_id, occurred_at=clock.now()
            ),
        )
    bodies = {m.shipment_id: m.body for m in messages(runtime)}
    assert bodies[first_id].startswith("2 個口のうち 1 個目：ご注文の商品を発送しました。")
    assert bodies[second_id].startswith("2 個口のうち 2 個目：")


def test_an_order_in_one_parcel_is_not_numbered(runtime, clock):
    brand = demo_brand(runtime)
    _, shipment_id = order(runtime, brand.brand_id, status="in_transit")
    published(
        runtime,
        ShipmentShipped(brand_id=brand.brand_id, shipment_id=shipment_id, occurred_at=clock.now()),
    )
    [shipped] = messages(runtime)
    assert shipped.body.startswith("Good news: your order has shipped.")


def test_the_cod_at_risk_queue_lists_refused_and_repeatedly_failed_cod_parcels_still_out(runtime):
    from shipflow.ndr.service import NdrService, failed_delivery_queue
    from tests.fakes import RecordingCarrier

    brand = demo_brand(runtime)
    parcels = {  # order number: (COD amount, failure reasons, status now)
        "COD-TWICE": (4500, [Reason.CUSTOMER_UNAVAILABLE] * 2, "attempt_failed"),
        "COD-REFUSED": (3000, [Reason.COD_REFUSED], "returning_to_sender"),
        "COD-ONCE": (2000, [Reason.CUSTOMER_UNAVAILABLE], "attempt_failed"),
        "PREPAID-TWICE": (0, [Reason.CUSTOMER_UNAVAILABLE] * 2, "attempt_failed"),
        "COD-DELIVERED": (1000, [Reason.CUSTOMER_UNAVAILABLE] * 2, "delivered"),
    }
    now = runtime.clock.now()
    for i, (number, (cod, reasons, status)) in enumerate(parcels.items()):
        order_id, shipment_id = order(
            runtime, brand.brand_id, number, status=status, tracking_number=f"SBXG{i:020d}"
        )
        with unit_of_work(runtime.sessions) as session:
            session.get_one(Order, order_id).cash_on_delivery = cod
            ndr = NdrService(session, runtime.settings, lambda s: RecordingCarrier())
            for reason in reasons:
                ndr.on_attempt_failed(session.get_one(Shipment, shipment_id), reason, now)
    with runtime.sessions() as session:
        rows = failed_delivery_queue(session, brand.brand_id, 50, cod_at_risk=True)
        listed = sorted((number, cod, currency) for _, _, number, cod, currency in rows)
    assert listed == [("COD-REFUSED", 3000, "USD"), ("COD-TWICE", 4500, "USD")]


def test_a_refused_cod_parcel_needing_a_person_says_so_in_the_ops_alert(runtime, clock):
    from carriers.base import FailedDeliveryAction
    from shipflow.ndr.service import NdrService
    from shipflow.store.models import Alert
    from tests.fakes import RecordingCarrier

    brand = demo_brand(runtime)
    _, shipment_id = order(runtime, brand.brand_id, status="attempt_failed")
    carrier = RecordingCarrier(supports_actions=False)
    with unit_of_work(runtime.sessions) as session:
        ndr = NdrService(session, runtime.settings, lambda s: carrier)
        shipment = session.get_one(Shipment, shipment_id)
        case = ndr.on_attempt_failed(shipment, Reason.COD_REFUSED, clock.now())
        ndr.choose(case, FailedDeliveryAction.REATTEMPT, clock.now())
    with runtime.sessions() as session:
        [alert] = session.scalars(select(Alert)).all()
    assert alert.title == "COD refused, needs a person: sandbox SBXG00000000000000000000"
    assert alert.details["reason"] == "cod_refused"
