"""SQLite: a receipts batch reads its shipments and their events before it takes the
database's write lock, so the other writers go on meanwhile; what another writer commits
in between is seen by the batch, not overwritten by what it read before."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select

from shipflow.store.models import OutboxMessage, Shipment, TrackingEventRow
from shipflow.store.tracking_models import WebhookReceipt
from shipflow.tracking import ingest
from shipflow.tracking.webhooks import process_due_receipts
from tests.statements import statements_sent
from tests.tracking.fake_carrier import event, payload
from tests.tracking.helpers import at, post_webhook

SHIPMENT_READ = "SELECT shipments.id, shipments.brand_id,"  # a whole row, as the ORM reads it


@pytest.fixture
def between(runtime, monkeypatch) -> list[Callable[[], None]]:
    """What to run (another writer's work, committed) once the batch has read and before it
    takes the write lock."""
    if runtime.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL reads under the shipments' row locks")
    pending: list[Callable[[], None]] = []
    take_lock = ingest.write_lock

    def interleaved(session) -> None:
        while pending:
            pending.pop(0)()
        take_lock(session)

    monkeypatch.setattr(ingest, "write_lock", interleaved)
    return pending


def state(runtime) -> tuple[dict[str, str], list[tuple[str, str, bool]], list[str]]:
    """Each shipment's status, every event (shipment, code, applied) and the outbox's topics."""
    with runtime.sessions() as session:
        statuses = {
            sid: status for sid, status in session.execute(select(Shipment.id, Shipment.status))
        }
        events = session.execute(
            select(
                TrackingEventRow.shipment_id, TrackingEventRow.raw_code, TrackingEventRow.applied
            ).order_by(TrackingEventRow.occurred_at)
        ).all()
        topics = session.scalars(select(OutboxMessage.topic).order_by(OutboxMessage.id)).all()
    return statuses, [tuple(row) for row in events], list(topics)


def test_a_later_event_stored_meanwhile_is_replayed_with_the_batch(
    client, runtime, tracked, make_shipment, clock, between
):
    parcel = make_shipment(tracked["tb"], "TN1")
    pickup = payload("TN1", event("PU", "in_transit", at(clock, -3)))
    delivery = payload("TN1", event("DL", "delivered", at(clock, -1)))
    assert post_webhook(client, tracked["tb"], pickup).status_code == 202

    def another_worker_delivers() -> None:
        assert post_webhook(client, tracked["tb"], delivery).status_code == 202
        assert process_due_receipts(runtime) == 1  # the pickup is claimed by the batch

    between.append(another_worker_delivers)
    assert process_due_receipts(runtime) == 1
    assert not between  # it ran, while the batch held no lock

    statuses, events, topics = state(runtime)
    assert statuses == {parcel: "delivered"}  # not moved back to in transit
    assert events == [(parcel, "PU", True), (parcel, "DL", True)]
    # Published once, by the other worker: the pickup came after the delivery was known.
    assert [t for t in topics if t != "shipment.delayed"] == [
        "shipment.status_changed",
        "shipment.delivered",
    ]


def test_the_same_event_stored_meanwhile_is_not_stored_or_published_again(
    client, runtime, tracked, make_shipment, clock, between
):
    parcel = make_shipment(tracked["tb"], "TN1")
    pickup = payload("TN1", event("PU", "in_transit", at(clock, -3)))
    assert post_webhook(client, tracked["tb"], pickup).status_code == 202

    def another_worker_stores_it_too() -> None:
        assert post_webhook(client, tracked["tb"], pickup).status_code == 202
        assert process_due_receipts(runtime) == 1

    between.append(another_worker_stores_it_too)
    assert process_due_receipts(runtime) == 1

    statuses, events, topics = state(runtime)
    assert statuses == {parcel: "in_transit"}
    assert events == [(parcel, "PU", True)]
    assert [t for t in topics if t != "shipment.delayed"] == [
        "shipment.status_changed",
        "shipment.shipped",
    ]


def test_a_shipment_created_meanwhile_gets_the_batch_s_events(
    client, runtime, tracked, make_shipment, clock, between
):
    first = make_shipment(tracked["tb"], "TN1")
    assert (
        post_webhook(
            client, tracked["tb"], payload("TN1", event("PU", "in_transit", at(clock, -3)))
        ).status_code
        == 202
    )
    created: list[str] = []
    between.append(lambda: created.append(make_shipment(tracked["tb"], "TN1")))

    assert process_due_receipts(runtime) == 1

    statuses, events, _ = state(runtime)
    assert statuses == {first: "in_transit", created[0]: "in_transit"}
    assert sorted(events) == sorted([(first, "PU", True), (created[0], "PU", True)])


def test_a_shipment_relabelled_meanwhile_does_not_get_the_old_number_s_events(
    client, runtime, tracked, make_shipment, clock, between
):
    parcel = make_shipment(tracked["tb"], "TN1")
    assert (
        post_webhook(
            client, tracked["tb"], payload("TN1", event("PU", "in_transit", at(clock, -3)))
        ).status_code
        == 202
    )

    def relabel() -> None:
        with runtime.sessions.begin() as session:
            session.get_one(Shipment, parcel).tracking_number = "TN9"

    between.append(relabel)
    assert process_due_receipts(runtime) == 1

    statuses, events, _ = state(runtime)
    assert statuses == {parcel: "pending"}
    assert events == []
    with runtime.sessions() as session:
        notes = session.scalars(select(WebhookReceipt.error)).all()
    assert notes == ["unknown tracking numbers: TN1"]


def test_a_shipment_moved_meanwhile_is_read_again_once(
    client, runtime, tracked, make_shipment, clock, between
):
    """Under the lock the batch reads the shipment again, then its events once the new one is
    stored: not the shipment a third time."""
    parcel = make_shipment(tracked["tb"], "TN1")
    pickup = payload("TN1", event("PU", "in_transit", at(clock, -3)))
    assert post_webhook(client, tracked["tb"], pickup).status_code == 202

    def another_worker_reschedules_its_poll() -> None:
        with runtime.sessions.begin() as session:
            session.get_one(Shipment, parcel).next_poll_at = clock.now() + timedelta(hours=5)

    between.append(another_worker_reschedules_its_poll)
    with statements_sent(runtime.engine) as statements:
        assert process_due_receipts(runtime) == 1

    moved = next(n for n, s in enumerate(statements) if s.startswith("UPDATE shipments"))
    shipment_reads = [s for s in statements[moved:] if s.startswith(SHIPMENT_READ)]
    assert len(shipment_reads) == 1  # once the other writer moved it: under the lock, once
    assert state(runtime)[0] == {parcel: "in_transit"}
