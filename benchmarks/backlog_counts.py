"""The backlog count job (`edd.count_backlogs`) at scale on PostgreSQL: N forward shipments
of one brand spread over the 180 days before `NOW` (4 services, 1-7 days in transit, those not
yet delivered in flight), loaded by COPY through the real migrations, then the job timed as it
runs: on a fresh row, 10 minutes later (the steady state, every 10 minutes) and a day later.

    SHIPFLOW_BENCH_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \\
        PYTHONPATH=. .venv/bin/python -m benchmarks.backlog_counts [--shipments 2000000]

Works in its own schema (`--schema`, default `bench_backlog`), dropped and re-created.
"""

from __future__ import annotations

import argparse
import os
import random
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from benchmarks.schemas import bench_server, fresh_schema, schema_url
from shipflow.brands import sync_brand
from shipflow.clock import FixedClock
from shipflow.config import load_settings
from shipflow.edd.backlog import count_backlogs
from shipflow.runtime import Runtime
from shipflow.store.db import unit_of_work
from shipflow.store.migrate import upgrade

SCHEMA = "bench_backlog"
NOW = datetime(2026, 12, 1, 15, tzinfo=UTC)
SERVICES = (("ups", "ground"), ("ups", "express"), ("fedex", "ground"), ("usps", "priority"))
COLUMNS = (
    "id, brand_id, carrier, tracking_number, warehouse_code, status, kind, created_at,"
    " updated_at, shipped_at, delivered_at, details, carrier_account, service, label_url"
)


def shipment_rows(brand_id: str, shipments: int, rng: random.Random):
    for n in range(shipments):
        carrier, service = rng.choice(SERVICES)
        shipped = NOW - timedelta(days=180 * n / shipments)
        delivered = shipped + timedelta(days=rng.uniform(1, 7))
        status = "delivered" if delivered < NOW else "in_transit"
        yield (
            f"shp_b{n:012d}",
            brand_id,
            carrier,
            f"T{n:012d}",
            "EWR",
            status,
            "forward",
            shipped - timedelta(hours=rng.uniform(1, 30)),
            shipped,
            shipped,
            delivered if delivered < NOW else None,
            "{}",
            "bench",
            service,
            "",
        )


def load(runtime: Runtime, shipments: int) -> str:
    with unit_of_work(runtime.sessions) as session:
        brand_id = sync_brand(session, runtime.settings.brands[0]).id
    started = time.perf_counter()
    raw = runtime.engine.raw_connection()
    with (
        raw.driver_connection.cursor() as cursor,
        cursor.copy(f"COPY shipments ({COLUMNS}) FROM STDIN") as copy,
    ):
        for row in shipment_rows(brand_id, shipments, random.Random(7)):
            copy.write_row(row)
    raw.driver_connection.commit()
    raw.close()
    with runtime.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM (ANALYZE) shipments"))
    print(f"loaded {shipments:,} shipments in {time.perf_counter() - started:.1f} s (COPY)")
    return brand_id


def timed_count(runtime: Runtime, label: str) -> None:
    started = time.perf_counter()
    counted = count_backlogs(runtime)
    elapsed = time.perf_counter() - started
    print(
        f"{label}: {elapsed:.2f} s, {counted} brand(s) counted "
        f"(load average {os.getloadavg()[0]:.1f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shipments", type=int, default=2_000_000)
    parser.add_argument("--schema", default=SCHEMA, help=f"PostgreSQL schema (default {SCHEMA})")
    args = parser.parse_args()
    base = bench_server()
    upgrade(fresh_schema(base, args.schema))
    settings = load_settings(environ={"SHIPFLOW_DATABASE_URL": schema_url(base, args.schema)})
    clock = FixedClock(NOW)
    runtime = Runtime.from_settings(settings, clock=clock)
    load(runtime, args.shipments)
    timed_count(runtime, "first count (no stored counts)")
    clock.advance(timedelta(minutes=10))
    timed_count(runtime, "10 minutes later (the steady state)")
    clock.advance(timedelta(days=1))
    timed_count(runtime, "a day later")
    runtime.engine.dispose()


if __name__ == "__main__":
    main()
