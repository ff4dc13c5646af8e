"""The "at risk of running late" alert: a brand's learned chance of a parcel missing its
promise (`shipflow.delays.risk`), learned per brand by the job and judged on each tracking
event and by the sweep (SQLite and PostgreSQL)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import select

from shipflow.brands import sync_brand
from shipflow.delays import risk_store, sweep
from shipflow.delays.boosted import Trees
from shipflow.delays.config import AlertsConfig
from shipflow.delays.detectors import Policy, ShipmentSnapshot, detect_at_risk
from shipflow.delays.risk import RiskModel
from shipflow.delays.risk_store import journeys, learn, load_model
from shipflow.domain import Status, TrackingEvent, TrackingUpdate
from shipflow.edd.repository import add_history
from shipflow.jobs import periodic, run
from shipflow.store.db import unit_of_work
from shipflow.store.models import Alert, Order, Shipment, TrackingEventRow
from shipflow.store.ops_models import DelayRiskModelRow
from shipflow.tracking.ingest import ingest
from tests.conftest import configure_brand
from tests.delays.conftest import add_shipment, flat_risk, set_alerts
from tests.edd.factories import history
from tests.statements import statements_sent

H = timedelta(hours=1)
D = timedelta(days=1)


def _store(session, brand_id, now, logit: float) -> None:
    row = session.get(DelayRiskModelRow, brand_id) or DelayRiskModelRow(brand_id=brand_id)
    row.learned_at, row.checks, row.model = now, 1, flat_risk(logit).to_dict()
    session.add(row)


def _scan(runtime, shipment_id, at) -> None:
    with unit_of_work(runtime.sessions) as session:
        event = TrackingEvent(status=Status.IN_TRANSIT, occurred_at=at, raw_code="AR")
        update = TrackingUpdate(carrier="ups", tracking_number="", events=(event,))
        shipment = session.get(Shipment, shipment_id)
        ingest(session, shipment, update, "webhook", at, runtime.reactions.in_transaction)


def _at_risk(session) -> list[tuple[str, str, str]]:
    found = session.scalars(select(Alert).where(Alert.kind == "at_risk").order_by(Alert.id))
    return [(a.shipment_id, a.status, a.title) for a in found]


def test_a_shipment_at_risk_raises_one_alert_once(runtime, brand_id, clock):
    now = clock.now()  # Monday 23 November 2026, 15:00 UTC
    with unit_of_work(runtime.sessions) as session:
        _store(session, brand_id, now - H, 1.0)  # every parcel's chance 73 %, threshold 0.4
        risky = add_shipment(session, brand_id, now, promised_date=date(2026, 11, 23))
        later = add_shipment(session, brand_id, now, promised_date=date(2026, 11, 25))
        session.flush()
        risky_id, later_id = risky.id, later.id
    expected = [(risky_id, "open", "ups shipment at risk of running late: 73% chance of "
                 "missing the promised 2026-11-23")]  # fmt: skip
    _scan(runtime, risky_id, now)
    _scan(runtime, later_id, now)  # its promise ends beyond the 1-day horizon: not judged
    with runtime.sessions() as session:
        assert _at_risk(session) == expected
    _scan(runtime, risky_id, now + H)
    with unit_of_work(runtime.sessions) as session:
        result = sweep.scan(session, brand_id, now + 2 * H, runtime.settings)
        assert result.alerts_raised == 0
        assert _at_risk(session) == expected
    with unit_of_work(runtime.sessions) as session:  # the chance falls below the threshold
        _store(session, brand_id, now + 3 * H, -1.0)
    _scan(runtime, risky_id, now + 4 * H)
    with unit_of_work(runtime.sessions) as session:
        sweep.scan(session, brand_id, now + 5 * H, runtime.settings)
        assert _at_risk(session) == expected  # sticky: it stays until delivery or ops


def test_the_sweep_raises_it_without_an_event(runtime, brand_id, clock):
    now = clock.now()
    with unit_of_work(runtime.sessions) as session:
        _store(session, brand_id, now - H, 1.0)
        shipment = add_shipment(session, brand_id, now, promised_date=date(2026, 11, 23))
        session.flush()
        shipment_id = shipment.id
    with unit_of_work(runtime.sessions) as session:
        result = sweep.scan(session, brand_id, now, runtime.settings)
        assert (result.candidates, result.alerts_raised) == (1, 1)
        assert [(s, status) for s, status, _ in _at_risk(session)] == [(shipment_id, "open")]


def _late_history(parcels: int, every_late: int) -> list:
    """Weekday orders from March 2026, promised 5 days later; every `every_late`-th takes 7
    business days (late), the others 2."""
    transits = [7 if i % every_late == 0 else 2 for i in range(parcels)]
    return [
        replace(r, promised_date=r.ordered_at.date() + 5 * D)
        for r in history(transits, start=date(2026, 3, 2))
    ]


def test_the_job_learns_each_brand_from_its_own_history(runtime, brand_id, clock):
    configure_brand(runtime, "other", channels=[])
    with unit_of_work(runtime.sessions) as session:
        other_id = sync_brand(session, runtime.settings.brand("other")).id
        add_history(session, brand_id, _late_history(160, every_late=5), "import")
        add_history(session, other_id, _late_history(160, every_late=1000), "import")
    assert "alerts.learn_delay_risk" in {job.name for job in periodic(runtime.jobs.values())}
    assert run(runtime, "alerts.learn_delay_risk") == 1  # the other brand: none late yet
    with runtime.sessions() as session:
        rows = {r.brand_id: r for r in session.scalars(select(DelayRiskModelRow))}
        assert (rows[brand_id].checks, rows[other_id].checks) == (418, 0)
        assert rows[other_id].model is None
        assert load_model(session, other_id) is None
        model = load_model(session, brand_id)
        assert model is not None and model.zone == "America/New_York"
    assert run(runtime, "alerts.learn_delay_risk") == 0  # both fresh
    clock.advance(timedelta(days=1))
    assert run(runtime, "alerts.learn_delay_risk") == 1


def test_a_brand_whose_learning_fails_does_not_stop_the_others(
    runtime, brand_id, clock, monkeypatch, caplog
):
    configure_brand(runtime, "other", channels=[])
    with unit_of_work(runtime.sessions) as session:
        other_id = sync_brand(session, runtime.settings.brand("other")).id
        add_history(session, brand_id, _late_history(160, every_late=5), "import")
        add_history(session, other_id, _late_history(160, every_late=5), "import")
    learn_one = risk_store.learn

    def failing_for_the_other(session, learning_id, *args):
        if learning_id == other_id:
            raise np.linalg.LinAlgError("Singular matrix")
        return learn_one(session, learning_id, *args)

    monkeypatch.setattr(risk_store, "learn", failing_for_the_other)
    assert run(runtime, "alerts.learn_delay_risk") == 1  # whichever brand came first
    with runtime.sessions() as session:
        assert load_model(session, brand_id) is not None
        assert session.get(DelayRiskModelRow, other_id) is None
    assert f"delay risk learning failed for {other_id}" in caplog.text


def test_learning_reads_no_other_brand(runtime, brand_id, clock):
    """The brand's model is the same whatever another brand's history holds."""
    configure_brand(runtime, "other", channels=[])
    now = clock.now()
    with unit_of_work(runtime.sessions) as session:
        other_id = sync_brand(session, runtime.settings.brand("other")).id
        add_history(session, brand_id, _late_history(160, every_late=5), "import")
        alone = learn(session, brand_id, now, runtime.settings)
        model = load_model(session, brand_id)
        add_history(session, other_id, _late_history(160, every_late=2), "import")
        assert learn(session, brand_id, now + H, runtime.settings) == alone
        assert load_model(session, brand_id).weights == model.weights
        assert learn(session, other_id, now, runtime.settings) == 474


def test_a_rolled_back_learning_never_serves_its_model(runtime, brand_id, clock):
    """A learning's model is in use in the process once its transaction commits: one rolled
    back leaves what is stored (here nothing), even after its own transaction read it."""
    with unit_of_work(runtime.sessions) as session:
        add_history(session, brand_id, _late_history(160, every_late=5), "import")
    with runtime.sessions() as session:
        assert learn(session, brand_id, clock.now(), runtime.settings) == 418
        assert load_model(session, brand_id) is not None  # its own transaction sees it
        session.rollback()
    with runtime.sessions() as session:
        assert load_model(session, brand_id) is None
    with unit_of_work(runtime.sessions) as session:
        learn(session, brand_id, clock.now(), runtime.settings)
    with runtime.sessions() as session, statements_sent(runtime.engine) as sent:
        assert load_model(session, brand_id) is not None
    assert sent == []  # committed: in use at once, not read again


def test_the_learning_reads_its_window_of_history_and_the_events_once(runtime, brand_id, clock):
    """The database picks the orders of the last `history_days`, and the tracking events of
    the delivered parcels and of those in flight come in one query."""
    now = clock.now()
    with unit_of_work(runtime.sessions) as session:
        delivered = _late_history(160, every_late=5)
        add_history(session, brand_id, delivered, "tracked")
        _tracked(session, brand_id, now, delivered, "EWR", "NY")
    with unit_of_work(runtime.sessions) as session, statements_sent(runtime.engine) as sent:
        learn(session, brand_id, now, runtime.settings)
    history_reads = [s for s in sent if "FROM delivery_history" in s]
    assert len(history_reads) == 1 and "delivery_history.ordered_at >=" in history_reads[0]
    assert len([s for s in sent if "FROM tracking_events" in s]) == 1


def test_a_journey_carries_the_destination_country_of_its_order(runtime, brand_id, clock):
    """The destination areas are keyed by country as the delivered history records them: a
    parcel in flight judged without it would get every area's overall median."""
    now = clock.now()
    with unit_of_work(runtime.sessions) as session:
        ship_to = {"state": "WA", "postal_code": "98101", "country": "us"}
        order = Order(brand_id=brand_id, order_number="o-1", currency="USD", ship_to=ship_to)
        session.add(order)
        session.flush()
        shipment = add_shipment(session, brand_id, now, order_id=order.id)
        bare = add_shipment(session, brand_id, now)
        session.flush()
        found = journeys(session, brand_id, [shipment.id, bare.id], {})
        record, bare_record = found[shipment.id][0], found[bare.id][0]
    assert (record.destination_country, record.destination_postal_code) == ("US", "10001")
    assert bare_record.destination_country == ""


def test_a_journey_never_holds_another_brands_shipment_or_events(runtime, brand_id, clock):
    """An imported history names its own order ids: one that is another brand's shipment id
    must not bring that shipment's events into this brand's learning."""
    configure_brand(runtime, "other", channels=[])
    now = clock.now()
    with unit_of_work(runtime.sessions) as session:
        other_id = sync_brand(session, runtime.settings.brand("other")).id
        shipment = add_shipment(session, other_id, now)
        session.flush()
        theirs = shipment.id
    _scan(runtime, theirs, now)
    with runtime.sessions() as session:
        assert journeys(session, other_id, [theirs], {})[theirs][1] != ()  # scanned
        assert journeys(session, brand_id, [theirs], {}) == {}


def _tracked(session, brand_id, now, records, warehouse: str, state: str) -> None:
    """The brand's delivered `records` as tracked shipments scanned at handover and 12 h
    before delivery, and two parcels in flight from `warehouse` to `state` scanned at
    handover only: one a week ago and promised today (behind its lane), one an hour ago and
    promised in 5 days."""
    for r in records:
        add_shipment(session, brand_id, now, id=r.order_id, status="delivered", service="ground")
    session.flush()
    for r in records:
        session.add(_event_row(brand_id, r.order_id, r.handed_to_carrier_at, "PU"))
        session.add(_event_row(brand_id, r.order_id, r.delivered_at - 12 * H, "AR"))
    for picked_up, promised in ((now - 7 * D, now.date()), (now - H, now.date() + 5 * D)):
        flying = add_shipment(
            session,
            brand_id,
            picked_up,
            service="ground",
            warehouse_code=warehouse,
            destination_state=state,
            promised_date=promised,
        )
        session.flush()
        session.add(_event_row(brand_id, flying.id, picked_up, "PU"))
    session.flush()


def _event_row(brand_id, shipment_id, at, code: str) -> TrackingEventRow:
    return TrackingEventRow(
        shipment_id=shipment_id,
        brand_id=brand_id,
        dedupe_key=f"{code}:{at.isoformat()}",
        status=Status.IN_TRANSIT.value,
        raw_code=code,
        occurred_at=at,
    )


def test_another_brands_parcels_never_feed_a_brands_network_state(runtime, brand_id, clock):
    """The network state (`shipflow.delays.network`) counts the brand's own parcels in flight
    only, even to a state another brand ships to."""
    configure_brand(runtime, "other", channels=[])
    now = clock.now()
    with unit_of_work(runtime.sessions) as session:
        other_id = sync_brand(session, runtime.settings.brand("other")).id
        delivered = _late_history(160, every_late=5)
        add_history(session, brand_id, delivered, "tracked")
        _tracked(session, brand_id, now, delivered, "EWR", "NY")
        learn(session, brand_id, now, runtime.settings)
        alone = load_model(session, brand_id).network
        assert alone[("destination", "", "NY")] != 0.0
        others = [replace(r, order_id=f"other-{r.order_id}") for r in delivered]
        add_history(session, other_id, others, "tracked")
        _tracked(session, other_id, now, others, "EWR", "NY")
        _tracked(session, other_id, now, [], "LAX", "CA")
        learn(session, brand_id, now + H, runtime.settings)
        assert load_model(session, brand_id).network == alone


def test_the_learning_process_serves_the_model_as_stored_as_every_other_process_reads_it(
    runtime, brand_id, clock
):
    """The stored form samples lane times and rounds area medians: the process that learned
    served the replay's own unrounded model, so its chances differed from the other processes'."""
    with unit_of_work(runtime.sessions) as session:
        add_history(session, brand_id, _late_history(160, every_late=5), "import")
        assert learn(session, brand_id, clock.now(), runtime.settings) == 418
    with runtime.sessions() as session:
        served = load_model(session, brand_id)
        stored = RiskModel.from_dict(session.get_one(DelayRiskModelRow, brand_id).model)
    assert served.areas.medians == stored.areas.medians


def _fits_of_trees(monkeypatch) -> list[int]:
    """The checks each fit of boosted trees learns from, as the learning runs."""
    fits: list[int] = []
    fit = Trees.fit

    def counted(cls, rows, late):
        fits.append(len(rows))
        return fit(rows, late)

    monkeypatch.setattr(Trees, "fit", classmethod(counted))
    return fits


def test_the_learning_fits_the_trees_once_for_the_model_it_stores(
    runtime, brand_id, clock, monkeypatch
):
    """Its replay refits on the 1st and 15th, but only the model at its end is stored: no
    intermediate fit (it fitted trees at each of them, two thirds of the job's CPU)."""
    with unit_of_work(runtime.sessions) as session:
        add_history(session, brand_id, _late_history(160, every_late=5), "import")
    fits = _fits_of_trees(monkeypatch)
    with unit_of_work(runtime.sessions) as session:
        assert learn(session, brand_id, clock.now(), runtime.settings) == 418
    assert fits == [418]


def test_a_wanted_precision_sets_the_threshold_the_learning_chose_for_it(
    runtime, brand_id, clock, monkeypatch
):
    """The learning judges its parcels whose promise ended in the last 60 days, a day or more
    ahead and within the horizon, by the models learned before each check (those refits only
    are fitted), and stores the lowest chance at which their warnings were 60 % right."""
    now = clock.now()
    with unit_of_work(runtime.sessions) as session:
        set_alerts(runtime, session, brand_id, {"at_risk": {"precision": 0.6}})
        add_history(session, brand_id, _late_history(160, every_late=5), "import")
    fits = _fits_of_trees(monkeypatch)
    with unit_of_work(runtime.sessions) as session:
        assert learn(session, brand_id, now, runtime.settings) == 418
    assert fits == [340, 382, 418]
    with unit_of_work(runtime.sessions) as session:
        model = load_model(session, brand_id)
        assert model is not None and model.thresholds == {0.6: pytest.approx(0.430678, abs=1e-6)}


def test_the_detector_holds_a_chance_to_the_threshold_learned_for_the_wanted_precision():
    """The flat model's 73 % is below the 0.8 learned for 60 %; for a precision not learned
    (the configuration changed since) the configured threshold, 0.4, holds."""
    now = datetime(2026, 11, 23, 15, tzinfo=UTC)
    risk = replace(flat_risk(1.0), thresholds={0.6: 0.8})
    record = replace(history([2])[0], ordered_at=now - 2 * D, carrier="ups", service="")
    snap = ShipmentSnapshot(
        "s1", "b1", "ups", Status.IN_TRANSIT, now - 2 * D, promised_date=date(2026, 11, 23),
        journey=(record, ()),
    )  # fmt: skip

    def judged(at_risk: dict) -> bool:
        alerts = AlertsConfig.model_validate({"at_risk": at_risk})
        return detect_at_risk(snap, now, Policy(alerts=alerts, risk=risk)) is not None

    assert judged({}) and judged({"precision": 0.7})
    assert not judged({"precision": 0.6})
