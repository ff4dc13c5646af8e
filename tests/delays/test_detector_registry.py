"""A delay detector is one object in `DETECTORS`: registered there alone, it fires after a
tracking event and in the sweep, and its alerts resolve; a pre-filter that misses what its
detector flags would hide shipments from the sweep, and fails here (SQLite and PostgreSQL)."""

from __future__ import annotations

import random
import subprocess
import sys
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select

from shipflow.delays import detectors, service, sweep
from shipflow.delays.config import KINDS
from shipflow.delays.detectors import Delay, Detector
from shipflow.delays.risk_store import with_journeys
from shipflow.domain import Status, TrackingEvent, TrackingUpdate
from shipflow.store.db import unit_of_work
from shipflow.store.models import Alert, Shipment
from shipflow.tracking.ingest import ingest
from tests.delays.conftest import add_shipment, flat_risk, set_alerts

D = timedelta(days=1)
H = timedelta(hours=1)


def _awaiting_collection(s, now, policy) -> Delay | None:
    """A toy: the parcel waits at a pickup point, whatever the time."""
    if s.status != Status.AVAILABLE_FOR_PICKUP:
        return None
    return Delay(
        kind="awaiting_collection",
        severity="info",
        title=f"{s.carrier} parcel awaits collection",
        why="waiting at a pickup point",
        dedupe_key=f"awaiting_collection:{s.id}",
    )


@pytest.fixture
def awaiting_collection(monkeypatch) -> Detector:
    """Registers the toy detector: the one place a new detector is added."""
    toy = Detector(
        "awaiting_collection",  # type: ignore[arg-type]  # a toy, not a configurable kind
        _awaiting_collection,
        lambda now, policy: Shipment.status == Status.AVAILABLE_FOR_PICKUP,
        publishes_delayed=False,
    )
    monkeypatch.setattr(detectors, "DETECTORS", (*detectors.DETECTORS, toy))
    return toy


def _event(status: Status, at) -> TrackingUpdate:
    event = TrackingEvent(status=status, occurred_at=at, raw_code=status.value)
    return TrackingUpdate(carrier="ups", tracking_number="", events=(event,))


def _toy_alerts(session) -> dict[str, str]:
    found = session.scalars(select(Alert).where(Alert.kind == "awaiting_collection"))
    return {a.shipment_id: a.status for a in found}


def test_a_registered_detector_fires_on_events_and_in_the_sweep_and_resolves(
    runtime, brand_id, clock, awaiting_collection
):
    now = clock.now()
    healthy = {"promised_date": now.date() + 10 * D, "last_event_at": now - H}
    with unit_of_work(runtime.sessions) as session:
        shipments = [
            add_shipment(session, brand_id, now, **healthy),
            add_shipment(session, brand_id, now, status="available_for_pickup", **healthy),
        ]
        session.flush()
        by_event, by_sweep = (s.id for s in shipments)
    with unit_of_work(runtime.sessions) as session:
        shipment = session.get(Shipment, by_event)
        ingest(
            session,
            shipment,
            _event(Status.AVAILABLE_FOR_PICKUP, now - H / 2),
            "webhook",
            now,
            runtime.reactions.in_transaction,
        )
    with unit_of_work(runtime.sessions) as session:
        assert _toy_alerts(session) == {by_event: "open"}
        result = sweep.scan(session, brand_id, now, runtime.settings)
        assert (result.candidates, result.alerts_raised) == (2, 1)
        assert _toy_alerts(session) == {by_event: "open", by_sweep: "open"}
    with unit_of_work(runtime.sessions) as session:  # collected: the condition clears
        shipment = session.get(Shipment, by_event)
        ingest(
            session,
            shipment,
            _event(Status.DELIVERED, now - H / 4),
            "webhook",
            now,
            runtime.reactions.in_transaction,
        )
    with unit_of_work(runtime.sessions) as session:
        assert _toy_alerts(session) == {by_event: "resolved", by_sweep: "open"}


def test_every_detector_pre_filter_finds_all_it_flags(runtime, brand_id, clock):
    """Random shipments: each registered detector's SQL selects every shipment it flags, so
    the sweep (which reads only what some pre-filter selects) misses none of them."""
    now = clock.now()
    rng = random.Random(11)
    with unit_of_work(runtime.sessions) as session:
        set_alerts(
            runtime, session, brand_id, {"carrier_stale_hours": {"usps": {"in_transit": 96}}}
        )
        for _ in range(300):
            add_shipment(
                session,
                brand_id,
                now,
                carrier=rng.choice(["ups", "usps", "fedex"]),
                status=rng.choice([s.value for s in detectors.ACTIVE_STATUSES]),
                status_reason=rng.choice([None, "lost", "weather"]),
                kind=rng.choice(["forward", "forward", "return"]),
                warehouse_code=rng.choice(["EWR", "DFW", "RNO", "XXX"]),
                created_at=now - rng.randint(1, 200) * H,
                last_event_at=rng.choice([None, now - rng.randint(1, 200) * H]),
                promised_date=rng.choice([None, now.date() + rng.randint(-4, 4) * D]),
                predicted_date=rng.choice([None, now.date() + rng.randint(-3, 6) * D]),
            )
    with unit_of_work(runtime.sessions) as session:
        policy = service.policy_for(session, brand_id, runtime.settings)
        policy = replace(policy, risk=flat_risk(1.0))  # every lane's chance 73 %
        snaps = [service.snapshot(s, policy) for s in session.scalars(select(Shipment))]
        snaps = with_journeys(session, snaps, now, policy)
        for detector in detectors.DETECTORS:
            flagged = {
                snap.id
                for snap in snaps
                if (delay := detector.judge(snap, now, policy)) and delay.kind == detector.kind
            }
            selected = set(
                session.scalars(select(Shipment.id).where(detector.candidates(now, policy)))
            )
            assert flagged, f"{detector.kind}: the sample exercises it"
            assert flagged <= selected, f"{detector.kind}: its pre-filter misses some it flags"


def test_every_detector_kind_is_one_config_and_api_know():
    """Routes in config.yaml and the alerts API filter by kind: a detector's kind is one."""
    assert {d.kind for d in detectors.DETECTORS} <= set(KINDS)


def test_the_delay_services_load_without_the_configuration():
    """`shipflow.config` imports `shipflow.delays.config`; the services must not import the
    configuration back, or importing either first would be circular."""
    code = (
        "import sys, shipflow.delays.sweep, shipflow.delays.service; "
        "assert 'shipflow.config' not in sys.modules, 'shipflow.config imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
