"""Tracking benchmarks on PostgreSQL (loopback only, bounded in time and count):

1. webhook ingestion: the app under granian on 127.0.0.1, signed webhooks posted by `wrk`
   (or a thread pool when wrk is absent) for a fixed time; the store-raw-then-ack path.
   Prints webhooks (events) per second sustained and the p99 acknowledgement latency.
2. poll scheduler: 1,000,000 active shipments COPYed in, then due batches leased.

    python benchmarks/tracking.py [--database-url postgresql+psycopg://postgres@127.0.0.1/test]
        [--seconds 15] [--connections 16] [--wrk-threads 1] [--workers 2] [--threads 8]
        [--shipments 1000000]

Runs in its own schema (`bench_tracking`, dropped first). Reports figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml
from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import webhook_load  # noqa: E402
from benchmarks.schemas import bench_server, fresh_schema  # noqa: E402
from shipflow.brands import sync_brands  # noqa: E402
from shipflow.config import load_settings  # noqa: E402
from shipflow.runtime import Runtime  # noqa: E402
from shipflow.store.migrate import upgrade  # noqa: E402
from shipflow.store.models import Brand, CarrierAccount  # noqa: E402
from shipflow.store.tracking_models import WebhookReceipt  # noqa: E402
from shipflow.tracking.polling import lease_due  # noqa: E402
from shipflow.tracking.webhooks import process_due_receipts  # noqa: E402
from tests.tracking.fake_carrier import event, fake_config, payload, register, sign  # noqa: E402

SCHEMA = "bench_tracking"


def prepare_schema(admin_url: str, schema: str = SCHEMA) -> str:
    url = fresh_schema(admin_url, schema)
    upgrade(url)
    return url


def bench_ingestion(url: str, args) -> None:
    config = Path(tempfile.mkdtemp()) / "config.yaml"
    config.write_text(yaml.safe_dump(fake_config(url)))
    runtime = Runtime.from_settings(load_settings(config))
    with runtime.sessions() as session:
        sync_brands(session, runtime.settings)
        session.commit()
        account_id = session.scalar(
            select(CarrierAccount.id)
            .join(Brand, Brand.id == CarrierAccount.brand_id)
            .where(Brand.code == "tb")
        )
    body = payload("1Z999AA10123456784", event("PU", "in_transit", "2026-11-23T08:00:00-05:00"))
    headers = {"X-Fake-Signature": sign(body)}
    result = webhook_load.post_for(
        config, f"/webhooks/fake/{account_id}", body, headers, args, args.wrk_threads
    )
    with runtime.sessions() as session:
        stored = session.scalar(select(func.count(WebhookReceipt.id)))
    register()
    started, processed = time.perf_counter(), 0
    while time.perf_counter() - started < args.seconds:  # the runner's sweep, back to back
        done = process_due_receipts(runtime, limit=500)
        processed += done
        if not done:
            break
    drain_rate = processed / (time.perf_counter() - started)
    print(
        f"webhook ingestion ({result['tool']} x{args.wrk_threads} threads, "
        f"{args.connections} connections, "
        f"{args.workers} web workers x {args.threads} threads, {args.seconds}s): "
        f"{result['per_second']:.0f} events/s sustained, {webhook_load.acknowledged(result)}, "
        f"{stored} receipts stored (warm-up included); server CPU {result['cpu_ms']:.2f} ms "
        f"per request; {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}"
    )
    print(
        f"receipt processing (the job runner's sweep, one thread, after the run): "
        f"{drain_rate:.0f} receipts/s, {stored - processed} left after {args.seconds}s"
    )
    runtime.engine.dispose()


def bench_leasing(url: str, args) -> None:
    settings = load_settings(ROOT / "config.yaml", environ={"SHIPFLOW_DATABASE_URL": url})
    runtime = Runtime.from_settings(settings)
    with runtime.sessions() as session:
        sync_brands(session, settings)
        session.commit()
        brand_id = session.scalar(select(Brand.id).limit(1))
    now = datetime.now(UTC)
    started = time.perf_counter()
    raw = runtime.engine.raw_connection()
    try:
        cursor = raw.cursor()
        columns = (
            "id, brand_id, kind, carrier, carrier_account, service, tracking_number, "
            "warehouse_code, status, label_url, created_at, updated_at, next_poll_at, details"
        )
        with cursor.copy(f"COPY shipments ({columns}) FROM STDIN") as copy:
            for n in range(args.shipments):
                # Active shipments spread over the next six hours; one in ten overdue.
                due = now + timedelta(seconds=(n * 7919) % 21600 - (21600 if n % 10 == 0 else 0))
                status = "in_transit" if n % 4 else "out_for_delivery"
                copy.write_row(
                    (
                        f"shp_bench{n:012d}",
                        brand_id,
                        "forward",
                        "sandbox",
                        "",
                        "",
                        f"BT{n:012d}",
                        "",
                        status,
                        "",
                        now,
                        now,
                        due,
                        "{}",
                    )
                )
        cursor.execute("ANALYZE shipments")
        raw.commit()
    finally:
        raw.close()
    elapsed = time.perf_counter() - started
    print(f"inserted {args.shipments:,} active shipments (COPY) in {elapsed:.1f}s")
    config = settings.tracking
    timings = []
    with runtime.sessions() as session:
        for _ in range(10):
            t = time.perf_counter()
            rows = lease_due(session, now, config, config.poll_batch)
            timings.append(time.perf_counter() - t)
            assert len(rows) == config.poll_batch
    print(
        f"poll lease over {args.shipments:,} shipments, batches of {config.poll_batch}: "
        f"median {statistics.median(timings) * 1000:.1f} ms, max {max(timings) * 1000:.1f} ms "
        f"(10 leases, SELECT ... FOR UPDATE SKIP LOCKED)"
    )
    runtime.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url",
        default=bench_server(),
    )
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--shipments", type=int, default=1_000_000)
    parser.add_argument("--skip", choices=["ingestion", "leasing"], action="append", default=[])
    parser.add_argument("--wrk-threads", type=int, default=1)
    args = parser.parse_args()
    url = prepare_schema(args.database_url)
    if "ingestion" not in args.skip:
        bench_ingestion(url, args)
    if "leasing" not in args.skip:
        bench_leasing(url, args)


if __name__ == "__main__":
    main()
