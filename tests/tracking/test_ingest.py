"""ingest(): one row per event whatever the path, status by replay, outbox in the same
transaction."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from shipflow.domain import Reason, Status, TrackingEvent, TrackingUpdate
from shipflow.store.db import unit_of_work
from shipflow.store.models import OutboxMessage, Shipment, TrackingEventRow
from shipflow.tracking.ingest import ingest
from tests.statements import statements_sent

T0 = datetime(2026, 11, 20, 9, tzinfo=UTC)


def ev(status: Status, hours: float, code: str | None = None, **kw) -> TrackingEvent:
    return TrackingEvent(
        status=status, occurred_at=T0 + timedelta(hours=hours), raw_code=code or status.value, **kw
    )


def update(*events: TrackingEvent) -> TrackingUpdate:
    return TrackingUpdate(carrier="fake", tracking_number="TN1", events=events)


@pytest.fixture
def shipment_id(tracked, make_shipment):
    return make_shipment(tracked["tb"], "TN1")


@pytest.fixture
def feed(runtime, shipment_id):
    """Ingest updates, each in its own transaction like the real callers."""

    def feed_(*updates: TrackingUpdate, source: str = "webhook"):
        results = []
        for one in updates:
            with unit_of_work(runtime.sessions) as session:
                shipment = session.get(Shipment, shipment_id)
                results.append(
                    ingest(
                        session,
                        shipment,
                        one,
                        source,
                        runtime.clock.now(),
                        runtime.reactions.in_transaction,
                    )
                )
        return results

    return feed_


def stored(runtime, shipment_id):
    with runtime.sessions() as session:
        shipment = session.get(Shipment, shipment_id)
        rows = session.scalars(
            select(TrackingEventRow)
            .where(TrackingEventRow.shipment_id == shipment_id)
            .order_by(TrackingEventRow.occurred_at)
        ).all()
        topics = session.scalars(select(OutboxMessage.topic).order_by(OutboxMessage.id)).all()
        return shipment, rows, topics


def test_same_event_by_webhook_and_poll_is_one_row(runtime, feed, shipment_id):
    picked_up = ev(Status.IN_TRANSIT, 0, "PU")
    first, second = feed(update(picked_up), update(picked_up), source="webhook")
    (polled,) = feed(update(picked_up), source="poll")
    shipment, rows, topics = stored(runtime, shipment_id)
    assert (first.added, second.added, polled.added) == (1, 0, 0)
    assert [(r.raw_code, r.source) for r in rows] == [("PU", "webhook")]
    milestones = [t for t in topics if t != "shipment.delayed"]  # the test parcel is late
    assert milestones == ["shipment.status_changed", "shipment.shipped"]  # published once


def test_same_event_in_another_time_zone_is_still_one_row(runtime, feed, shipment_id):
    from zoneinfo import ZoneInfo

    utc = ev(Status.IN_TRANSIT, 0, "PU")
    local = TrackingEvent(
        Status.IN_TRANSIT, utc.occurred_at.astimezone(ZoneInfo("Asia/Tokyo")), "PU"
    )
    feed(update(utc), update(local))
    assert len(stored(runtime, shipment_id)[1]) == 1


def test_out_of_order_events_replay_in_carrier_time(runtime, feed, shipment_id):
    feed(update(ev(Status.OUT_FOR_DELIVERY, 20)))
    feed(update(ev(Status.INFO_RECEIVED, -5)), update(ev(Status.IN_TRANSIT, 2)))
    shipment, rows, _ = stored(runtime, shipment_id)
    assert shipment.status == Status.OUT_FOR_DELIVERY
    assert [r.status for r in rows] == ["info_received", "in_transit", "out_for_delivery"]
    assert all(r.applied for r in rows)
    assert shipment.shipped_at == T0 + timedelta(hours=2)  # the earlier scan, learnt late
    assert shipment.last_event_at == T0 + timedelta(hours=20)


def test_late_scan_after_delivery_is_kept_but_not_applied(runtime, feed, shipment_id):
    feed(update(ev(Status.IN_TRANSIT, 0), ev(Status.DELIVERED, 30)))
    (late,) = feed(update(ev(Status.IN_TRANSIT, 31, "DEPART")))
    shipment, rows, topics = stored(runtime, shipment_id)
    assert late.added == 1 and not late.changed
    assert shipment.status == Status.DELIVERED
    assert shipment.delivered_at == T0 + timedelta(hours=30)
    assert shipment.next_poll_at is not None  # ingest leaves scheduling to its callers
    assert [(r.raw_code, r.applied) for r in rows] == [
        ("in_transit", True),
        ("delivered", True),
        ("DEPART", False),
    ]
    assert topics.count("shipment.delivered") == 1


def test_status_change_publishes_status_changed_and_milestone(runtime, feed, shipment_id):
    feed(update(ev(Status.IN_TRANSIT, 0)))
    feed(update(ev(Status.ATTEMPT_FAILED, 5, "NA", reason=Reason.CUSTOMER_UNAVAILABLE)))
    shipment, _, topics = stored(runtime, shipment_id)
    assert shipment.status == Status.ATTEMPT_FAILED
    assert shipment.status_reason == "customer_unavailable"
    assert topics[-2:] == ["shipment.status_changed", "shipment.attempt_failed"]
    with runtime.sessions() as session:
        failed = session.scalar(
            select(OutboxMessage).where(OutboxMessage.topic == "shipment.attempt_failed")
        )
    assert failed.payload["reason"] == "customer_unavailable"
    assert failed.payload["shipment_id"] == shipment_id


def test_each_milestone_one_update_crosses_is_published_in_carrier_time(runtime, feed, shipment_id):
    feed(update(ev(Status.IN_TRANSIT, 0)))
    # scanned out for delivery and delivered in the same second, sent in one payload
    (result,) = feed(update(ev(Status.OUT_FOR_DELIVERY, 20, "OF"), ev(Status.DELIVERED, 20, "FS")))
    assert (result.previous, result.status) == (Status.IN_TRANSIT, Status.DELIVERED)
    with runtime.sessions() as session:
        rows = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    changes = [r.payload for r in rows if r.topic == "shipment.status_changed"]
    assert [(c["previous"], c["status"], c["details"]["raw_code"]) for c in changes] == [
        ("pending", "in_transit", "in_transit"),
        ("in_transit", "out_for_delivery", "OF"),
        ("out_for_delivery", "delivered", "FS"),
    ]
    milestones = [
        r.topic for r in rows if r.topic not in ("shipment.status_changed", "shipment.delayed")
    ]
    assert milestones == ["shipment.shipped", "shipment.out_for_delivery", "shipment.delivered"]
    assert {r.payload["occurred_at"] for r in rows[-4:]} == {"2026-11-21T05:00:00+00:00"}


def _poll_in_transit(runtime, session, shipment) -> None:
    """A poll that finds the parcel in transit, ingested inside the caller's transaction."""
    ingest(
        session,
        shipment,
        update(ev(Status.IN_TRANSIT, 0)),
        "poll",
        runtime.clock.now(),
        runtime.reactions.in_transaction,
    )


def test_outbox_rolls_back_with_the_events(runtime, shipment_id):
    with pytest.raises(RuntimeError), unit_of_work(runtime.sessions) as session:
        shipment = session.get(Shipment, shipment_id)
        _poll_in_transit(runtime, session, shipment)
        raise RuntimeError("crash before commit")
    with runtime.sessions() as session:
        assert session.scalar(select(func.count(OutboxMessage.id))) == 0
        assert session.scalar(select(func.count(TrackingEventRow.id))) == 0
        assert session.get(Shipment, shipment_id).status == Status.PENDING


def test_carrier_estimate_becomes_the_prediction_until_delivered(runtime, feed, shipment_id):
    estimate = datetime(2026, 11, 25, 18, tzinfo=UTC)
    feed(
        TrackingUpdate(
            "fake", "TN1", events=(ev(Status.IN_TRANSIT, 0),), estimated_delivery=estimate
        )
    )
    assert stored(runtime, shipment_id)[0].predicted_date.isoformat() == "2026-11-25"
    feed(update(ev(Status.DELIVERED, 40)))
    assert stored(runtime, shipment_id)[0].predicted_date.isoformat() == "2026-11-22"


def test_carrier_estimate_is_kept_beside_our_prediction(runtime, feed, shipment_id):
    """Kuaidi100's arrival time or 17TRACK's window: stored as the carrier's, and a newer
    estimate replaces it even when it brings no new event."""
    first = datetime(2026, 11, 25, 18, tzinfo=UTC)
    feed(TrackingUpdate("fake", "TN1", (ev(Status.IN_TRANSIT, 0),), estimated_delivery=first))
    assert stored(runtime, shipment_id)[0].carrier_estimated_delivery == first
    later = datetime(2026, 11, 26, 10, tzinfo=UTC)
    feed(TrackingUpdate("fake", "TN1", (ev(Status.IN_TRANSIT, 0),), estimated_delivery=later))
    assert stored(runtime, shipment_id)[0].carrier_estimated_delivery == later
    feed(update(ev(Status.IN_TRANSIT, 5)))  # no estimate this time: the last one stays
    assert stored(runtime, shipment_id)[0].carrier_estimated_delivery == later


def test_poll_racing_a_webhook_for_one_scan_stores_it_once_and_keeps_the_batch(
    runtime, tracked, shipment_id, make_shipment
):
    """A webhook and a poll ingest the same scan at the same moment, in real threads: the
    poll's transaction neither fails nor drops the rest of its batch, and it judges the
    status change from what the webhook committed, not from what it read before."""
    import threading

    other_id = make_shipment(tracked["tb"], "TN2")
    picked_up, departed = ev(Status.IN_TRANSIT, 0, "PU"), ev(Status.IN_TRANSIT, 1, "DP")
    now = runtime.clock.now()
    webhook = runtime.sessions()
    ingest(
        webhook,
        webhook.get(Shipment, shipment_id),
        update(picked_up),
        "webhook",
        now,
        runtime.reactions.in_transaction,
    )
    results, errors = [], []

    def poll_at_the_same_moment():
        try:
            with unit_of_work(runtime.sessions) as poll:
                for shipment, events in ((shipment_id, (picked_up, departed)), (other_id, ())):
                    row = poll.get(Shipment, shipment)
                    polled = TrackingUpdate("fake", row.tracking_number, events or (picked_up,))
                    results.append(
                        ingest(poll, row, polled, "poll", now, runtime.reactions.in_transaction)
                    )
        except Exception as exc:  # noqa: BLE001 - the assertion below shows it
            errors.append(exc)

    racer = threading.Thread(target=poll_at_the_same_moment)
    racer.start()
    racer.join(0.5)
    assert racer.is_alive()  # waiting for the webhook's transaction (row lock / write lock)
    webhook.commit()
    webhook.close()
    racer.join(10)
    assert errors == []
    assert [(r.added, r.changed) for r in results] == [(1, False), (1, True)]
    shipment, rows, topics = stored(runtime, shipment_id)
    assert [(r.raw_code, r.source) for r in rows] == [("PU", "webhook"), ("DP", "poll")]
    other, other_rows, _ = stored(runtime, other_id)
    assert [r.source for r in other_rows] == ["poll"]
    assert shipment.status == other.status == Status.IN_TRANSIT


def test_the_shipment_is_read_once_under_its_lock(runtime, shipment_id):
    """Its row's lock on PostgreSQL, the database's on SQLite: then not again after the insert."""
    with unit_of_work(runtime.sessions) as session:
        shipment = session.get(Shipment, shipment_id)
        with statements_sent(runtime.engine) as statements:
            _poll_in_transit(runtime, session, shipment)
        assert shipment.status == "in_transit"  # expired by the ingest: its row read again
    reads = [s for s in statements if s.startswith("SELECT shipments.id, shipments.brand_id,")]
    assert len(reads) == 1
