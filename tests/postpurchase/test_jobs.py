"""Customer milestone messages from tracking events, and the periodic post-purchase jobs."""

from __future__ import annotations

import logging
from datetime import date, timedelta

from sqlalchemy import event, select
from sqlalchemy.orm import Session

import shipflow.jobs.postpurchase as jobs
from shipflow import customer_messages as customer
from shipflow import shipment_links
from shipflow.carrier_accounts import CarrierFactory
from shipflow.domain import Reason
from shipflow.domain.events import (
    Delivered,
    DeliveryAttemptFailed,
    ShipmentDelayed,
    ShipmentShipped,
)
from shipflow.jobs.outbox import dispatch_due
from shipflow.notify.templates import Milestone
from shipflow.store.db import unit_of_work
from shipflow.store.models import Brand, Order, Shipment
from shipflow.store.outbox import publish
from shipflow.store.postpurchase_models import CustomerMessageRow, NdrCaseRow
from shipflow.update_subscriptions import subscribe
from tests.fakes import RecordingCarrier
from tests.postpurchase.factories import demo_brand, order
from tests.statements import statements_sent


def published(runtime, event) -> None:
    with unit_of_work(runtime.sessions) as session:
        publish(session, event)
    while dispatch_due(runtime):
        pass


def bodies(runtime) -> dict[str, CustomerMessageRow]:
    with runtime.sessions() as session:
        return {m.milestone: m for m in session.scalars(select(CustomerMessageRow))}


def test_shipped_and_delayed_messages_carry_link_and_date_in_the_customers_language(runtime, clock):
    brand = demo_brand(runtime)
    _, shipment_id = order(runtime, brand.brand_id, status="in_transit", language="ja")
    common = {"brand_id": brand.brand_id, "shipment_id": shipment_id}
    published(
        runtime,
        ShipmentShipped(**common, occurred_at=clock.now(), predicted_date=date(2026, 11, 27)),
    )
    published(
        runtime,
        ShipmentDelayed(
            **common,
            occurred_at=clock.now() + timedelta(days=2),
            promised_date=date(2026, 11, 27),
            predicted_date=date(2026, 12, 1),
        ),
    )
    messages = bodies(runtime)
    assert messages["shipped"].language == "ja"
    assert "2026年11月27日(金)" in messages["shipped"].body
    assert "/t/northwind/" in messages["shipped"].body
    assert "2026年12月1日(火)" in messages["delayed"].body


def test_a_milestone_message_and_its_tracking_token_are_worded_as_they_always_were(runtime, clock):
    """Golden: the message a shipped milestone queues, field by field, its tracking link's
    token byte for byte (links already sent keep working; the token is signed at the
    runtime's clock)."""
    brand = demo_brand(runtime)
    _, shipment_id = order(runtime, brand.brand_id, status="in_transit")
    at = {"occurred_at": clock.now(), "predicted_date": date(2026, 11, 27)}
    published(runtime, ShipmentShipped(brand_id=brand.brand_id, shipment_id=shipment_id, **at))
    golden = shipment_links.make_token(runtime, "tracking", "northwind", "shp_golden")
    assert golden == (
        "eyJiIjoibm9ydGh3aW5kIiwicyI6InNocF9nb2xkZW4ifQ.awRU8A.-OsNhRvTBetavjmw0fbDztRs2dE"
    )
    assert shipment_links.read_token(runtime, "tracking", "northwind", golden) == "shp_golden"
    message = bodies(runtime)["shipped"]
    fields = (message.channel, message.recipient, message.language, message.key, message.subject)
    assert fields == (
        "email",
        "parisa@example.com",
        "en",
        f"msg:{shipment_id}:shipped:email",
        "Your Northwind Outfitters order NW-1001 is on its way",
    )
    token = shipment_links.make_token(runtime, "tracking", "northwind", shipment_id)
    assert message.body == (
        "Good news: your order has shipped. It should arrive by Fri, Nov 27, 2026.\n"
        f"Track it: http://127.0.0.1:8000/t/northwind/{token}"
    )


def test_a_delay_still_within_the_promise_is_not_news_for_the_customer(runtime, clock):
    brand = demo_brand(runtime)
    _, shipment_id = order(runtime, brand.brand_id, status="info_received")
    published(
        runtime,
        ShipmentDelayed(
            brand_id=brand.brand_id,
            shipment_id=shipment_id,
            occurred_at=clock.now(),
            promised_date=date(2026, 12, 2),
            predicted_date=date(2026, 11, 30),
            why="not picked up by the next working day",
        ),
    )
    assert bodies(runtime) == {}


def test_events_for_unknown_or_foreign_shipments_are_ignored(runtime, clock, brands):
    brand = demo_brand(runtime)
    _, shipment_id = order(runtime, brand.brand_id)
    for brand_id, target in ((brand.brand_id, "shp_gone"), (brands["b"]["id"], shipment_id)):
        published(
            runtime, ShipmentShipped(brand_id=brand_id, shipment_id=target, occurred_at=clock.now())
        )
    assert bodies(runtime) == {}


def test_messages_job_sends_due_messages_to_the_log_without_smtp(runtime, clock, caplog):
    brand = demo_brand(runtime)
    _, shipment_id = order(runtime, brand.brand_id, status="in_transit")
    published(
        runtime,
        ShipmentShipped(brand_id=brand.brand_id, shipment_id=shipment_id, occurred_at=clock.now()),
    )
    clock.advance(timedelta(hours=14))  # past the customer's quiet hours
    with caplog.at_level(logging.INFO, logger="shipflow.messages"):
        assert jobs.deliver_messages(runtime) == 1
    assert "parisa@example.com" in caplog.text and "is on its way" in caplog.text
    assert jobs.deliver_messages(runtime) == 0
    assert bodies(runtime)["shipped"].status == "sent"


def test_follow_up_job_reminds_then_hands_over_to_ops(runtime, clock, monkeypatch):
    monkeypatch.setattr(CarrierFactory, "of_shipment", lambda *a: RecordingCarrier())
    brand = demo_brand(runtime)
    _, shipment_id = order(runtime, brand.brand_id, status="attempt_failed")
    with runtime.sessions() as session:
        jobs.ndr_service(runtime, session).on_attempt_failed(
            session.get(Shipment, shipment_id), Reason.REFUSED, clock.now()
        )
        session.commit()
    assert jobs.follow_up_failed_deliveries(runtime) == 0
    moved = []
    for _ in range(3):
        clock.advance(timedelta(hours=25))
        moved.append(jobs.follow_up_failed_deliveries(runtime))
    assert moved == [1, 1, 1]
    with runtime.sessions() as session:
        reminders = session.scalars(
            select(CustomerMessageRow.key).where(CustomerMessageRow.milestone == "attempt_failed")
        ).all()
        assert len(reminders) == 3
        assert session.scalar(select(NdrCaseRow.state)) == "ops_task"


def _publish_shipped(
    runtime, clock, parcels: int, first: int, milestone: type = ShipmentShipped
) -> list[str]:
    """`parcels` shipped (or `milestone`) milestones, each parcel with a tracking-page
    subscriber too; their shipment ids."""
    brand = demo_brand(runtime)
    shipment_ids = []
    for n in range(first, first + parcels):
        _, shipment_id = order(
            runtime,
            brand.brand_id,
            number=f"NW-{n}",
            status="delivered" if milestone is Delivered else "in_transit",
            tracking_number=f"SBXG{n:020d}",
        )
        shipment_ids.append(shipment_id)
        with unit_of_work(runtime.sessions) as session:
            shipment = session.get_one(Shipment, shipment_id)
            subscribe(session, shipment, "email", f"friend{n}@example.com", "en", clock.now())
            publish(
                session,
                milestone(
                    brand_id=brand.brand_id, shipment_id=shipment_id, occurred_at=clock.now()
                ),
            )
    return shipment_ids


def _milestone_statements(
    runtime, clock, parcels: int, first: int, milestone: type = ShipmentShipped
) -> list[str]:
    """What the dispatcher runs for `parcels` shipped (or `milestone`) milestones (each
    customer told, and a tracking-page subscriber of each parcel too)."""
    _publish_shipped(runtime, clock, parcels, first, milestone)
    with statements_sent(runtime.engine) as statements:
        assert dispatch_due(runtime) == parcels
    return statements


def test_the_handlers_take_the_batchs_shipments_without_a_look_up_each(runtime, clock, monkeypatch):
    """A milestone's two handlers (the customer's message, the shop's write-back) find the
    shipment among those the dispatcher loaded for the batch, not by `session.get` each."""
    _publish_shipped(runtime, clock, 3, first=1)
    asked: list[type] = []
    get = Session.get

    def noted(self, entity, ident, **options):
        asked.append(entity)
        return get(self, entity, ident, **options)

    monkeypatch.setattr(Session, "get", noted)
    assert dispatch_due(runtime) == 3
    assert Shipment not in asked
    with runtime.sessions() as session:  # each customer and each subscriber told
        assert len(session.scalars(select(CustomerMessageRow.id)).all()) == 6


def test_milestones_of_orders_from_no_shop_build_no_shipment_or_order(runtime, clock):
    """The customer's message and the shop's write-back read each parcel as the row the
    dispatcher selected with its batch (`store.outbox.Parcel`): no ORM object is built for
    a shipment or an order (each took about 40 us, the row 12)."""
    _publish_shipped(runtime, clock, 3, first=1)
    built: list[str] = []
    listens = [
        (model, "load", lambda target, _context: built.append(type(target).__name__))
        for model in (Shipment, Order)
    ]
    for listen in listens:
        event.listen(*listen)
    try:
        assert dispatch_due(runtime) == 3
    finally:
        for listen in listens:
            event.remove(*listen)
    assert built == []
    with runtime.sessions() as session:  # each customer and each subscriber told
        assert len(session.scalars(select(CustomerMessageRow.id)).all()) == 6


def test_milestone_messages_are_queued_in_a_constant_number_of_statements(runtime, clock):
    few = _milestone_statements(runtime, clock, 3, first=1)
    many = _milestone_statements(runtime, clock, 30, first=100)
    assert len(many) == len(few)
    queued = [s.split()[0] for s in many if "customer_messages" in s]
    assert queued == ["SELECT", "INSERT"]  # the keys stored for the batch's parcels, the rows
    # The rows named before the insert, which is one statement on PostgreSQL (one JSON
    # document), one executemany of a one-row INSERT elsewhere: no RETURNING, no VALUES list.
    insert = next(s for s in many if s.startswith("INSERT INTO customer_messages"))
    assert "RETURNING" not in insert and "), (" not in insert
    postgres = runtime.engine.dialect.name == "postgresql"
    assert ("json_to_recordset" in insert) is postgres
    assert [s.split()[0] for s in many if "update_subscriptions" in s] == ["SELECT"]
    assert sum(s.startswith("SAVEPOINT") for s in many) == 1
    # The orders read with the batch's shipments: not the JSON columns no handler reads.
    read = next(s for s in many if s.startswith("SELECT shipments.") and "JOIN orders" in s)
    assert ".ship_to" in read and ".source_details" not in read
    with runtime.sessions() as session:
        recipients = session.scalars(select(CustomerMessageRow.recipient)).all()
    assert len(recipients) == 2 * 33 and "friend129@example.com" in recipients


def test_deliveries_ask_for_their_failed_delivery_cases_once_a_batch(runtime, clock):
    """Each delivery closes its parcel's failed-delivery case, if it has one: the batch's
    cases are read in one query, not one a delivery."""
    few = _milestone_statements(runtime, clock, 3, first=1, milestone=Delivered)
    many = _milestone_statements(runtime, clock, 30, first=100, milestone=Delivered)
    assert len(many) == len(few)
    assert sum("FROM ndr_cases" in s for s in many) == 1


def test_the_cases_read_ahead_see_what_their_batch_opens_and_closes(runtime, clock, monkeypatch):
    """In one batch: a parcel's two failed attempts count on one case (the first opens it),
    a delivery closes the case its parcel had before, a delivery without one opens none."""
    monkeypatch.setattr(CarrierFactory, "of_shipment", lambda *a: RecordingCarrier())
    brand = demo_brand(runtime)
    failing, delivered, plain = (
        order(runtime, brand.brand_id, number=f"NW-{n}", tracking_number=f"SBXG{n:020d}", status=s)[
            1
        ]
        for n, s in ((1, "attempt_failed"), (2, "delivered"), (3, "delivered"))
    )
    with unit_of_work(runtime.sessions) as session:
        jobs.ndr_service(runtime, session).on_attempt_failed(
            session.get_one(Shipment, delivered), Reason.REFUSED, clock.now()
        )
    common = {"brand_id": brand.brand_id, "reason": Reason.CUSTOMER_UNAVAILABLE}
    attempts = [
        DeliveryAttemptFailed(
            **common, shipment_id=failing, occurred_at=clock.now() + timedelta(hours=h)
        )
        for h in (1, 2)
    ]
    deliveries = [
        Delivered(brand_id=brand.brand_id, shipment_id=s, occurred_at=clock.now())
        for s in (delivered, plain)
    ]
    with unit_of_work(runtime.sessions) as session:
        for milestone in attempts + deliveries:
            publish(session, milestone)
    assert dispatch_due(runtime) == 4
    with runtime.sessions() as session:
        cases = {row.shipment_id: row for row in session.scalars(select(NdrCaseRow))}
    assert sorted(cases) == sorted([failing, delivered])
    assert cases[failing].attempts == 2
    assert (cases[delivered].state, cases[delivered].attempts) == ("resolved", 1)


def test_a_failing_handler_queues_no_customer_message_and_the_others_queue_theirs_once(
    runtime, clock, monkeypatch
):
    """The messages a batch queues go in together at its end (`customer_messages.staged`):
    those of a handler that raised are rolled back with its savepoint, the others' once."""
    brand = demo_brand(runtime)
    shipments = [
        order(
            runtime,
            brand.brand_id,
            number=f"NW-{n}",
            tracking_number=f"SBXG{n:020d}",
            status="in_transit",
        )[1]
        for n in (1, 2, 3)
    ]
    tell = runtime.reactions.outbox[ShipmentShipped.topic]

    def tell_then_fail_for_the_second(session, message):
        tell(session, message)
        if message.payload["shipment_id"] == shipments[1]:
            raise RuntimeError("shop down")

    monkeypatch.setitem(
        runtime.reactions.outbox, ShipmentShipped.topic, tell_then_fail_for_the_second
    )
    with unit_of_work(runtime.sessions) as session:
        for shipment_id in shipments:
            event = ShipmentShipped(
                brand_id=brand.brand_id, shipment_id=shipment_id, occurred_at=clock.now()
            )
            publish(session, event)
    assert dispatch_due(runtime) == 3
    with runtime.sessions() as session:
        queued = session.scalars(select(CustomerMessageRow.shipment_id)).all()
    assert sorted(queued) == sorted([shipments[0], shipments[2]])


def test_a_message_staged_twice_is_queued_once(runtime, clock):
    """A message about no shipment read ahead is deduped against those staged, not yet
    inserted, as well as against those stored."""
    brand = demo_brand(runtime)
    order_id, _ = order(runtime, brand.brand_id, status="in_transit")
    with unit_of_work(runtime.sessions) as session:
        with customer.staged(session):
            ids = [
                customer.queue(
                    session,
                    brand=session.get_one(Brand, brand.brand_id),
                    order=session.get_one(Order, order_id),
                    milestone=Milestone.REFUND_ISSUED,
                    context={"amount": "$5.00"},
                    now=clock.now(),
                    customer_zone="America/New_York",
                    settings=runtime.settings,
                )
                for _ in range(2)
            ]
        assert ids[0] is not None and ids[1] is None
    with runtime.sessions() as session:
        stored = session.scalars(select(CustomerMessageRow.id)).all()
    assert stored == [ids[0]]


def test_each_parcel_of_an_order_in_several_is_named_in_its_message(runtime, clock):
    """Parcels 1 and 3 of an order in three (and a return, which is not counted) shipped in
    one outbox batch: each message says which parcel it is about, parcel 2 counted though
    no message of the batch is about it."""
    brand = demo_brand(runtime)
    order_id, first = order(runtime, brand.brand_id, status="in_transit")
    with unit_of_work(runtime.sessions) as session:
        later = [
            Shipment(
                brand_id=brand.brand_id,
                order_id=order_id,
                kind=kind,
                carrier="sandbox",
                tracking_number=f"SBXG{n}",
                status="in_transit",
                created_at=clock.now() + timedelta(minutes=n),
            )
            for n, kind in enumerate(["forward", "return", "forward"], start=1)
        ]
        session.add_all(later)
        session.flush()
        third = later[2].id
        for shipment_id in (first, third):
            publish(
                session,
                ShipmentShipped(
                    brand_id=brand.brand_id, shipment_id=shipment_id, occurred_at=clock.now()
                ),
            )
    assert dispatch_due(runtime) == 2
    with runtime.sessions() as session:
        sent = {m.shipment_id: m.body for m in session.scalars(select(CustomerMessageRow))}
    assert sent[first].startswith("Parcel 1 of 3: ")
    assert sent[third].startswith("Parcel 3 of 3: ")
