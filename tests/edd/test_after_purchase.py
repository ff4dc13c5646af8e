"""The promise at shipment creation and the predictions the tracking pipeline revises."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from shipflow.brands import sync_brands
from shipflow.domain import Status, TrackingEvent
from shipflow.edd.backlog import Backlog
from shipflow.orders import LineInput, create_order
from shipflow.store.db import unit_of_work
from shipflow.store.edd_models import BacklogCountRow, DeliveryHistoryRow, PredictionRevision
from shipflow.store.models import Shipment
from tests.edd.factories import sandbox_parcel

PLACED = datetime(2026, 11, 23, 15, tzinfo=UTC)  # Monday, before EWR's 14:00 New York cut-off


@pytest.fixture
def session(runtime):
    with unit_of_work(runtime.sessions) as session:
        brand = sync_brands(session, runtime.settings)[0]
        order = create_order(
            session,
            brand.id,
            order_number="1001",
            ship_to={"country": "US", "postal_code": "60601", "city": "Chicago"},
            currency="USD",
            lines=[LineInput("MUG", 1)],
            placed_at=PLACED,
        )
        session.flush()
        session.add(
            Shipment(
                brand_id=brand.id,
                order=order,
                carrier="sandbox",
                service="ground",
                warehouse_code="EWR",
            )
        )
        session.flush()
        yield session


def shipment(session) -> Shipment:
    return session.scalar(select(Shipment))


def revisions(session) -> list[tuple[date, str]]:
    rows = session.scalars(select(PredictionRevision).order_by(PredictionRevision.id))
    return [(r.predicted_date, r.basis) for r in rows]


def event(status: Status, at: datetime, **where) -> TrackingEvent:
    return TrackingEvent(status, at, status.value, **where)


def promise(runtime, session, ship):
    return runtime.edd.promise_shipments(session, [ship], PLACED)[ship.id]


def test_promise_is_stored_on_shipment_and_order(runtime, session):
    ship = shipment(session)
    promised = promise(runtime, session, ship)
    assert promised.ok and promised.promised >= promised.most_likely > PLACED.date()
    assert ship.promised_date == ship.order.promised_date == promised.promised
    assert ship.predicted_date == promised.most_likely
    assert revisions(session) == [(promised.most_likely, "at purchase")]


def test_a_promise_is_never_silently_changed(runtime, session):
    ship = shipment(session)
    ship.promised_date = ship.order.promised_date = date(2026, 12, 24)
    promise(runtime, session, ship)
    assert ship.promised_date == ship.order.promised_date == date(2026, 12, 24)


def revise(runtime, session, ship, events):
    return runtime.edd.revise_shipments(session, [(ship, events)])[ship.id]


def test_revisions_follow_events_and_keep_the_promise(runtime, session):
    ship = shipment(session)
    promised = promise(runtime, session, ship)
    events = [event(Status.IN_TRANSIT, datetime(2026, 11, 23, 22, tzinfo=UTC))]
    revise(runtime, session, ship, events)
    events.append(event(Status.OUT_FOR_DELIVERY, datetime(2026, 11, 30, 15, tzinfo=UTC)))
    assert revise(runtime, session, ship, events) == date(2026, 11, 30)
    history = revisions(session)
    assert history[0] == (promised.most_likely, "at purchase")
    assert history[-1] == (date(2026, 11, 30), "out for delivery")
    assert ship.predicted_date == date(2026, 11, 30)
    assert ship.promised_date == ship.order.promised_date == promised.promised


def test_unchanged_prediction_adds_no_revision(runtime, session):
    ship = shipment(session)
    promise(runtime, session, ship)
    events = [event(Status.OUT_FOR_DELIVERY, datetime(2026, 11, 30, 15, tzinfo=UTC))]
    revise(runtime, session, ship, events)
    revise(runtime, session, ship, events)
    assert len(revisions(session)) == 2


def test_a_delivered_shipment_joins_the_history(runtime, session):
    ship = shipment(session)
    promise(runtime, session, ship)
    events = [
        event(Status.IN_TRANSIT, datetime(2026, 11, 23, 22, tzinfo=UTC)),
        event(Status.DELIVERED, datetime(2026, 11, 25, 18, tzinfo=UTC), postal_code="60601"),
    ]
    for _ in range(2):
        assert revise(runtime, session, ship, events) == date(2026, 11, 25)
    (row,) = session.scalars(select(DeliveryHistoryRow)).all()
    assert (row.source, row.shipper_id, row.origin_postal_code) == ("tracked", "EWR", "08817")
    assert row.delivered_at == datetime(2026, 11, 25, 18, tzinfo=UTC)
    assert row.handed_to_carrier_at == datetime(2026, 11, 23, 22, tzinfo=UTC)


def test_shipment_without_what_quoting_needs_keeps_its_prediction(runtime, session):
    ship = shipment(session)
    ship.warehouse_code = "NOWHERE"
    assert promise(runtime, session, ship) is None
    assert revise(runtime, session, ship, [event(Status.IN_TRANSIT, PLACED)]) is None
    assert ship.promised_date is None and revisions(session) == []


def test_the_promise_at_purchase_is_not_stretched_before_the_job_has_counted(runtime, session):
    """A batch of promises no longer counts the brand's backlog itself (months of shipments
    scanned on the order's path) while the job has stored no counts."""
    ship = shipment(session)
    day = timedelta(days=1)
    # 400 parcels waiting against 50 delivered in the week in 2 days: 1.5 times once counted
    session.add_all(
        [sandbox_parcel(ship.brand_id, PLACED - (1 + i % 5) * day, None) for i in range(400)]
        + [
            sandbox_parcel(ship.brand_id, PLACED - (5 + i % 7) * day, PLACED - (3 + i % 7) * day)
            for i in range(70)
        ]
    )
    session.flush()
    # no history: the distance prior's days to Chicago
    assert promise(runtime, session, ship).promised == date(2026, 12, 3)


def test_the_promise_at_purchase_reads_the_backlog_counts_the_job_stored(runtime, session):
    ship = shipment(session)
    # what the 400 parcels above count to, with no shipment behind it: 1.5 times as many days
    backlog = Backlog(in_flight=400.0, delivered=50, usual_days=2.0, window_days=5.0)
    counts = {"sandbox:ground": asdict(backlog)}
    session.add(BacklogCountRow(brand_id=ship.brand_id, counted_at=PLACED, services=counts))
    session.flush()
    assert promise(runtime, session, ship).promised == date(2026, 12, 9)
