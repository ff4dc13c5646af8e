"""Delay scan at scale: 1,000,000 active shipments (plus 100,000 recent deliveries for the
lane baselines) in PostgreSQL, then `shipflow.delays.sweep.scan` timed twice: the first
sweep raises the alerts, the second is the steady state that runs on a schedule.

    SHIPFLOW_BENCH_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \\
        PYTHONPATH=. .venv/bin/python benchmarks/delays.py [--active 1000000]

Works in its own schema (`--schema`, default `bench_delays`), dropped and re-created on every
run; `--reuse` keeps the loaded shipments and only clears alerts and outbox.

`--at-risk` measures the `at_risk` detector's share: each active shipment gets two tracking
events, and the steady-state sweep is timed without a stored delay risk model and with one
(a lane of 40 delivered times per carrier and destination state), back to back; the
difference over the shipments it judged is its cost.
"""

from __future__ import annotations

import argparse
import os
import random
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy import func, select, text

from benchmarks.schemas import bench_server, fresh_schema, schema_url
from shipflow.brands import sync_brand
from shipflow.config import Settings, load_settings
from shipflow.delays.config import AlertsConfig
from shipflow.delays.detectors import at_risk_candidates
from shipflow.delays.risk import FEATURES, LaneTimes, MomentRates, RiskModel, WarningModel
from shipflow.delays.risk_store import load_model
from shipflow.delays.service import policy_for
from shipflow.delays.sweep import scan
from shipflow.store.db import make_engine, make_session_factory, unit_of_work
from shipflow.store.migrate import upgrade
from shipflow.store.models import Alert, Brand, OutboxMessage, Shipment
from shipflow.store.ops_models import DelayRiskModelRow

SCHEMA = "bench_delays"
NOW = datetime(2026, 11, 25, 15, tzinfo=UTC)
CARRIERS = ("ups", "fedex", "usps", "dhl")
STATES = [
    "AL",
    "AK",
    "AZ",
    "AR",
    "CA",
    "CO",
    "CT",
    "DE",
    "FL",
    "GA",
    "HI",
    "ID",
    "IL",
    "IN",
    "IA",
    "KS",
    "KY",
    "LA",
    "ME",
    "MD",
    "MA",
    "MI",
    "MN",
    "MS",
    "MO",
    "MT",
    "NE",
    "NV",
    "NH",
    "NJ",
    "NM",
    "NY",
    "NC",
    "ND",
    "OH",
    "OK",
    "OR",
    "PA",
    "RI",
    "SC",
    "SD",
    "TN",
    "TX",
    "UT",
    "VT",
    "VA",
    "WA",
    "WV",
    "WI",
    "WY",
]
STATUSES = (  # active mix, weights in percent
    ("in_transit", 62),
    ("info_received", 14),
    ("out_for_delivery", 10),
    ("pending", 5),
    ("available_for_pickup", 3),
    ("attempt_failed", 2),
    ("exception", 2),
    ("returning_to_sender", 2),
)
COLUMNS = [
    "id",
    "brand_id",
    "carrier",
    "tracking_number",
    "warehouse_code",
    "status",
    "kind",
    "created_at",
    "updated_at",
    "last_event_at",
    "promised_date",
    "predicted_date",
    "delivered_at",
    "destination_state",
    "destination_postal_code",
    "details",
    "carrier_account",
    "service",
    "label_url",
]


def shipment_rows(brand_id: str, active: int, delivered: int, rng: random.Random):
    """Mostly healthy parcels: ~3 % predicted late (half of UPS to California, an incident),
    ~1.5 % silent past their status limit, ~1 % labels never picked up, 2 % exceptions."""
    names, weights = zip(*STATUSES, strict=True)
    limits = AlertsConfig().stale_hours
    today = NOW.date()
    for n in range(active + delivered):
        carrier, state = rng.choice(CARRIERS), rng.choice(STATES)
        status = rng.choices(names, weights)[0] if n < active else "delivered"
        unscanned = status in ("pending", "info_received")
        created = NOW - timedelta(hours=rng.uniform(1, 20 if unscanned else 72))
        if unscanned and rng.random() < 0.01:
            created -= timedelta(days=5)
        silent = limits.get(status, 48) * (rng.uniform(1.05, 2) if rng.random() < 0.015 else 0.8)
        last_event = max(created, NOW - timedelta(hours=rng.uniform(0, silent)))
        promised = today + timedelta(days=rng.randint(0, 5))
        slip = rng.random() < 0.03 or (carrier == "ups" and state == "CA" and rng.random() < 0.5)
        predicted = promised + timedelta(days=rng.randint(1, 3) if slip else 0)
        delivered_at = None
        if status == "delivered":
            promised = today - timedelta(days=rng.randint(1, 20))
            predicted = promised + timedelta(days=1 if rng.random() < 0.05 else 0)
            delivered_at = datetime.combine(predicted, datetime.min.time(), UTC)
        yield (
            f"shp_b{n:012d}",
            brand_id,
            carrier,
            f"T{n:012d}",
            rng.choice(("EWR", "DFW", "RNO")),
            status,
            "forward",
            created,
            created,
            None if unscanned else last_event,
            promised,
            predicted,
            delivered_at,
            state,
            f"{rng.randint(100, 999)}{rng.randint(0, 99):02d}",
            "{}",
            "bench",
            "ground",
            "",
        )


def load(engine, sessions, settings: Settings, active: int, delivered: int) -> str:
    with unit_of_work(sessions) as session:
        brand_id = sync_brand(session, settings.brands[0]).id
    started = time.perf_counter()
    raw = engine.raw_connection()
    copy_sql = f"COPY shipments ({', '.join(COLUMNS)}) FROM STDIN"
    with raw.driver_connection.cursor() as cursor, cursor.copy(copy_sql) as copy:
        for row in shipment_rows(brand_id, active, delivered, random.Random(7)):
            copy.write_row(row)
    raw.driver_connection.commit()
    raw.close()
    # As autovacuum leaves a live table: statistics, hint bits and visibility map set.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM (ANALYZE) shipments"))
    elapsed = time.perf_counter() - started
    print(f"loaded {active:,} active + {delivered:,} delivered shipments in {elapsed:.1f} s (COPY)")
    return brand_id


def timed_scan(sessions, settings: Settings, brand_id: str, label: str) -> tuple[float, float]:
    """The sweep's wall time and this process's CPU time (PostgreSQL's is not in it)."""
    started, cpu = time.perf_counter(), time.process_time()
    with unit_of_work(sessions) as session:  # the commit is part of the figure
        result = scan(session, brand_id, NOW, settings)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(
        f"{label}: {elapsed:.2f} s ({cpu:.2f} s CPU), candidates {result.candidates:,}, "
        f"alerts raised {result.alerts_raised:,}, grouped under incidents "
        f"{result.grouped:,}, lane incidents {len(result.incidents)}, "
        f"ShipmentDelayed published {result.events_published:,} "
        f"(load average {os.getloadavg()[0]:.1f})"
    )
    return elapsed, cpu


def load_events(engine, brand_id: str) -> None:
    """Two applied tracking events (a pickup and an arrival scan) per scanned active shipment."""
    started = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO tracking_events (shipment_id, brand_id, dedupe_key, status, raw_code,"
                " raw_text, occurred_at, location, city, state, postal_code, country, source,"
                " applied, received_at)"
                " SELECT id, brand_id, id || ':' || n, 'in_transit', 'AR', '',"
                " created_at + n * (last_event_at - created_at) / 2, '', '', '', '', '',"
                " 'webhook', true, last_event_at"
                " FROM shipments, generate_series(1, 2) AS n"
                " WHERE brand_id = :brand AND delivered_at IS NULL AND last_event_at IS NOT NULL"
            ),
            {"brand": brand_id},
        )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM (ANALYZE) tracking_events"))
    print(
        f"loaded two tracking events per scanned shipment in {time.perf_counter() - started:.1f} s"
    )


def risk_model() -> RiskModel:
    """Every carrier's ground service to every state: 40 delivered times from the order (2 to
    6 days), every weight but the intercept 0 (the features are computed all the same)."""
    times = np.linspace(2.0, 6.0, 40)
    lanes = {(f"{c}:ground", state): times for c in CARRIERS for state in STATES}
    return RiskModel(
        zone="America/New_York",
        lanes=LaneTimes(from_order=lanes),
        rates=MomentRates(),
        weights=WarningModel((-3.0,) + (0.0,) * (len(FEATURES) - 1)),
    )


def at_risk_cost(sessions, settings: Settings, brand_id: str) -> None:
    with unit_of_work(sessions) as session:
        session.execute(text("DELETE FROM delay_risk_models"))
    without = timed_scan(sessions, settings, brand_id, "sweep without a risk model")
    with unit_of_work(sessions) as session:
        row = DelayRiskModelRow(brand_id=brand_id, learned_at=NOW, checks=1)
        row.model = risk_model().to_dict()
        session.add(row)
    with sessions() as session:
        model = load_model(session, brand_id)
        assert model is not None
        judged = session.scalar(
            select(func.count())
            .select_from(Shipment)
            .where(
                Shipment.brand_id == brand_id,
                Shipment.kind == "forward",
                Shipment.delivered_at.is_(None),
                at_risk_candidates(
                    NOW, replace(policy_for(session, brand_id, settings), risk=model)
                ),
            )
        )
    with_model = timed_scan(sessions, settings, brand_id, "sweep with a risk model")
    wall, cpu = ((a - b) / max(judged, 1) for a, b in zip(with_model, without, strict=True))
    print(
        f"at_risk: {judged:,} shipments judged: {wall * 1000:.3f} ms a shipment "
        f"({cpu * 1000:.3f} ms CPU), {wall * 10_000:.2f} s per 10,000 ({cpu * 10_000:.2f} s CPU)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--active", type=int, default=1_000_000)
    parser.add_argument("--delivered", type=int, default=100_000)
    parser.add_argument(
        "--reuse", action="store_true", help="keep the loaded shipments, clear alerts and outbox"
    )
    parser.add_argument("--schema", default=SCHEMA, help=f"PostgreSQL schema (default {SCHEMA})")
    parser.add_argument(
        "--at-risk", action="store_true", help="time the at_risk detector's share of the sweep"
    )
    args = parser.parse_args()
    base = bench_server()
    url = schema_url(base, args.schema)
    if not args.reuse:
        upgrade(fresh_schema(base, args.schema))
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    settings = load_settings(environ={})
    if args.reuse:
        with engine.begin() as conn:
            conn.execute(text("TRUNCATE alerts, outbox"))
        with sessions() as session:
            brand_id = session.scalar(select(Brand.id))
    else:
        brand_id = load(engine, sessions, settings, args.active, args.delivered)
        if args.at_risk:
            load_events(engine, brand_id)
    timed_scan(sessions, settings, brand_id, "first scan (raises alerts)")
    timed_scan(sessions, settings, brand_id, "second scan (steady state)")
    if args.at_risk:
        at_risk_cost(sessions, settings, brand_id)
    with sessions() as session:
        alerts = session.scalar(select(func.count()).select_from(Alert))
        events = session.scalar(select(func.count()).select_from(OutboxMessage))
    print(f"alerts in table: {alerts:,}; outbox messages: {events:,}")
    engine.dispose()


if __name__ == "__main__":
    main()
