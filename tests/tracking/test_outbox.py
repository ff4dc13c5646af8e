"""The outbox dispatcher: every message handled at least once, retried with backoff."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, select

from shipflow.domain import Reason, Status
from shipflow.domain.events import (
    Delivered,
    ShipmentException,
    ShipmentStatusChanged,
    StoreWebhook,
)
from shipflow.jobs import outbox
from shipflow.jobs.outbox import claim_due, dispatch_due
from shipflow.store.db import unit_of_work
from shipflow.store.models import OutboxMessage
from shipflow.store.outbox import publish, publish_all


@pytest.fixture
def handler(runtime, monkeypatch):
    seen: list[str] = []
    failures = {"left": 0}

    def record(session, message):
        if failures["left"]:
            failures["left"] -= 1
            raise RuntimeError("SMTP server down")
        seen.append(message.dedupe_key)

    monkeypatch.setitem(runtime.reactions.outbox, Delivered.topic, record)
    return seen, failures


def delivered(runtime, tracked, shipment_id="shp_1"):
    with unit_of_work(runtime.sessions) as session:
        publish(
            session,
            Delivered(
                brand_id=tracked["tb"].id, shipment_id=shipment_id, occurred_at=runtime.clock.now()
            ),
        )


def message(runtime) -> OutboxMessage:
    with runtime.sessions() as session:
        return session.scalars(select(OutboxMessage)).one()


def test_each_message_is_handled_and_marked(runtime, tracked, handler):
    seen, _ = handler
    delivered(runtime, tracked)
    assert dispatch_due(runtime) == 1
    assert dispatch_due(runtime) == 0
    assert seen == [message(runtime).dedupe_key]
    assert message(runtime).processed_at == runtime.clock.now()


def test_messages_nothing_reacts_to_are_marked_without_being_read(
    runtime, tracked, handler, monkeypatch
):
    """A status change (no handler) is marked processed by its id; only the delivery, which
    a handler takes, is read, as a row: no `OutboxMessage` is built."""
    seen, _ = handler
    now = runtime.clock.now()
    with unit_of_work(runtime.sessions) as session:
        publish(session, Delivered(brand_id=tracked["tb"].id, shipment_id="shp_1", occurred_at=now))
        publish(
            session,
            ShipmentStatusChanged(
                brand_id=tracked["tb"].id,
                shipment_id="shp_1",
                occurred_at=now,
                status=Status.DELIVERED,
                previous=Status.OUT_FOR_DELIVERY,
            ),
        )
    read: list[str] = []
    parcels_of = outbox._parcels_of  # given every message read

    def noted(session, messages):
        read.extend(message.topic for message in messages)
        return parcels_of(session, messages)

    monkeypatch.setattr(outbox, "_parcels_of", noted)
    built: list[str] = []
    listen = (OutboxMessage, "load", lambda target, _context: built.append(target.topic))
    event.listen(*listen)
    try:
        assert dispatch_due(runtime) == 2
    finally:
        event.remove(*listen)
    assert read == [Delivered.topic]
    assert built == []
    assert len(seen) == 1
    with runtime.sessions() as session:
        assert all(m.processed_at == now for m in session.scalars(select(OutboxMessage)))


def test_a_failing_handler_is_retried_with_backoff(runtime, tracked, handler, clock):
    seen, failures = handler
    failures["left"] = 2
    delivered(runtime, tracked)

    dispatch_due(runtime)
    first = message(runtime)
    assert (first.attempts, first.processed_at) == (1, None)
    assert "SMTP server down" in first.last_error
    assert first.available_at == clock.now() + timedelta(seconds=30)
    assert dispatch_due(runtime) == 0  # not due yet

    clock.advance(timedelta(seconds=30))
    dispatch_due(runtime)
    assert message(runtime).available_at == clock.now() + timedelta(seconds=60)

    clock.advance(timedelta(seconds=60))
    dispatch_due(runtime)
    final = message(runtime)
    assert (final.attempts, final.last_error, final.processed_at) == (3, None, clock.now())
    assert seen == [final.dedupe_key]


def test_a_claim_lapses_if_the_worker_dies(runtime, tracked, handler, clock):
    delivered(runtime, tracked)
    lease = timedelta(seconds=runtime.settings.tracking.lease_seconds)
    with runtime.sessions() as session:  # a worker claims, then dies
        assert len(claim_due(session, clock.now(), lease.total_seconds(), 10)) == 1
    assert dispatch_due(runtime) == 0
    clock.advance(lease)
    assert dispatch_due(runtime) == 1
    assert handler[0] == [message(runtime).dedupe_key]


def test_handler_writes_commit_with_the_processed_mark(runtime, tracked, monkeypatch):
    from shipflow.store.models import Alert

    def raise_alert(session, message):
        session.add(
            Alert(
                brand_id=message.brand_id,
                kind="delivered",
                dedupe_key=message.dedupe_key,
                title="x",
            )
        )
        raise RuntimeError("crash after the write")

    monkeypatch.setitem(runtime.reactions.outbox, Delivered.topic, raise_alert)
    delivered(runtime, tracked)
    dispatch_due(runtime)
    with runtime.sessions() as session:
        assert session.scalars(select(Alert)).all() == []  # rolled back with the failure


def test_a_failing_message_in_a_batch_is_rolled_back_alone(runtime, tracked, monkeypatch):
    """The batch's handlers share a savepoint; one raising is retried alone, tried once, and
    the writes of the others (run again) commit once."""
    calls: list[str] = []

    def record(session, message):
        shipment_id = message.payload["shipment_id"]
        calls.append(shipment_id)
        publish(
            session,
            ShipmentException(
                brand_id=message.brand_id, shipment_id=shipment_id, occurred_at=runtime.clock.now()
            ),
        )
        if shipment_id == "shp_2":
            raise RuntimeError("shop down")

    monkeypatch.setitem(runtime.reactions.outbox, Delivered.topic, record)
    monkeypatch.delitem(runtime.reactions.outbox, ShipmentException.topic, raising=False)
    for shipment_id in ("shp_1", "shp_2", "shp_3"):
        delivered(runtime, tracked, shipment_id)
    assert dispatch_due(runtime) == 3
    assert calls.count("shp_2") == 1
    with runtime.sessions() as session:
        rows = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        by_topic = [(m.topic, m.payload["shipment_id"], m.processed_at is None) for m in rows]
    assert by_topic == [
        (Delivered.topic, "shp_1", False),
        (Delivered.topic, "shp_2", True),  # to be retried, its exception not written
        (Delivered.topic, "shp_3", False),
        (ShipmentException.topic, "shp_1", True),
        (ShipmentException.topic, "shp_3", True),
    ]
    assert "shop down" in rows[1].last_error


def test_a_batch_is_queued_in_order_with_its_payloads_and_the_clocks_time(runtime, tracked):
    """`publish_all` inserts the new messages as one statement (on PostgreSQL, one array per
    column): each as published (nested JSON too), in order; the same event again a no-op."""
    now = runtime.clock.now()
    events = [
        Delivered(brand_id=tracked["tb"].id, shipment_id="shp_1", occurred_at=now),
        ShipmentException(
            brand_id=tracked["tb"].id, shipment_id="shp_2", occurred_at=now, reason=Reason.LOST
        ),
        StoreWebhook(
            brand_id=tracked["tb"].id,
            subject_id="ret_1",
            event="return.received",
            url="https://shop.example/hooks",
            data={"lines": [{"sku": "MUG", "note": 'é ✓ "quoted"'}], "total": 12.5, "x": None},
        ),
    ]
    with unit_of_work(runtime.sessions) as session:
        assert publish_all(session, [*events, events[0]]) == 3
    with runtime.sessions() as session:
        stored = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert [(m.brand_id, m.topic, m.dedupe_key, m.payload) for m in stored] == [
        (e.brand_id, e.topic, e.key, e.payload()) for e in events
    ]
    assert {(m.created_at, m.available_at, m.attempts) for m in stored} == {(now, now, 0)}


def test_a_run_takes_a_larger_batch_on_postgresql(runtime, tracked):
    """A receipts batch's messages (400 events, two or three messages each) in one run on
    PostgreSQL; SQLite's runs stay at 500 (a run holds the web's write lock)."""
    statuses = [
        ShipmentStatusChanged(
            brand_id=tracked["tb"].id,
            shipment_id=f"shp_{n}",
            occurred_at=runtime.clock.now(),
            previous=Status.INFO_RECEIVED,
            status=Status.IN_TRANSIT,
        )
        for n in range(600)
    ]
    with unit_of_work(runtime.sessions) as session:
        assert publish_all(session, statuses) == 600
    batch = 500 if runtime.engine.dialect.name == "sqlite" else 600
    assert dispatch_due(runtime) == batch
