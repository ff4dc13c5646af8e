"""Receipt processing on real shipments: how many carrier events per second the job workers
turn into applied status changes (matched, de-duplicated, stored, replayed, prediction
revised, delay detection run, outbox written), then how fast the outbox drains.

    python benchmarks/pipeline.py [--database-url postgresql+psycopg://postgres@127.0.0.1/test]
        [--events 20000] [--workers 1 2 4] [--batch 500]
    python benchmarks/pipeline.py --sqlite [--events 20000]   # the embedded default

Each run: `--events` shipments, one signed webhook receipt each (a real status change,
in_transit), stored as the web path stores them; then N worker processes sweep the
receipts (`process_due_receipts`) back to back, then the outbox (`dispatch_due`). PostgreSQL
runs in its own schema (`bench_pipeline`, dropped first); SQLite in a temporary file.
Reports figures; asserts nothing. Not covered yet: gunicorn + wrk in front, Celery workers,
customer messages to an SMTP sink (see docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import yaml
from sqlalchemy import create_engine, func, insert, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from shipflow.brands import sync_brands  # noqa: E402
from shipflow.config import load_settings  # noqa: E402
from shipflow.jobs.outbox import dispatch_due  # noqa: E402
from shipflow.runtime import Runtime  # noqa: E402
from shipflow.store.migrate import upgrade  # noqa: E402
from shipflow.store.models import Brand, CarrierAccount, OutboxMessage, Shipment  # noqa: E402
from shipflow.store.tracking_models import WebhookReceipt  # noqa: E402
from shipflow.tracking.webhooks import RECEIVED, process_due_receipts  # noqa: E402
from tests.tracking.fake_carrier import event, fake_config, payload, register, sign  # noqa: E402

SCHEMA = "bench_pipeline"


def database(args) -> str:
    if args.sqlite:
        url = f"sqlite:///{tempfile.mkdtemp()}/bench.db"
        upgrade(url)
        return url
    admin = create_engine(args.database_url)
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {SCHEMA}"))
    admin.dispose()
    separator = "&" if "?" in args.database_url else "?"
    url = f"{args.database_url}{separator}options=-csearch_path%3D{SCHEMA}"
    upgrade(url)
    return url


def runtime_for(config: Path) -> Runtime:
    register()
    return Runtime.from_settings(load_settings(config))


def seed(config: Path, events: int, round_: int) -> None:
    """`events` shipments (made once), and one receipt each moving it to a new status."""
    runtime = runtime_for(config)
    now = datetime.now(UTC)
    with runtime.sessions() as session:
        sync_brands(session, runtime.settings)
        session.commit()
        brand_id, account_id = session.execute(
            select(Brand.id, CarrierAccount.id)
            .join(CarrierAccount, CarrierAccount.brand_id == Brand.id)
            .where(Brand.code == "tb")
        ).one()
        if round_ == 0:
            session.execute(
                insert(Shipment),
                [
                    {
                        "id": f"shp_bench{n:09d}",
                        "brand_id": brand_id,
                        "carrier": "fake",
                        "carrier_account": "main",
                        "tracking_number": f"BP{n:09d}",
                        "next_poll_at": now,
                    }
                    for n in range(events)
                ],
            )
        # Each round a later scan: in transit, then out for delivery, then delivered.
        code, status = [("PU", "in_transit"), ("OD", "out_for_delivery"), ("DL", "delivered")][
            round_ % 3
        ]
        at = datetime(2026, 11, 23, 8 + round_, tzinfo=UTC).isoformat()
        rows = []
        for n in range(events):
            body = payload(f"BP{n:09d}", event(code, status, at))
            rows.append(
                {
                    "brand_id": brand_id,
                    "source_kind": "carrier",
                    "carrier": "fake",
                    "account": account_id,
                    "headers": {"X-Fake-Signature": sign(body)},
                    "body": body,
                    "received_at": now,
                    "available_at": now,
                    "status": RECEIVED,
                    "attempts": 0,
                }
            )
        session.execute(insert(WebhookReceipt), rows)
        session.commit()
    runtime.engine.dispose()


def work(config: Path, job: str, batch: int, out: multiprocessing.Queue) -> None:
    """One worker process: sweep back to back until nothing is left; report CPU seconds."""
    runtime = runtime_for(config)
    sweep = process_due_receipts if job == "receipts" else dispatch_due
    started = time.process_time()
    while sweep(runtime, limit=batch):
        pass
    out.put(time.process_time() - started)
    runtime.engine.dispose()


def stage(config: Path, job: str, workers: int, batch: int) -> tuple[float, float]:
    """Wall seconds and total CPU seconds for `workers` processes to drain `job`."""
    out: multiprocessing.Queue = multiprocessing.Queue()
    started = time.perf_counter()
    procs = [
        multiprocessing.Process(target=work, args=(config, job, batch, out)) for _ in range(workers)
    ]
    for p in procs:
        p.start()
    cpu = sum(out.get() for _ in procs)
    for p in procs:
        p.join()
    return time.perf_counter() - started, cpu


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default="postgresql+psycopg://postgres@127.0.0.1/test")
    parser.add_argument("--sqlite", action="store_true")
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()
    url = database(args)
    config = Path(tempfile.mkdtemp()) / "config.yaml"
    config.write_text(yaml.safe_dump(fake_config(url)))
    workers = [1] if args.sqlite else args.workers
    for round_, n in enumerate(workers):
        seed(config, args.events, round_)
        wall, cpu = stage(config, "receipts", n, args.batch)
        out_wall, out_cpu = stage(config, "outbox", n, args.batch)
        runtime = runtime_for(config)
        with runtime.sessions() as session:
            left = session.scalar(
                select(func.count(WebhookReceipt.id)).where(WebhookReceipt.status != "processed")
            )
            messages = session.scalar(select(func.count(OutboxMessage.id)))
        runtime.engine.dispose()
        print(
            f"{'sqlite' if args.sqlite else 'postgresql'}, {n} worker process(es), "
            f"{args.events} events (round {round_}): receipts {args.events / wall:.0f} events/s "
            f"({cpu / args.events * 1000:.2f} ms CPU/event), outbox {messages} messages total, "
            f"this round drained in {out_wall:.1f}s ({out_cpu / args.events * 1000:.2f} ms "
            f"CPU/event); {left} receipts not processed; {os.cpu_count()} CPUs, "
            f"load average {os.getloadavg()[0]:.1f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
