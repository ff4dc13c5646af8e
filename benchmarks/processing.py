"""Real tracking events fully processed by one process, stage by stage: what one job worker
(or the embedded default's in-process runner) does with a carrier's status changes.

    python benchmarks/processing.py [--database-url postgresql+psycopg://postgres@127.0.0.1/test]
        [--events 5000] [--batch 500] [--scans 1|3] [--profile receipts|outbox|messages]
        [--delivered]
    python benchmarks/processing.py --sqlite [--events 5000]   # the embedded default

Each event is a real status change of a real shipment: an order with a customer e-mail and a
promised date (one in five already broken, so delay detection raises alerts and a delay
message), one signed webhook receipt moving the parcel to in transit (`--scans 3`: then out
for delivery and delivered as well, the three scans `benchmarks/pipeline.py` sends, so the
outbox also meets the delivery messages, each parcel's last). One process then runs
the three jobs back to back until each is drained:
- receipts: matched, de-duplicated, applied, prediction revised, delays detected, outbox written;
- outbox: the shipped (and delayed) milestones rendered into customer messages, the shop
  write-back handler run (these orders came from no shop: it returns at once);
- messages: each customer message handed to an SMTP sink (`benchmarks/smtp_sink.py`, in a
  separate process, so its CPU does not count; it offers PIPELINING, as mail providers do).
With `--delivered` the events timed are the parcels' deliveries instead, once the moves to in
transit went through every stage untimed: each a delivery scan carrying the sandbox carrier's
proof of delivery (a signature, or a spot and a photo, for two parcels in three), each
parcel stored into the EDD history, its open delay alerts resolved, a delivered message.
Prints events/s (wall), CPU ms per event per stage (this process's, and on PostgreSQL its
backends', read from /proc: the database's work is on the worker's critical path), the
statements sent per event per stage (an executemany counts once: psycopg pipelines it), then
the receipts' in-transaction reactions' CPU (the delivery date, delays); `--statements` lists
each stage's statements by count; `--profile STAGE` prints the top of a CPU-time cProfile of
that stage instead of timing it. `--lock-probe` (SQLite): another process takes the write
lock every 2 ms meanwhile, as the web's group commit does, and its waits are printed per
stage: how long each stage's batches hold the lock from the web; and the CPU and wall time
the jobs hold it per event (from each batch's `BEGIN IMMEDIATE` to its commit), the CPU time
being what the machine's other load does not change. PostgreSQL runs in its own schema
(`--schema`, default `bench_processing`, dropped first); SQLite in a temporary file. Asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import multiprocessing
import os
import pstats
import socket
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import yaml
from sqlalchemy import Engine, func, insert, select, text
from sqlalchemy import event as sql_event

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.pipeline import application_name, process_cpu  # noqa: E402
from benchmarks.schemas import fresh_schema  # noqa: E402
from benchmarks.smtp_sink import serve as serve_smtp  # noqa: E402
from carriers.sandbox.proof import proof_payload  # noqa: E402
from shipflow.brands import sync_brands  # noqa: E402
from shipflow.config import load_settings  # noqa: E402
from shipflow.domain.events import ShipmentTracked  # noqa: E402
from shipflow.jobs.outbox import dispatch_due  # noqa: E402
from shipflow.jobs.postpurchase import deliver_messages  # noqa: E402
from shipflow.jobs.stages import STAGE_CPU  # noqa: E402
from shipflow.reactions import EVENT_HANDLERS  # noqa: E402
from shipflow.runtime import Runtime, settle  # noqa: E402
from shipflow.store import db  # noqa: E402
from shipflow.store.migrate import upgrade  # noqa: E402
from shipflow.store.models import (  # noqa: E402
    Alert,
    Brand,
    CarrierAccount,
    Order,
    OutboxMessage,
    Shipment,
)
from shipflow.store.postpurchase_models import CustomerMessageRow  # noqa: E402
from shipflow.store.tracking_models import WebhookReceipt  # noqa: E402
from shipflow.tracking.webhooks import RECEIVED, process_due_receipts  # noqa: E402
from tests.tracking.fake_carrier import event, fake_config, payload, register, sign  # noqa: E402

LATE_EVERY = 5  # one shipment in five has a promise already broken
APPLICATION = "shipflow-processing"  # with the schema, this run's backends' (`backends`)


def _serve(port: int) -> None:
    with open(os.devnull, "a") as out:
        asyncio.run(serve_smtp(port, out))


def smtp_sink() -> tuple[multiprocessing.Process, int]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = multiprocessing.Process(target=_serve, args=(port,), daemon=True)
    process.start()
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.05)
    return process, port


def database(args) -> str:
    if args.sqlite:
        url = f"sqlite:///{tempfile.mkdtemp()}/bench.db"
        upgrade(url)
        return url
    name = application_name(args.schema, APPLICATION)
    url = fresh_schema(args.database_url, args.schema, application_name=name)
    upgrade(url)
    return url


def config_file(url: str, smtp_port: int) -> Path:
    """The test brands on the fake carrier, quotable (the demo brand's warehouses and its
    ground service), messages never held for quiet hours, e-mail to the sink."""
    raw = fake_config(url)
    northwind = raw["brands"][0]
    for brand in raw["brands"][1:]:
        brand["warehouses"] = northwind["warehouses"]
        brand["products"] = northwind["products"]
        brand["carriers"][0]["services"] = [{"code": "ground", "level": "standard"}]
        brand["notifications"] = {"quiet_hours": {"start": "00:00", "end": "00:00"}}
    raw["smtp_url"] = f"smtp://127.0.0.1:{smtp_port}?from=track@shipflow.test"
    path = Path(tempfile.mkdtemp()) / "config.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def runtime_for(config: Path) -> Runtime:
    register()
    return Runtime.from_settings(load_settings(config))


SCANS = (("PU", "in_transit"), ("OD", "out_for_delivery"), ("DL", "delivered"))
"""Each parcel's scans with `--scans 3`, as `benchmarks/pipeline.py` sends them."""


def seed(runtime: Runtime, events: int, scans: int = 1) -> None:
    """`events` / `scans` orders, each with one shipment and `scans` receipts: in transit,
    then out for delivery and delivered (each shipment's first scan first, then the second,
    then the third, an hour apart)."""
    now = datetime.now(UTC)
    parcels = events // scans
    with runtime.sessions() as session:
        sync_brands(session, runtime.settings)
        session.commit()
        brand_id, _ = _brand(session)
        today = now.date()
        orders, shipments = [], []
        for n in range(parcels):
            promised = today - timedelta(days=3) if n % LATE_EVERY == 0 else today + timedelta(5)
            orders.append(_order(n, brand_id, now, promised))
            shipments.append(_shipment(n, brand_id, now, promised))
        session.execute(insert(Order), orders)
        session.execute(insert(Shipment), shipments)
        session.commit()
    for k, (code, status) in enumerate(SCANS[:scans]):
        at = (now - timedelta(hours=scans - 1 - k)).isoformat()
        scan(
            runtime,
            parcels,
            lambda n, c=code, s=status, t=at: payload(f"BP{n:09d}", event(c, s, t)),
        )


def deliveries(runtime: Runtime, events: int) -> None:
    """A delivery receipt for each shipment `seed` made, with the sandbox carrier's proof of
    delivery (a third of parcels signed for, a third left with a photo)."""
    now = datetime.now(UTC)
    scan(
        runtime,
        events,
        lambda n: payload(
            f"BP{n:09d}",
            event("DL", "delivered", now.isoformat()),
            proof=proof_payload(f"BP{n:09d}"),
        ),
    )


def _brand(session) -> tuple[str, str]:
    brand_id, account_id = session.execute(
        select(Brand.id, CarrierAccount.id)
        .join(CarrierAccount, CarrierAccount.brand_id == Brand.id)
        .where(Brand.code == "tb")
    ).one()
    return brand_id, account_id


def scan(runtime: Runtime, events: int, body: Callable[[int], bytes]) -> None:
    """One signed receipt for shipment n, `body(n)`, for each of the `events` shipments."""
    now = datetime.now(UTC)
    with runtime.sessions() as session:
        brand_id, account_id = _brand(session)
        receipts = []
        for n in range(events):
            signed = body(n)
            receipts.append(
                {
                    "brand_id": brand_id,
                    "source_kind": "carrier",
                    "carrier": "fake",
                    "account": account_id,
                    "headers": {"X-Fake-Signature": sign(signed)},
                    "body": signed,
                    "received_at": now,
                    "available_at": now,
                    "status": RECEIVED,
                    "attempts": 0,
                }
            )
        session.execute(insert(WebhookReceipt), receipts)
        session.commit()


def _order(n: int, brand_id: str, now: datetime, promised: date) -> dict:
    return {
        "id": f"ord_bench{n:09d}",
        "brand_id": brand_id,
        "order_number": f"BP-{n}",
        "customer_name": "Parisa Rahimi",
        "customer_email": f"customer{n}@example.com",
        "ship_to": {"city": "Springfield", "state": "IL", "postal_code": "62704", "country": "US"},
        "currency": "USD",
        "language": "en",
        "placed_at": now - timedelta(days=1),
        "promised_date": promised,
    }


def _shipment(n: int, brand_id: str, now: datetime, promised: date) -> dict:
    return {
        "id": f"shp_bench{n:09d}",
        "brand_id": brand_id,
        "order_id": f"ord_bench{n:09d}",
        "carrier": "fake",
        "carrier_account": "main",
        "service": "ground",
        "warehouse_code": "EWR",
        "tracking_number": f"BP{n:09d}",
        "destination_state": "IL",
        "destination_postal_code": "62704",
        "promised_date": promised,
        "created_at": now - timedelta(hours=20),
        "next_poll_at": now,
    }


STAGES: dict[str, Callable[[Runtime, int], int]] = {
    "receipts": lambda runtime, batch: process_due_receipts(runtime, limit=batch),
    "outbox": lambda runtime, batch: dispatch_due(runtime, limit=batch),
    "messages": lambda runtime, batch: deliver_messages(runtime),
}


@dataclass
class Drained:
    """What draining a stage took."""

    wall: float  # seconds
    cpu: float  # this process's CPU seconds
    database_cpu: float  # its PostgreSQL backends' CPU seconds (0 on SQLite)
    statements: Counter[str] = field(default_factory=Counter)  # sent, by text
    # seconds until each statement came back, by text
    waited: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))


def backends(runtime: Runtime) -> list[int]:
    if runtime.engine.dialect.name != "postgresql":
        return []
    with runtime.engine.connect() as conn:
        return list(
            conn.scalars(
                text(
                    "SELECT pid FROM pg_stat_activity"
                    " WHERE application_name = current_setting('application_name')"
                )
            )
        )


def drain(runtime: Runtime, stage: str, batch: int) -> Drained:
    """Run `stage` until it finds nothing left."""
    job = STAGES[stage]
    drained = Drained(0.0, 0.0, 0.0)
    started: list[float] = []

    def before(conn, cursor, statement, *args) -> None:
        drained.statements[statement] += 1
        started.append(time.perf_counter())

    def after(conn, cursor, statement, *args) -> None:
        drained.waited[statement] += time.perf_counter() - started.pop()

    cpu_before = {pid: process_cpu(pid) for pid in backends(runtime)}
    sql_event.listen(runtime.engine, "before_cursor_execute", before)
    sql_event.listen(runtime.engine, "after_cursor_execute", after)
    wall, cpu = time.perf_counter(), time.process_time()
    while job(runtime, batch):
        pass
    drained.wall, drained.cpu = time.perf_counter() - wall, time.process_time() - cpu
    sql_event.remove(runtime.engine, "before_cursor_execute", before)
    sql_event.remove(runtime.engine, "after_cursor_execute", after)
    drained.database_cpu = sum(
        process_cpu(pid) - cpu_before.get(pid, 0.0) for pid in backends(runtime)
    )
    return drained


def _probe(path: str, stop, waits) -> None:
    """Take the write lock every 2 ms (an empty write transaction), as the group commit
    would; send (when it asked, seconds waited) for each."""
    driver = sqlite3.connect(path)
    noted = []
    while not stop.is_set():
        asked = time.monotonic()
        db.sqlite_write_lock(driver, 60.0)
        noted.append((asked, time.monotonic() - asked))
        driver.execute("COMMIT")
        time.sleep(0.002)
    waits.send(noted)


class LockHolds:
    """CPU and wall seconds from each `BEGIN IMMEDIATE` the jobs take (`db.sqlite_write_lock`,
    replaced by one that notes the time) to the commit or rollback that ends it."""

    def __init__(self, engine: Engine) -> None:
        self.cpu = self.wall = 0.0
        self._since: tuple[float, float] | None = None
        take = db.sqlite_write_lock

        def noted(driver: sqlite3.Connection, patience: float | None = None) -> None:
            take(driver, patience)
            self._since = (time.thread_time(), time.perf_counter())

        db.sqlite_write_lock = noted
        for name in ("commit", "rollback"):
            sql_event.listen(engine, name, self._released)

    def _released(self, _connection) -> None:
        if self._since is not None:
            cpu, wall = self._since
            self.cpu += time.thread_time() - cpu
            self.wall += time.perf_counter() - wall
            self._since = None


def lock_waits(noted: list[tuple[float, float]], spans: dict[str, tuple[float, float]]) -> str:
    """The probe's waits for the lock while each stage ran: p50 / p99 / max ms."""
    parts = []
    for stage, (start, end) in spans.items():
        waits = sorted(wait * 1000 for asked, wait in noted if start <= asked < end)
        if len(waits) > 1:
            p99 = statistics.quantiles(waits, n=100, method="inclusive")[98]
            parts.append(f"{stage} {statistics.median(waits):.1f} / {p99:.1f} / {waits[-1]:.1f}")
    return "; ".join(parts)


def counts(runtime: Runtime) -> dict[str, int]:
    with runtime.sessions() as session:
        return {
            "receipts left": session.scalar(
                select(func.count(WebhookReceipt.id)).where(WebhookReceipt.status != "processed")
            ),
            "outbox messages": session.scalar(select(func.count(OutboxMessage.id))),
            "alerts": session.scalar(select(func.count(Alert.id))),
            "customer e-mails sent": session.scalar(
                select(func.count(CustomerMessageRow.id)).where(CustomerMessageRow.status == "sent")
            ),
        }


def stage_cpu() -> dict[str, float]:
    """CPU seconds so far by stage (`shipflow_stage_cpu_seconds`: thread time)."""
    return {
        sample.labels["stage"]: sample.value
        for metric in STAGE_CPU.collect()
        for sample in metric.samples
        if sample.name.endswith("_sum")
    }


def reactions_cpu(events: int, before: dict[str, float]) -> str:
    """The receipts' in-transaction reactions, CPU ms per event, from the stage timings since
    `before` (`stage_cpu`; cProfile's overhead per call inflates the call-heavy revision
    several times over)."""
    sums = stage_cpu()
    handlers = EVENT_HANDLERS[ShipmentTracked].handlers
    names = [f"reaction:{h.__name__}" for h in handlers]
    return ", ".join(
        f"{name.removeprefix('reaction:')} "
        f"{(sums.get(name, 0.0) - before.get(name, 0.0)) / events * 1000:.3f}"
        for name in names
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default="postgresql+psycopg://postgres@127.0.0.1/test")
    parser.add_argument("--sqlite", action="store_true")
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument(
        "--scans", type=int, choices=(1, 2, 3), default=1, help="a parcel's: see `SCANS`"
    )
    parser.add_argument("--profile", choices=sorted(STAGES))
    parser.add_argument("--statements", action="store_true", help="list each stage's SQL")
    parser.add_argument("--schema", default="bench_processing")
    parser.add_argument("--lock-probe", action="store_true", help="SQLite: see the module doc")
    parser.add_argument(
        "--delivered", action="store_true", help="time the parcels' deliveries (module doc)"
    )
    args = parser.parse_args()
    sink, port = smtp_sink()
    url = database(args)
    runtime = runtime_for(config_file(url, port))
    seed(runtime, args.events, args.scans)
    runtime.edd.warm_up(runtime.clock.now())
    settle()  # as a worker does before its first job
    if args.delivered:
        for stage in STAGES:  # the parcels moving, not timed
            drain(runtime, stage, args.batch)
        deliveries(runtime, args.events // args.scans)
    untimed = stage_cpu()
    figures, spans = {}, {}
    held: dict[str, tuple[float, float]] = {}
    if args.lock_probe:
        holds = LockHolds(runtime.engine)
        stop, (received, sent) = multiprocessing.Event(), multiprocessing.Pipe(duplex=False)
        path = url.removeprefix("sqlite:///")
        probe = multiprocessing.Process(target=_probe, args=(path, stop, sent), daemon=True)
        probe.start()
    for stage in STAGES:
        start = time.monotonic()
        if stage == args.profile:
            profiler = cProfile.Profile(time.process_time)  # CPU: the load distorts it least
            figures[stage] = profiler.runcall(drain, runtime, stage, args.batch)
            profiler.dump_stats(os.environ.get("BENCH_PROFILE_OUT", os.devnull))
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(
                int(os.environ.get("BENCH_PROFILE_LINES", "45"))
            )
        else:
            figures[stage] = drain(runtime, stage, args.batch)
        spans[stage] = (start, time.monotonic())
        if args.lock_probe:
            held[stage] = (
                holds.cpu - sum(c for c, _ in held.values()),
                holds.wall - sum(w for _, w in held.values()),
            )
    sink.terminate()
    if args.lock_probe:
        stop.set()
        per_event = ", ".join(
            f"{s} {c / args.events * 1000:.3f} / {w / args.events * 1000:.3f}"
            for s, (c, w) in held.items()
        )
        waits = (
            f"; write lock held, CPU / wall ms per event: {per_event}"
            f"; write lock waits every 2 ms, p50 / p99 / max ms: {lock_waits(received.recv(), spans)}"
        )
        probe.join()
    n = args.events
    if args.statements:
        for stage, drained in figures.items():
            print(f"{stage}: {drained.statements.total()} statements (times sent, ms waited)")
            for statement, seconds in sorted(drained.waited.items(), key=lambda i: -i[1]):
                times = drained.statements[statement]
                print(f"  {times:5d} {seconds * 1000:8.1f}  {' '.join(statement.split())[:140]}")
    wall = sum(d.wall for d in figures.values())
    cpu = sum(d.cpu for d in figures.values())
    database_cpu = sum(d.database_cpu for d in figures.values())

    def split(value: Callable[[Drained], float], scale: float = 1000) -> str:
        """`value` per event of each stage (by default seconds as milliseconds)."""
        return ", ".join(f"{s} {value(d) / n * scale:.2f}" for s, d in figures.items())

    print(
        f"{'sqlite' if args.sqlite else 'postgresql'}, 1 process, {n} events, batch "
        f"{args.batch}: {n / wall:.0f} events/s fully processed ({wall:.1f} s wall; "
        f"{n / figures['receipts'].wall:.0f}/s through receipts alone; ms/event "
        f"{split(lambda d: d.wall)}); CPU {cpu / n * 1000:.2f} "
        f"ms/event ({split(lambda d: d.cpu)}); PostgreSQL CPU {database_cpu / n * 1000:.2f} "
        f"ms/event ({split(lambda d: d.database_cpu)}); statements/event "
        f"{split(lambda d: d.statements.total(), 1)}; {counts(runtime)}; "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}"
        f"{waits if args.lock_probe else ''}",
        flush=True,
    )
    print(f"in-transaction reactions, CPU ms/event: {reactions_cpu(n, untimed)}")


if __name__ == "__main__":
    main()
