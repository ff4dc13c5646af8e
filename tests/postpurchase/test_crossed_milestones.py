"""A carrier payload that crosses several milestones at once (UPS's track response of a
parcel out for delivery, missed and delivered the next day): each milestone reaches the
outbox in carrier time, and the customer, whose parcel is delivered by then, hears of the
delivery only: no "out for delivery" e-mail beside it, no failed-delivery case."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from carriers.ups import mapping
from shipflow.jobs.outbox import dispatch_due
from shipflow.store.db import unit_of_work
from shipflow.store.models import OutboxMessage, Shipment
from shipflow.store.postpurchase_models import CustomerMessageRow, NdrCaseRow
from shipflow.tracking.ingest import ingest
from tests.carriers.carrier_contract import fixture
from tests.postpurchase.factories import demo_brand, order


def test_a_delivered_parcels_earlier_milestones_are_published_but_not_sent_to_the_customer(
    runtime, clock
):
    clock.current = datetime(2026, 11, 24, 20, tzinfo=UTC)  # UPS delivered it at 19:30 UTC
    brand = demo_brand(runtime)
    [update] = mapping.parse_track_response(fixture("ups", "track_delivered"))
    _, shipment_id = order(
        runtime, brand.brand_id, status="in_transit", tracking_number=update.tracking_number
    )
    with unit_of_work(runtime.sessions) as session:
        shipment = session.get_one(Shipment, shipment_id)
        ingest(session, shipment, update, "poll", clock.now(), runtime.reactions.in_transaction)
    while dispatch_due(runtime):
        pass

    with runtime.sessions() as session:
        outbox = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        customer = session.scalars(select(CustomerMessageRow.milestone)).all()
        cases = session.scalars(select(NdrCaseRow)).all()
    milestones = [
        (m.topic, m.payload["occurred_at"])
        for m in outbox
        if m.topic not in ("shipment.status_changed", "shipment.delayed")
    ]
    assert milestones == [
        ("shipment.out_for_delivery", "2026-11-23T13:10:00+00:00"),
        ("shipment.attempt_failed", "2026-11-23T21:15:00+00:00"),
        ("shipment.delivered", "2026-11-24T19:30:00+00:00"),
    ]
    assert [(m.topic, m.last_error) for m in outbox if m.processed_at is None] == []
    assert (customer, cases) == (["delivered"], [])
