"""Stale limits learned from each carrier's scan history (not fixed per status)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from shipflow.brands import sync_brand
from shipflow.delays import stale_limits, sweep
from shipflow.delays.stale_limits import gaps_by_status, learn, limits_from_gaps, percentile
from shipflow.jobs import periodic, run
from shipflow.store.db import unit_of_work
from shipflow.store.models import Alert, Shipment, TrackingEventRow
from shipflow.store.ops_models import StaleLimit
from tests.conftest import configure_brand
from tests.delays.conftest import add_shipment

H = timedelta(hours=1)


@pytest.mark.parametrize(
    ("values", "share", "expected"),
    [
        ([72.0] * 19 + [80.0], 0.95, 72.0),
        ([float(v) for v in range(1, 101)], 0.95, 95.0),
        ([5.0], 0.95, 5.0),
        ([3.0, 1.0, 2.0], 0.5, 2.0),
    ],
)
def test_percentile_is_the_nearest_rank(values, share, expected):
    assert percentile(values, share) == expected


@pytest.mark.parametrize(
    ("gaps", "expected"),
    [
        (
            {("sandbox", "ground", "in_transit"): [72.0] * 20},
            {("sandbox", "ground", "in_transit"): (90.0, 20)},
        ),  # fmt: skip
        (
            {("ups", "", "out_for_delivery"): [2.0] * 30},
            {("ups", "", "out_for_delivery"): (12.0, 30)},
        ),  # floor  # fmt: skip
        ({("ups", "", "in_transit"): [10.0] * 19}, {}),  # too thin: the default stays
    ],
)
def test_limits_are_the_p95_gap_with_a_margin_and_a_floor(gaps, expected):
    assert limits_from_gaps(gaps) == expected


def test_gaps_are_measured_within_one_shipment_and_keyed_by_the_earlier_status(clock):
    t = clock.now()
    scans = [
        ("s1", "ups", "", "info_received", t),
        ("s1", "ups", "", "in_transit", t + 5 * H),
        ("s1", "ups", "", "in_transit", t + 29 * H),
        ("s2", "ups", "", "in_transit", t + 100 * H),
        ("s2", "ups", "", "delivered", t + 110 * H),
    ]
    assert gaps_by_status(scans) == {
        ("ups", "", "info_received"): [5.0],
        ("ups", "", "in_transit"): [24.0, 10.0],
    }


def _sandbox_history(session, brand_id, now, parcels=10, hops=4, gap=72 * H):
    """Delivered sandbox parcels scanned at hubs three days apart, as the demo's are."""
    for _ in range(parcels):
        start = now - timedelta(days=40)
        shipment = add_shipment(
            session, brand_id, now, carrier="sandbox", service="ground", status="delivered"
        )
        session.flush()
        for hop in range(hops + 1):
            session.add(
                TrackingEventRow(
                    shipment_id=shipment.id,
                    brand_id=brand_id,
                    dedupe_key=f"hop{hop}",
                    status="delivered" if hop == hops else "in_transit",
                    occurred_at=start + hop * gap,
                )
            )


def _stale_alerts(session, shipment_id):
    return session.scalars(
        select(Alert.kind).where(Alert.shipment_id == shipment_id, Alert.kind == "stale")
    ).all()


@pytest.mark.parametrize(
    ("learned", "silent_hours", "stale"),
    [
        (False, 73, True),  # the fixed 48 h default flags the sandbox's normal hub gap
        (True, 73, False),  # the learned limit does not
        (True, 144, True),  # a real 2x gap still does
    ],
)
def test_learned_limit_drives_the_stale_alert(
    runtime, brand_id, clock, learned, silent_hours, stale
):
    now = clock.now()
    with unit_of_work(runtime.sessions) as session:
        _sandbox_history(session, brand_id, now)
        silent = add_shipment(
            session,
            brand_id,
            now,
            carrier="sandbox",
            service="ground",
            created_at=now - 10 * 24 * H,
            last_event_at=now - silent_hours * H,
            promised_date=now.date() + timedelta(days=9),
        )
    if learned:
        with unit_of_work(runtime.sessions) as session:
            assert learn(session, brand_id, now) == {
                ("sandbox", "ground", "in_transit"): (90.0, 40)
            }
        with runtime.sessions() as session:
            row = session.scalars(select(StaleLimit)).one()
            assert (row.carrier, row.service, row.status, row.hours, row.samples) == (
                "sandbox", "ground", "in_transit", 90.0, 40,
            )  # fmt: skip
    with unit_of_work(runtime.sessions) as session:
        sweep.scan(session, brand_id, now, runtime.settings)
    with runtime.sessions() as session:
        assert bool(_stale_alerts(session, silent.id)) is stale
        assert session.get(Shipment, silent.id).service == "ground"


def test_the_job_relearns_a_brand_once_its_limits_are_a_day_old(runtime, brand_id, clock):
    assert "alerts.learn_stale_limits" in {job.name for job in periodic(runtime.jobs.values())}
    assert run(runtime, "alerts.learn_stale_limits") == 0  # no scans yet: nothing learned
    with unit_of_work(runtime.sessions) as session:
        _sandbox_history(session, brand_id, clock.now())
    assert run(runtime, "alerts.learn_stale_limits") == 1
    assert run(runtime, "alerts.learn_stale_limits") == 0  # fresh
    clock.advance(timedelta(days=1))
    assert run(runtime, "alerts.learn_stale_limits") == 1


def test_a_brand_whose_limits_fail_to_learn_does_not_stop_the_others(
    runtime, brand_id, clock, monkeypatch, caplog
):
    configure_brand(runtime, "other", channels=[])
    with unit_of_work(runtime.sessions) as session:
        other_id = sync_brand(session, runtime.settings.brand("other")).id
        _sandbox_history(session, brand_id, clock.now())
        _sandbox_history(session, other_id, clock.now())
    learn_one = stale_limits.learn

    def failing_for_the_other(session, learning_id, now):
        if learning_id == other_id:
            raise ValueError("a bad scan")
        return learn_one(session, learning_id, now)

    monkeypatch.setattr(stale_limits, "learn", failing_for_the_other)
    assert run(runtime, "alerts.learn_stale_limits") == 1  # whichever brand came first
    with runtime.sessions() as session:
        learned = set(session.scalars(select(StaleLimit.brand_id)))
    assert learned == {brand_id}
    assert f"stale limits failed for {other_id}" in caplog.text
