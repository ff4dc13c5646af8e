"""Capacity on PostgreSQL: generate N shipments with their tracking events and raw webhook
receipts (COPY, through the real migrations, so partitions and indexes are production's), then
report rows, table and index sizes per shipment and the time of the hot queries, and
extrapolate to 1, 10 and 50 million shipments a month under the default retention.

    SHIPFLOW_BENCH_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \\
        PYTHONPATH=. .venv/bin/python benchmarks/capacity.py [--shipments 200000]

Works in its own schema (`bench_capacity`), dropped and re-created on every run.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import time
from datetime import UTC, datetime, timedelta

import psycopg
from sqlalchemy import create_engine, text

from benchmarks.schemas import fresh_schema
from shipflow.config import RetentionConfig
from shipflow.store.migrate import upgrade

SCHEMA = "bench_capacity"
NOW = datetime(2026, 12, 1, tzinfo=UTC)
SPAN_DAYS = 60  # the generated shipments were created over the last two months
STATUSES = ("info_received", "in_transit", "in_transit", "in_transit", "out_for_delivery")
# A carrier webhook as carriers send them: about a kilobyte of JSON per event.
BODY = json.dumps(
    {
        "trackingNumber": "1Z0000000000000000",
        "event": {
            "status": "IN_TRANSIT",
            "description": "Departed from facility",
            "location": {"city": "Louisville", "state": "KY", "postalCode": "40213"},
            "occurredAt": "2026-11-20T10:00:00-05:00",
        },
        "shipment": {"service": "ground", "weight": {"value": 1.2, "unit": "KG"}},
        "padding": "x" * 700,
    }
).encode()


EMPTY = {
    "character varying": "",
    "text": "",
    "integer": 0,
    "bigint": 0,
    "boolean": False,
    "json": "{}",
    "jsonb": "{}",
}


def _copy(cursor: psycopg.Cursor, table: str, columns: str, rows) -> None:
    """COPY `rows` of `columns`; the table's other required columns get an empty value (the
    models' Python-side defaults, which COPY does not run)."""
    cursor.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = "
        "current_schema() AND table_name = %s AND is_nullable = 'NO' AND column_default IS NULL",
        (table,),
    )
    given = {c.strip() for c in columns.split(",")}
    extra = [(name, EMPTY[kind]) for name, kind in cursor.fetchall() if name not in given]
    names = ", ".join([columns, *(name for name, _ in extra)])
    with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row((*row, *(value for _, value in extra)))


def generate(url: str, shipments: int, events_each: int, seed: int = 7) -> float:
    rng = random.Random(seed)
    started = time.perf_counter()
    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql")) as conn:
        cursor = conn.cursor()
        cursor.execute(f"SET search_path = {SCHEMA}")
        _copy(
            cursor,
            "brands",
            "id, code, name, currency, created_at",
            [("brd_bench", "bench", "Bench", "USD", NOW)],
        )

        def shipment_rows():
            for n in range(shipments):
                created = NOW - timedelta(seconds=rng.randrange(SPAN_DAYS * 86400))
                delivered = rng.random() < 0.8
                yield (
                    f"shp_{n:010d}",
                    "brd_bench",
                    "forward",
                    "ups",
                    f"1Z{n:016d}",
                    "delivered" if delivered else "in_transit",
                    created,
                    created + timedelta(days=3),
                    {},
                )

        _copy(
            cursor,
            "shipments",
            "id, brand_id, kind, carrier, tracking_number, status, created_at, updated_at, details",
            ((*row[:-1], json.dumps(row[-1])) for row in shipment_rows()),
        )

        def event_rows():
            for n in range(shipments):
                start = NOW - timedelta(seconds=rng.randrange(SPAN_DAYS * 86400))
                for k in range(events_each):
                    at = start + timedelta(hours=12 * k)
                    yield (
                        f"shp_{n:010d}",
                        "brd_bench",
                        f"{n:x}-{k}",
                        STATUSES[min(k, len(STATUSES) - 1)],
                        "I",
                        "Departed from facility",
                        at,
                        "Louisville, KY",
                        "Louisville",
                        "KY",
                        "40213",
                        "US",
                        "webhook",
                        True,
                        at,
                    )

        _copy(
            cursor,
            "tracking_events",
            "shipment_id, brand_id, dedupe_key, status, raw_code, raw_text, occurred_at, "
            "location, city, state, postal_code, country, source, applied, received_at",
            event_rows(),
        )
        headers = json.dumps({"content-type": "application/json", "x-signature": "a" * 64})

        def receipt_rows():
            for _ in range(shipments * events_each):
                at = NOW - timedelta(seconds=rng.randrange(SPAN_DAYS * 86400))
                yield (
                    "brd_bench",
                    "carrier",
                    "ups",
                    "acc_bench",
                    headers,
                    BODY,
                    at,
                    "processed",
                    0,
                    at,
                    at,
                )

        _copy(
            cursor,
            "webhook_receipts",
            "brand_id, source_kind, carrier, account, headers, body, received_at, status, "
            "attempts, available_at, processed_at",
            receipt_rows(),
        )
        conn.commit()
        cursor.execute("ANALYZE shipments, tracking_events, webhook_receipts")
    return time.perf_counter() - started


def sizes(engine) -> dict[str, tuple[int, int, int]]:
    """Rows, table bytes and index bytes per table, partitions summed into their parent."""
    found = {}
    with engine.connect() as conn:
        for table in ("shipments", "tracking_events", "webhook_receipts"):
            parts = (  # a plain table is its own only part
                f"SELECT relid FROM pg_partition_tree('{SCHEMA}.{table}'::regclass) "
                f"UNION SELECT '{SCHEMA}.{table}'::regclass"
            )
            table_bytes = conn.scalar(text(f"SELECT sum(pg_table_size(relid)) FROM ({parts}) p"))
            index_bytes = conn.scalar(text(f"SELECT sum(pg_indexes_size(relid)) FROM ({parts}) p"))
            rows = conn.scalar(text(f"SELECT count(*) FROM {table}"))
            found[table] = (rows, int(table_bytes or 0), int(index_bytes or 0))
    return found


def hot_queries(engine, shipments: int, samples: int = 500) -> dict[str, tuple[float, float]]:
    """p50/p99 milliseconds of the lookups every event makes."""
    rng = random.Random(11)
    queries = {
        "shipment by tracking number": (
            "SELECT id, status FROM shipments WHERE carrier = 'ups' AND tracking_number = :v",
            lambda: f"1Z{rng.randrange(shipments):016d}",
        ),
        "known events of a shipment": (
            "SELECT dedupe_key FROM tracking_events WHERE shipment_id = :v",
            lambda: f"shp_{rng.randrange(shipments):010d}",
        ),
        "due receipts (claim scan)": (
            "SELECT id FROM webhook_receipts WHERE status = 'received' AND available_at <= :v "
            "ORDER BY available_at LIMIT 500",
            lambda: NOW,
        ),
    }
    timings = {}
    with engine.connect() as conn:
        for name, (sql, value) in queries.items():
            spent = []
            for _ in range(samples):
                started = time.perf_counter()
                conn.execute(text(sql), {"v": value()}).all()
                spent.append((time.perf_counter() - started) * 1000)
            spent.sort()
            timings[name] = (statistics.median(spent), spent[int(len(spent) * 0.99) - 1])
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shipments", type=int, default=200_000)
    # ~10 events a parcel: 50 million parcels a month make the ~200 events/s the issue cites
    parser.add_argument("--events-each", type=int, default=10)
    args = parser.parse_args()
    base = os.environ["SHIPFLOW_BENCH_POSTGRES_URL"]
    url = fresh_schema(base, SCHEMA)
    upgrade(url)
    seconds = generate(url, args.shipments, args.events_each)
    engine = create_engine(url)
    measured = sizes(engine)
    print(f"generated {args.shipments:,} shipments x {args.events_each} events in {seconds:.0f} s")
    print(f"{'table':18} {'rows':>12} {'table MB':>10} {'index MB':>10} {'bytes/shipment':>15}")
    per_shipment = {}
    for table, (rows, table_bytes, index_bytes) in measured.items():
        per_shipment[table] = (table_bytes + index_bytes) / args.shipments
        print(
            f"{table:18} {rows:>12,} {table_bytes / 2**20:>10.1f} {index_bytes / 2**20:>10.1f} "
            f"{per_shipment[table]:>15,.0f}"
        )
    for name, (p50, p99) in hot_queries(engine, args.shipments).items():
        print(f"{name:32} p50 {p50:.2f} ms  p99 {p99:.2f} ms")
    retention = RetentionConfig()
    kept_days = {
        "shipments": 365,  # shipment rows are kept: history and EDD training read them
        "tracking_events": retention.finished_events_days,
        "webhook_receipts": retention.receipts_days,
    }
    print("steady state under the default retention (bytes per shipment x shipments kept):")
    for monthly in (1_000_000, 10_000_000, 50_000_000):
        total = sum(per_shipment[t] * monthly * kept_days[t] / 30.4 for t in per_shipment)
        events_per_second = monthly * args.events_each / (30.4 * 86400)
        print(
            f"  {monthly / 1e6:>4.0f} M shipments/month: {total / 2**30:>8,.0f} GiB, "
            f"{events_per_second:,.0f} events/s on average, {10 * events_per_second:,.0f} at peaks"
        )
    engine.dispose()


if __name__ == "__main__":
    main()
