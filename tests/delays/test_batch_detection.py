"""Delay detection for a batch of tracked shipments at once gives the same alerts, resolutions
and `ShipmentDelayed` events as detecting each shipment alone (the per-event path it
replaced), on a batch mixing every detector, an incident lane and a shipment to two brands'
neighbours."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from shipflow.delays import alerts, service, sweep
from shipflow.store.db import unit_of_work
from shipflow.store.models import Alert, Order, OutboxMessage, Shipment
from tests.delays.conftest import add_shipment

D = timedelta(days=1)
H = timedelta(hours=1)


def _mixed(session, brand_id, now) -> list[str]:
    """One shipment per case; returns their ids in batch order."""
    for _ in range(30):  # enough late parcels to CA for the sweep to open a lane incident
        add_shipment(
            session, brand_id, now, destination_state="CA", predicted_date=now.date() + 5 * D
        )
    order = Order(
        brand_id=brand_id,
        order_number="order-WA",
        currency="USD",
        ship_to={"state": "WA", "postal_code": "98101", "country": "US"},
    )
    cases = [
        add_shipment(session, brand_id, now, predicted_date=now.date() + 5 * D),  # late
        add_shipment(session, brand_id, now, promised_date=now.date() - 3 * D),  # promise broken
        add_shipment(session, brand_id, now, status="exception", status_reason="damaged"),
        add_shipment(session, brand_id, now, last_event_at=now - 100 * H),  # stale
        add_shipment(  # label made days ago, never scanned
            session, brand_id, now, status="pending", last_event_at=None, created_at=now - 6 * D
        ),
        add_shipment(session, brand_id, now),  # on time: its old alert is resolved
        add_shipment(  # late, in the CA lane the incident stands for: no alert of its own
            session, brand_id, now, destination_state="CA", predicted_date=now.date() + 5 * D
        ),
        add_shipment(  # late, destination only on its order
            session,
            brand_id,
            now,
            order=order,
            destination_state="",
            destination_postal_code="",
            predicted_date=now.date() + 4 * D,
        ),
        add_shipment(session, brand_id, now, status="delivered"),  # nothing to say
    ]
    session.flush()
    alerts.insert_alerts(
        session,
        [
            alerts.alert_row(
                brand_id,
                now - D,
                kind="late",
                severity="warning",
                title="old",
                dedupe_key=f"late:{cases[5].id}:old",
                shipment_id=cases[5].id,
            )
        ],
    )
    return [c.id for c in cases]


def _outcome(session, ids: list[str]) -> tuple[set, set]:
    found = session.scalars(select(Alert).where(Alert.shipment_id.in_(ids)))
    raised = {(a.shipment_id, a.kind, a.severity, a.dedupe_key, a.status, a.title) for a in found}
    keys = session.scalars(
        select(OutboxMessage.dedupe_key).where(OutboxMessage.topic == "shipment.delayed")
    )
    delayed = {key for key in keys if key.split(":")[1] in ids}
    return raised, delayed


def test_a_batch_is_judged_as_each_shipment_alone(runtime, brand_id, clock):
    now = clock.now()
    with unit_of_work(runtime.sessions) as session:
        ids = _mixed(session, brand_id, now)
    with unit_of_work(runtime.sessions) as session:
        sweep.scan(session, brand_id, now, runtime.settings)  # opens the CA incident
    outcomes = []
    for batches in ([[i] for i in ids], [ids]):  # one at a time, then all at once
        with runtime.sessions() as session:
            for batch in batches:
                shipments = [session.get_one(Shipment, i) for i in batch]
                service.detect_for_shipments(session, shipments, now, runtime.settings)
            session.flush()
            outcomes.append(_outcome(session, ids))
            session.rollback()
    alone, together = outcomes
    assert together == alone
    raised, delayed = together
    assert sorted((kind, status) for _, kind, _, _, status, _ in raised) == [
        ("exception", "open"),
        ("late", "open"),
        ("late", "open"),
        ("late", "open"),
        ("late", "resolved"),
        ("not_picked_up", "open"),
        ("stale", "open"),
    ]
    # Every delay but the exception, the one the CA incident stands for included.
    expected = [ids[i] for i in (0, 1, 3, 4, 6, 7)]
    assert sorted(key.split(":")[1] for key in delayed) == sorted(expected)
