"""The sweep and the per-event check on a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import func, select

from shipflow.delays import service, sweep
from shipflow.delays.detectors import detect
from shipflow.edd.incidents import open_excess
from shipflow.store.db import unit_of_work
from shipflow.store.models import Alert, Order, OutboxMessage, Shipment
from tests.delays.conftest import add_shipment, set_alerts

D = timedelta(days=1)
H = timedelta(hours=1)


def _alerts(session, **where):
    return list(session.scalars(select(Alert).filter_by(**where).order_by(Alert.kind)))


def _delayed_event_count(session) -> int:
    return session.scalar(select(func.count()).where(OutboxMessage.topic == "shipment.delayed"))


def _late_in(session, brand_id, now, state, n):
    for _ in range(n):
        add_shipment(
            session, brand_id, now, destination_state=state, predicted_date=now.date() + 5 * D
        )


def test_200_late_parcels_in_one_region_raise_one_incident(runtime, brand_id, clock):
    now = clock.now()
    with unit_of_work(runtime.sessions) as session:
        _late_in(session, brand_id, now, "CA", 5)  # too few for an incident yet
        for _ in range(100):  # UPS elsewhere: on time
            add_shipment(session, brand_id, now)
        _late_in(session, brand_id, now, "TX", 1)  # a late parcel in another lane
    with unit_of_work(runtime.sessions) as session:
        first = sweep.scan(session, brand_id, now, runtime.settings)
    assert (first.incidents, first.alerts_raised) == ([], 6)
    with unit_of_work(runtime.sessions) as session:
        _late_in(session, brand_id, now, "CA", 195)  # UPS to California: 200 late now
    with unit_of_work(runtime.sessions) as session:
        result = sweep.scan(session, brand_id, now, runtime.settings)
    assert [(i.carrier, i.region, i.late) for i in result.incidents] == [("ups", "CA", 200)]
    assert (result.alerts_raised, result.grouped) == (1, 200)
    with unit_of_work(runtime.sessions) as session:
        unresolved = _alerts(session, brand_id=brand_id, status="open")
        assert [(a.kind, a.region) for a in unresolved] == [
            ("lane_incident", "CA"),
            ("late", "TX"),
        ]
        incident = unresolved[0]
        assert incident.severity == "critical"
        assert (incident.details["late"], incident.details["grouped_shipments"]) == (200, 200)
        assert len(incident.details["sample_shipment_ids"]) == sweep.SAMPLE_IDS
        folded = _alerts(session, brand_id=brand_id, region="CA", kind="late")
        assert [a.status for a in folded] == ["resolved"] * 5  # folded into the incident
        assert _delayed_event_count(session) == 201  # customers are told, one event each


def test_scan_twice_raises_nothing_new(runtime, brand_id, clock):
    now = clock.now()
    with unit_of_work(runtime.sessions) as session:
        add_shipment(session, brand_id, now, predicted_date=now.date() + 5 * D)
        add_shipment(session, brand_id, now, status="exception", status_reason="lost")
    with unit_of_work(runtime.sessions) as session:
        assert sweep.scan(session, brand_id, now, runtime.settings).alerts_raised == 2
    clock.advance(H)
    with unit_of_work(runtime.sessions) as session:
        again = sweep.scan(session, brand_id, clock.now(), runtime.settings)
    assert (again.candidates, again.alerts_raised, again.events_published) == (2, 0, 0)
    with unit_of_work(runtime.sessions) as session:
        assert len(_alerts(session)) == 2
        assert _delayed_event_count(session) == 1


def test_a_resolved_alert_may_fire_again(runtime, brand_id, clock):
    now = clock.now()
    with unit_of_work(runtime.sessions) as session:
        add_shipment(session, brand_id, now, status="exception")
    with unit_of_work(runtime.sessions) as session:
        sweep.scan(session, brand_id, now, runtime.settings)
        _alerts(session)[0].status = "resolved"
    with unit_of_work(runtime.sessions) as session:
        assert sweep.scan(session, brand_id, now, runtime.settings).alerts_raised == 1
        assert sorted(a.status for a in _alerts(session)) == ["open", "resolved"]


def test_scan_finds_every_kind_and_resolves_finished_shipments(runtime, brand_id, clock):
    now = clock.now()  # Monday 23 Nov 2026, 10:00 in New Jersey
    with unit_of_work(runtime.sessions) as session:
        stale = add_shipment(session, brand_id, now, last_event_at=now - 50 * H)
        unpicked = add_shipment(
            session,
            brand_id,
            now,
            status="info_received",
            last_event_at=None,
            created_at=now - 4 * D,  # Thursday's label
        )
        fresh_label = add_shipment(
            session,
            brand_id,
            now,
            status="info_received",
            last_event_at=None,
            created_at=now - 2 * H,
        )
        exception = add_shipment(session, brand_id, now, status="exception")
        delivered = add_shipment(
            session, brand_id, now, status="delivered", promised_date=now.date() - 5 * D
        )
    with unit_of_work(runtime.sessions) as session:
        sweep.scan(session, brand_id, now, runtime.settings)
        kinds = {a.shipment_id: a.kind for a in _alerts(session)}
    assert kinds == {
        stale.id: "stale",
        unpicked.id: "not_picked_up",
        exception.id: "exception",
    }
    assert fresh_label.id not in kinds and delivered.id not in kinds
    with unit_of_work(runtime.sessions) as session:
        session.get(Shipment, stale.id).status = "delivered"
    with unit_of_work(runtime.sessions) as session:
        assert sweep.scan(session, brand_id, now, runtime.settings).resolved == 1
        assert (
            session.scalar(select(Alert.status).where(Alert.shipment_id == stale.id)) == "resolved"
        )


def test_sql_prefilter_and_pure_detectors_agree(runtime, brand_id, clock):
    """Random shipments: the sweep alerts exactly the ones the detectors flag one by one."""
    now = clock.now()
    rng = random.Random(4)
    statuses = [
        "pending",
        "info_received",
        "in_transit",
        "out_for_delivery",
        "exception",
        "attempt_failed",
        "delivered",
        "returning_to_sender",
    ]
    with unit_of_work(runtime.sessions) as session:
        set_alerts(
            runtime, session, brand_id, {"carrier_stale_hours": {"usps": {"in_transit": 96}}}
        )
        for _ in range(300):
            predicted = rng.choice([None, now.date() + rng.randint(-3, 6) * D])
            add_shipment(
                session,
                brand_id,
                now,
                carrier=rng.choice(["ups", "usps", "fedex"]),
                status=rng.choice(statuses),
                warehouse_code=rng.choice(["EWR", "DFW", "RNO", "XXX"]),
                created_at=now - rng.randint(1, 200) * H,
                last_event_at=rng.choice([None, now - rng.randint(1, 120) * H]),
                promised_date=rng.choice([None, now.date() + rng.randint(-4, 4) * D]),
                predicted_date=predicted,
                destination_state=rng.choice(["NY", "CA", "TX", "WA", "FL", "OR", "NV"]),
            )
    with unit_of_work(runtime.sessions) as session:
        sweep.scan(session, brand_id, now, runtime.settings)
        policy = service.policy_for(session, brand_id, runtime.settings)
        expected = {
            d.dedupe_key
            for s in session.scalars(select(Shipment))
            for d in detect(service.snapshot(s, policy), now, policy)
        }
        raised = {a.dedupe_key for a in _alerts(session) if a.kind != "lane_incident"}
    assert expected and raised == expected


def _shipment_to_order_address(session, brand_id, now, state, postal_code, late_days):
    """A shipment predicted `late_days` late whose destination only its order knows."""
    order = Order(
        brand_id=brand_id,
        order_number=f"order-{state}",
        currency="USD",
        ship_to={"state": state, "postal_code": postal_code, "country": "US"},
    )
    session.add(order)
    return add_shipment(
        session,
        brand_id,
        now,
        order=order,
        destination_state="",
        destination_postal_code="",
        predicted_date=now.date() + late_days * D,
    )


def test_detect_for_shipments_raises_resolves_and_groups(runtime, brand_id, clock):
    now = clock.now()
    with unit_of_work(runtime.sessions) as session:
        shipment = _shipment_to_order_address(session, brand_id, now, "WA", "98101", late_days=4)
    with unit_of_work(runtime.sessions) as session:
        shipment = session.get(Shipment, shipment.id)
        delays = service.detect_for_shipments(session, [shipment], now, runtime.settings)
        assert [d.kind for d in delays[shipment.id]] == ["late"]
        assert shipment.destination_state == "WA"  # taken from the order
        service.detect_for_shipments(session, [shipment], now, runtime.settings)  # again
    with unit_of_work(runtime.sessions) as session:
        assert [(a.kind, a.status, a.region) for a in _alerts(session)] == [("late", "open", "WA")]
        assert _delayed_event_count(session) == 1
        shipment = session.get(Shipment, shipment.id)
        shipment.predicted_date = shipment.promised_date  # the carrier caught up
        service.detect_for_shipments(session, [shipment], now, runtime.settings)
    with unit_of_work(runtime.sessions) as session:
        assert [a.status for a in _alerts(session)] == ["resolved"]


def test_detect_for_shipments_in_an_incident_lane_raises_no_alert(runtime, brand_id, clock):
    now = clock.now()
    with unit_of_work(runtime.sessions) as session:
        for _ in range(30):
            add_shipment(
                session, brand_id, now, destination_state="CA", predicted_date=now.date() + 5 * D
            )
    with unit_of_work(runtime.sessions) as session:
        sweep.scan(session, brand_id, now, runtime.settings)
        late = add_shipment(session, brand_id, now, destination_state="CA", status="exception")
        session.flush()
        delays = service.detect_for_shipments(session, [late], now, runtime.settings)
        assert {d.kind for d in delays[late.id]} == {"exception"}
        assert [a.kind for a in _alerts(session)] == ["lane_incident"]


def test_detect_for_shipments_works_on_a_shipment_not_yet_flushed(runtime, brand_id, clock):
    """The tracking pipeline calls it inside its own unit of work, before any flush."""
    now = clock.now()
    with unit_of_work(runtime.sessions) as session:
        fresh = add_shipment(session, brand_id, now, status="exception", status_reason="damaged")
        delays = service.detect_for_shipments(session, [fresh], now, runtime.settings)
        assert [d.severity for d in delays[fresh.id]] == ["critical"]
    with unit_of_work(runtime.sessions) as session:
        assert [a.shipment_id for a in _alerts(session)] == [fresh.id]


def test_scan_takes_missing_destinations_from_the_order(runtime, brand_id, clock):
    now = clock.now()
    with unit_of_work(runtime.sessions) as session:
        late = _shipment_to_order_address(session, brand_id, now, "OR", "97201", late_days=3)
    with unit_of_work(runtime.sessions) as session:
        sweep.scan(session, brand_id, now, runtime.settings)
        stored = session.get(Shipment, late.id)
        assert (stored.destination_state, stored.destination_postal_code) == ("OR", "97201")
        assert [a.region for a in _alerts(session)] == ["OR"]


def test_lanes_by_zip3_when_configured(runtime, brand_id, clock):
    now = clock.now()
    with unit_of_work(runtime.sessions) as session:
        set_alerts(runtime, session, brand_id, {"lane": {"region": "zip3"}})
        for n in range(30):  # San Francisco ZIPs, all late; the rest of California on time
            add_shipment(
                session,
                brand_id,
                now,
                destination_state="CA",
                destination_postal_code=f"941{n % 100:02d}",
                predicted_date=now.date() + 4 * D,
            )
        for _ in range(60):
            add_shipment(
                session, brand_id, now, destination_state="CA", destination_postal_code="90001"
            )
    with unit_of_work(runtime.sessions) as session:
        result = sweep.scan(session, brand_id, now, runtime.settings)
        assert [(i.region, i.late, i.active) for i in result.incidents] == [("941", 30, 30)]
        assert [a.region for a in _alerts(session)] == ["941"]


def test_a_lane_incident_closes_itself_once_the_lane_recovers(runtime, brand_id, clock):
    now = clock.now()
    with unit_of_work(runtime.sessions) as session:
        _late_in(session, brand_id, now, "CA", 30)
    with unit_of_work(runtime.sessions) as session:
        opened = sweep.scan(session, brand_id, now, runtime.settings)
    assert ([i.region for i in opened.incidents], opened.incidents_closed) == (["CA"], 0)
    with unit_of_work(runtime.sessions) as session:
        # predicted 5 days after a promise 2 days out: 3 days behind, promises there widen
        assert open_excess(session, brand_id) == {("ups", "CA"): 3}
    with unit_of_work(runtime.sessions) as session:  # 24 of the 30 delivered: 6 still late
        for shipment in session.scalars(select(Shipment).limit(24)):
            shipment.status = "delivered"
        still = sweep.scan(session, brand_id, now, runtime.settings)
        assert (still.incidents, still.incidents_closed) == ([], 1)
        [incident] = _alerts(session, kind="lane_incident")
        assert (incident.status, incident.details["recovered"]) == ("resolved", True)
        assert open_excess(session, brand_id) == {}  # promises on the lane un-widen


def test_a_lane_incident_stays_open_while_the_lane_is_still_late(runtime, brand_id, clock):
    now = clock.now()
    with unit_of_work(runtime.sessions) as session:
        _late_in(session, brand_id, now, "CA", 30)
        for _ in range(30):  # on time in the same lane: 50 % late, above baseline + jump / 2
            add_shipment(session, brand_id, now, destination_state="CA")
    with unit_of_work(runtime.sessions) as session:
        sweep.scan(session, brand_id, now, runtime.settings)
    with unit_of_work(runtime.sessions) as session:
        again = sweep.scan(session, brand_id, now, runtime.settings)
        assert again.incidents_closed == 0
        assert [a.status for a in _alerts(session, kind="lane_incident")] == ["open"]
