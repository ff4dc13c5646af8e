"""End to end, as deployed: signed carrier webhooks for real shipments in, customer e-mails
out, on the processes shipflow runs in production, all started (and stopped) here.

    PYTHONPATH=. .venv/bin/python benchmarks/pipeline.py [--rate 1500] [--duration 60]
        [--workers 1 2 4] [--web-processes 2] [--modes celery embedded]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test]
        [--redis-url redis://127.0.0.1:6379/7] [--schema bench_pipeline]

Each run starts from a fresh database (PostgreSQL: the schema `--schema`, dropped and migrated
with `shipflow db upgrade`; embedded: a new SQLite file), loads one brand with a sandbox
carrier account (`shipflow demo load`), and seeds rate x duration / 3 orders with a
shipment each. Then:
- `celery` mode, for each N of --workers: `shipflow serve` (granian, --web-processes
  processes), N `shipflow worker` processes (their default pool, or --worker-threads
  threads each) and `shipflow beat`, Redis (its DB flushed first) as the broker;
- `embedded` mode: `shipflow serve` alone (SQLite; its web worker and its jobs process);
and a local SMTP sink (`benchmarks/smtp_sink.py`) that timestamps each message.

The load is open-loop: event i is due at start + i / rate, whatever became of the earlier
ones, and latencies count from that moment. Each shipment gets three signed sandbox webhooks,
each a real status change (picked up -> out for delivery -> delivered), so each event is
matched, de-duplicated, applied, its delivery date revised, delay detection run, the outbox
written and drained (customer message queued, shop write-back run) and one e-mail sent.

Reported per run: acknowledgements, events fully processed per second (an event is done when
its e-mail reached the sink, which follows its receipt's processing and its outbox
reactions), p50/p99 from the carrier's request to that e-mail, the backlog (receipts
waiting) every second, and CPU milliseconds per event: by process (/proc: the web, Celery
worker, beat, the PostgreSQL backends of the run, the sink, this load generator) and by stage
(`shipflow_stage_cpu_seconds`, written by every process to PROMETHEUS_MULTIPROC_DIR). The
machine's own load is printed beside them: CPU time is what other work on the machine does
not distort. Reports figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import redis
import yaml
from prometheus_client import CollectorRegistry
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import Engine, create_engine, func, insert, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.row_versions import Writes, index_counts, table_writes  # noqa: E402
from benchmarks.row_versions import report as rows_report  # noqa: E402
from benchmarks.schemas import fresh_schema, schema_url  # noqa: E402
from benchmarks.smtp_sink import read_arrivals  # noqa: E402
from carriers.sandbox import mapping, signing  # noqa: E402
from carriers.sandbox.network import RawEvent  # noqa: E402
from carriers.sandbox.places import Place  # noqa: E402
from shipflow.jobs.process import NAME as JOBS_PROCESS  # noqa: E402
from shipflow.store.models import (  # noqa: E402
    Brand,
    CarrierAccount,
    Order,
    OutboxMessage,
    Shipment,
)
from shipflow.store.postpurchase_models import CustomerMessageRow  # noqa: E402
from shipflow.store.tracking_models import WebhookReceipt  # noqa: E402

WARM_UP = 20  # shipments whose first scan warms every process before measuring
STATS_HANDED_OVER = 11.0  # s: an idle backend's table counters reach the server (row_versions)
APPLICATION = "shipflow-pipebench"  # with the schema: a run's backends' application_name
WEBHOOK_SECRET = "pipeline-benchmark-webhook-secret"
SECRET_KEY = "pipeline-benchmark-secret-key-not-for-production-use"
ACCOUNT = "sandbox-main"
# The three scans each parcel gets, each a status change with its customer message.
SCANS = (("PU", "shipped"), ("OD", "out_for_delivery"), ("DL", "delivered"))
# Destinations (ZIP, city, state, lat, lng): a few lanes for the delivery-date model.
DESTINATIONS = (
    ("10001", "New York", "NY", 40.7506, -73.9972),
    ("60601", "Chicago", "IL", 41.8858, -87.6181),
    ("94103", "San Francisco", "CA", 37.7726, -122.4099),
    ("75201", "Dallas", "TX", 32.7889, -96.8021),
    ("33101", "Miami", "FL", 25.7791, -80.1978),
)
HUB = Place("Edison", "NJ", 40.5187, -74.4121, "America/New_York", "08817")
CLK_TCK = os.sysconf("SC_CLK_TCK")


def load_arguments(description: str, rate: float, duration: float, schema: str):
    """The flags `pipeline.py` and `webhook_ack.py` share: the load offered to `shipflow
    serve` and where its database, broker and port are."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--rate", type=float, default=rate, help="events offered per second")
    parser.add_argument("--duration", type=float, default=duration, help="seconds of load")
    parser.add_argument("--web-processes", type=int, default=2, help="web workers (celery)")
    parser.add_argument("--connections", type=int, default=32, help="HTTP keep-alive connections")
    parser.add_argument(
        "--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/7")
    parser.add_argument("--schema", default=schema, help="PostgreSQL, dropped first")
    parser.add_argument("--port", type=int, default=18730, help="web; the SMTP sink gets +1")
    return parser


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = load_arguments(__doc__.split("\n\n")[0], 1500.0, 60.0, "bench_pipeline")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4], help="processes")
    parser.add_argument(
        "--worker-threads", type=int, help="each worker's threads (default: `shipflow worker`'s)"
    )
    parser.add_argument("--modes", nargs="+", choices=["celery", "embedded"])
    parser.add_argument("--drain-timeout", type=float, default=120.0, help="seconds after load")
    args = parser.parse_args(argv)
    args.modes = args.modes or ["celery", "embedded"]
    if args.rate <= 0 or args.duration <= 0 or min(args.workers) < 1:
        parser.error("--rate, --duration and --workers must be positive")
    return args


# --- processes ----------------------------------------------------------------------------------


class Processes:
    """Everything a run starts, each in its own process group: stopped together on exit,
    Ctrl-C or failure (SIGTERM, then SIGKILL after `grace` seconds)."""

    def __init__(self, logs: Path, env: dict[str, str], grace: float = 15.0) -> None:
        self.logs, self.env, self.grace = logs, env, grace
        self.started: dict[str, subprocess.Popen] = {}

    def start(self, name: str, argv: list[str], **env: str) -> subprocess.Popen:
        log = (self.logs / f"{name}.log").open("ab")
        proc = subprocess.Popen(
            argv,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**self.env, **env},
            cwd=self.logs,
            start_new_session=True,
        )
        self.started[name] = proc
        return proc

    def stop(self) -> None:
        for proc in self.started.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + self.grace
        for proc in self.started.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(max(0.1, deadline - time.monotonic()))
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)  # the group: children left behind too
            proc.wait()
        self.started.clear()


def shipflow(*args: str) -> list[str]:
    """The project's own command (installed beside this Python), as systemd runs it."""
    return [str(Path(sys.executable).parent / "shipflow"), *args]


def wait_for(what: str, ready, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} not ready after {timeout:.0f}s (logs in the run folder)")
        time.sleep(0.2)


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


# --- CPU time from /proc --------------------------------------------------------------------


def process_cpu(pid: int) -> float:
    """CPU seconds of `pid` and of its children it has reaped."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat[stat.rindex(")") + 2 :].split()
    return sum(int(f) for f in fields[11:15]) / CLK_TCK  # utime stime cutime cstime


def process_name(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            with contextlib.suppress(OSError):
                todo.extend(int(c) for c in (task / "children").read_text().split())
    return found


def application_name(schema: str, script: str = APPLICATION) -> str:
    """The `application_name` of a run's PostgreSQL backends: with the run's schema, so a run
    counts its own backends' CPU and not those of another checkout's run on the same server
    (each in a schema of its own)."""
    return f"{script}-{schema}"


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values) - idle) / CLK_TCK, sum(values) / CLK_TCK


@dataclass
class CpuMeter:
    """CPU seconds per group of processes between `start` and `stop` (per pid, so processes
    born during the run count from zero)."""

    groups: dict[str, list[int]] = field(default_factory=dict)  # name -> root pids
    database: Engine | None = None  # PostgreSQL: the run's backends too,
    schema: str = ""  # found by the run's schema (`application_name`)
    before: dict[int, float] = field(default_factory=dict)
    machine_before: tuple[float, float] = (0.0, 0.0)

    def _pids(self) -> dict[str, list[int]]:
        pids = {
            name: [p for r in roots for p in descendants(r)] for name, roots in self.groups.items()
        }
        # The embedded default's jobs process is a child of `shipflow serve`: counted apart.
        jobs = [p for p in pids.get("web", []) if process_name(p) == JOBS_PROCESS]
        if jobs:
            pids["web"] = [p for p in pids["web"] if p not in jobs]
            pids["jobs process"] = jobs
        if self.database is not None:
            with self.database.connect() as conn:
                pids["postgres"] = list(
                    conn.scalars(
                        text("SELECT pid FROM pg_stat_activity WHERE application_name = :name"),
                        {"name": application_name(self.schema)},
                    )
                )
        return pids

    def start(self) -> None:
        self.before = {p: process_cpu(p) for ps in self._pids().values() for p in ps}
        self.machine_before = machine_busy()

    def stop(self) -> tuple[dict[str, float], float]:
        """CPU seconds by group, and the machine's busy share (0..1 of all its cores)."""
        used = {
            name: sum(process_cpu(p) - self.before.get(p, 0.0) for p in ps)
            for name, ps in self._pids().items()
        }
        busy, total = machine_busy()
        share = (busy - self.machine_before[0]) / max(1e-9, total - self.machine_before[1])
        return used, share


def stage_cpu(directory: Path) -> dict[str, tuple[float, int]]:
    """`shipflow_stage_cpu_seconds` summed over every process: stage -> (seconds, count)."""
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(directory))
    stages: dict[str, list[float]] = {}
    for metric in registry.collect():
        if metric.name != "shipflow_stage_cpu_seconds":
            continue
        for sample in metric.samples:
            entry = stages.setdefault(sample.labels["stage"], [0.0, 0.0])
            if sample.name.endswith("_sum"):
                entry[0] += sample.value
            elif sample.name.endswith("_count"):
                entry[1] += sample.value
    return {stage: (seconds, int(count)) for stage, (seconds, count) in stages.items()}


# --- data ---------------------------------------------------------------------------------------


def bench_config(database_url: str, jobs: str, broker_url: str, smtp_port: int, base: str) -> dict:
    """One brand, one sandbox account, e-mail at any hour (no quiet hours)."""
    return {
        "database_url": database_url,
        "base_url": base,
        "jobs": jobs,
        "broker_url": broker_url,
        "smtp_url": f"smtp://127.0.0.1:{smtp_port}?from=shop@bench.example.com",
        "brands": [
            {
                "code": "bench",
                "name": "Bench Outfitters",
                "languages": ["en"],
                "warehouses": [
                    {
                        "code": "EWR",
                        "name": "Edison, New Jersey",
                        "country": "US",
                        "postal_code": "08817",
                        "city": "Edison",
                        "state": "NJ",
                        "latitude": 40.5187,
                        "longitude": -74.4121,
                        "timezone": "America/New_York",
                        "holiday_country": "US",
                    }
                ],
                "carriers": [
                    {
                        "code": ACCOUNT,
                        "carrier": "sandbox",
                        "sandbox": True,
                        "credentials": {"webhook_secret": WEBHOOK_SECRET},
                        "services": [{"code": "ground", "level": "standard"}],
                    }
                ],
                "notifications": {"quiet_hours": {"start": "00:00", "end": "00:00"}},
            }
        ],
    }


def tracking_number(n: int) -> str:
    return f"SBXBENCH{n:010d}"


def seed(engine: Engine, shipments: int, now: datetime) -> tuple[str, str]:
    """`shipments` orders of one parcel each, labelled and waiting for their first scan.
    Returns the brand's id and its sandbox account's id."""
    with engine.begin() as conn:
        brand_id, account_id = conn.execute(
            select(Brand.id, CarrierAccount.id)
            .join(CarrierAccount, CarrierAccount.brand_id == Brand.id)
            .where(Brand.code == "bench", CarrierAccount.code == ACCOUNT)
        ).one()
        today = now.date()
        for start in range(0, shipments, 5000):
            numbers = range(start, min(shipments, start + 5000))
            conn.execute(insert(Order), [_order(n, brand_id, now, today) for n in numbers])
            conn.execute(insert(Shipment), [_shipment(n, brand_id, now, today) for n in numbers])
    return brand_id, account_id


def analyze(engine: Engine) -> None:
    """Statistics on every table of the run, as a production database has them (autovacuum
    analyzes its tables as they grow; this machine's PostgreSQL runs without it). Taken once
    the warm-up has put rows in every table the run writes: what the planner learns then
    (ids unique, shipment ids nearly so) holds at any size. Without them the plans are
    guesses that scan whole tables as they grow: a batch's shipments looked up among all of
    the carrier's, its e-mails' read-ahead a scan of every e-mail (docs/benchmarks.md, "CPU
    per event")."""
    if engine.dialect.name != "postgresql":
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        tables = conn.scalars(
            text(
                "SELECT relname FROM pg_class WHERE relnamespace = current_schema()::regnamespace"
                " AND relkind IN ('r', 'p') AND NOT relispartition"
            )
        ).all()
        conn.execute(text(f"VACUUM (ANALYZE) {', '.join(tables)}"))


def _order(n: int, brand_id: str, now: datetime, today: date) -> dict:
    zip_code, city, state, _, _ = DESTINATIONS[n % len(DESTINATIONS)]
    return {
        "id": f"ord_bench{n:010d}",
        "brand_id": brand_id,
        "order_number": f"B{n:07d}",
        "placed_at": now - timedelta(days=2),
        "customer_name": f"Customer {n}",
        "customer_email": f"customer{n}@bench.example.com",
        "ship_to": {"country": "US", "postal_code": zip_code, "city": city, "state": state},
        "currency": "USD",
        "language": "en",
        "promised_date": today + timedelta(days=5),
        "created_at": now - timedelta(days=2),
    }


def _shipment(n: int, brand_id: str, now: datetime, today: date) -> dict:
    zip_code, _, state, _, _ = DESTINATIONS[n % len(DESTINATIONS)]
    return {
        "id": f"shp_bench{n:010d}",
        "brand_id": brand_id,
        "order_id": f"ord_bench{n:010d}",
        "carrier": "sandbox",
        "carrier_account": ACCOUNT,
        "service": "ground",
        "tracking_number": tracking_number(n),
        "warehouse_code": "EWR",
        "status": "info_received",
        "promised_date": today + timedelta(days=5),
        "predicted_date": today + timedelta(days=3),
        "created_at": now - timedelta(days=1),
        "updated_at": now - timedelta(days=1),
        "destination_state": state,
        "destination_postal_code": zip_code,
    }


@dataclass(frozen=True)
class Webhook:
    """One event's HTTP request, signed when it is sent, as a carrier signs: built all ahead
    and signed then, a request that waited minutes for a connection under overload arrived
    with a signature older than the sandbox accepts (300 s) and was refused with 401."""

    head: str
    body: bytes

    def request(self) -> bytes:
        headers = signing.sign(WEBHOOK_SECRET, self.body, datetime.now(UTC))
        lines = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        return f"{self.head}{lines}Content-Length: {len(self.body)}\r\n\r\n".encode() + self.body


def webhook_requests(
    shipments: range, account_id: str, port: int, now: datetime, scans: int = len(SCANS)
) -> list[Webhook]:
    """Every event's webhook, in the order offered: each shipment's first scan, then each
    one's second, then each one's third (a scan per parcel an hour apart, in the past)."""
    head = f"POST /webhooks/sandbox/{account_id} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
    requests = []
    for k, (code, _) in enumerate(SCANS[:scans]):
        at = now - timedelta(hours=len(SCANS) - k)
        for n in shipments:
            zip_code, city, state, lat, lng = DESTINATIONS[n % len(DESTINATIONS)]
            place = HUB if k == 0 else Place(city, state, lat, lng, "", zip_code)
            event = RawEvent(code, at, place, f"{place.city} hub")
            body = mapping.webhook_body(
                tracking_number(n), "ground", now + timedelta(days=2), event, now
            )
            requests.append(Webhook(head, body))
    return requests


def message_key(event: int, shipments: int) -> str:
    """The delivery key of the e-mail event `event` causes (shipflow.notify.timing)."""
    return f"msg:shp_bench{event % shipments:010d}:{SCANS[event // shipments][1]}:email"


# --- load ---------------------------------------------------------------------------------------


@dataclass
class Offered:
    start: float  # unix time event 0 was due
    rate: float
    acked: list[float]  # unix time each was acknowledged (0: never)
    status: list[int]  # HTTP status (0: no answer)
    end: float = 0.0  # unix time the last answer came
    cpu: float = 0.0  # this process's CPU seconds offering it

    def due(self, event: int) -> float:
        return self.start + event / self.rate


async def _offer(requests: list[Webhook], rate: float, port: int, connections: int) -> Offered:
    offered = Offered(time.time() + 0.5, rate, [0.0] * len(requests), [0] * len(requests))
    queue: asyncio.Queue[int | None] = asyncio.Queue()

    async def pace() -> None:
        for event in range(len(requests)):
            delay = offered.due(event) - time.time()
            if delay > 0.002:
                await asyncio.sleep(delay)
            queue.put_nowait(event)
        for _ in range(connections):
            queue.put_nowait(None)

    async def connection() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while (event := await queue.get()) is not None:
            for attempt in range(2):  # a keep-alive connection the server closed: once more
                try:
                    writer.write(requests[event].request())
                    head = await reader.readuntil(b"\r\n\r\n")
                    length = re.search(rb"(?i)content-length:\s*(\d+)", head)
                    await reader.readexactly(int(length.group(1)) if length else 0)
                    offered.acked[event], offered.status[event] = time.time(), int(head[9:12])
                    if re.search(rb"(?i)connection:\s*close", head):
                        writer.close()
                        reader, writer = await asyncio.open_connection("127.0.0.1", port)
                    break
                except (OSError, asyncio.IncompleteReadError):
                    writer.close()
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                    if attempt:
                        offered.status[event] = 0
        writer.close()

    await asyncio.gather(pace(), *(connection() for _ in range(connections)))
    offered.end = time.time()
    return offered


def offer(requests: list[Webhook], rate: float, port: int, connections: int) -> Offered:
    started = time.process_time()
    offered = asyncio.run(_offer(requests, rate, port, connections))
    offered.cpu = time.process_time() - started
    return offered


# --- backlog ------------------------------------------------------------------------------------


@dataclass
class Backlog:
    """Every second: receipts waiting, outbox messages waiting, e-mails waiting."""

    engine: Engine
    samples: list[tuple[int, int, int]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def now(self) -> tuple[int, int, int]:
        with self.engine.connect() as conn:
            return (
                conn.scalar(select(func.count()).where(WebhookReceipt.status == "received")),
                conn.scalar(select(func.count()).where(OutboxMessage.processed_at.is_(None))),
                conn.scalar(select(func.count()).where(CustomerMessageRow.status == "scheduled")),
            )

    def _run(self) -> None:
        next_at = time.monotonic()
        while not self._stop.is_set():
            with contextlib.suppress(Exception):  # a busy SQLite: this second's sample is lost
                self.samples.append(self.now())
            next_at += 1.0
            self._stop.wait(max(0.0, next_at - time.monotonic()))

    def __enter__(self) -> Backlog:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def series(self, column: int) -> str:
        values = [sample[column] for sample in self.samples]
        return " ".join(str(v) for v in values)


# --- one run ------------------------------------------------------------------------------------


@dataclass
class Result:
    label: str
    events: int
    offered: Offered
    arrivals: dict[str, float]
    left: tuple[int, int, int]  # receipts, outbox messages, e-mails still waiting at the end
    receipts_done: tuple[int, float]  # how many were processed, the last one when
    cpu: dict[str, float]
    stages: dict[str, tuple[float, int]]
    machine_share: float
    load: tuple[float, float]
    backlog: Backlog
    # PostgreSQL's table counters before and after the load, and each table's indexes
    rows: tuple[dict[str, Writes], dict[str, Writes], dict[str, tuple[int, int]]] | None


def forget_tasks(redis_url: str) -> None:
    """Empty the broker's database (this benchmark's own, `--redis-url`): tasks queued by an
    earlier run would run first, or against a schema since dropped."""
    redis.Redis.from_url(redis_url).flushdb()


def fresh_database(args: argparse.Namespace, mode: str, folder: Path) -> tuple[str, Engine]:
    if mode == "embedded":
        url = f"sqlite:///{folder / 'shipflow.db'}"
        return url, create_engine(url)
    url = fresh_schema(
        args.database_url, args.schema, application_name=application_name(args.schema)
    )
    return url, create_engine(schema_url(args.database_url, args.schema))


@dataclass
class Setup:
    """A run's folder (logs, config, metrics), database, environment and load, made ready."""

    folder: Path
    engine: Engine
    env: dict[str, str]
    base: str
    requests: list[Webhook]
    warm_up: list[Webhook]


def prepare(args: argparse.Namespace, mode: str, prefix: str) -> Setup:
    """A fresh database migrated, the demo brand loaded, rate x duration / 3 shipments seeded
    (and the warm-up's), their signed webhooks made, and `shipflow`'s environment."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    (folder / "metrics").mkdir()
    url, engine = fresh_database(args, mode, folder)
    base = f"http://127.0.0.1:{args.port}"
    config = folder / "config.yaml"
    jobs = "celery" if mode == "celery" else "inprocess"
    config.write_text(yaml.safe_dump(bench_config(url, jobs, args.redis_url, args.port + 1, base)))
    env = {
        **os.environ,
        "SHIPFLOW_CONFIG": str(config),
        "SHIPFLOW_SECRET_KEY": SECRET_KEY,
        "PROMETHEUS_MULTIPROC_DIR": str(folder / "metrics"),
        "WEB_CONCURRENCY": str(args.web_processes),
        "PYTHONPATH": str(ROOT),
    }
    for command in (shipflow("db", "upgrade"), shipflow("demo", "load")):
        subprocess.run(command, env=env, cwd=folder, check=True, capture_output=True)
    shipments = max(1, round(args.rate * args.duration / len(SCANS)))
    now = datetime.now(UTC)
    _, account_id = seed(engine, shipments + WARM_UP, now)
    requests = webhook_requests(range(shipments), account_id, args.port, now)
    warm_up = webhook_requests(range(shipments, shipments + WARM_UP), account_id, args.port, now, 1)
    return Setup(folder, engine, env, base, requests, warm_up)


def receipts_processed(engine: Engine, since: float) -> tuple[int, float]:
    """How many receipts of the load (received after `since`) were processed, and when the
    last of them was (unix time)."""
    with engine.connect() as conn:
        count, last = conn.execute(
            select(func.count(), func.max(WebhookReceipt.processed_at)).where(
                WebhookReceipt.received_at >= datetime.fromtimestamp(since, UTC),
                WebhookReceipt.processed_at.is_not(None),
            )
        ).one()
    if last is None:
        return 0, math.nan
    return count, (last if last.tzinfo else last.replace(tzinfo=UTC)).timestamp()


def run_once(args: argparse.Namespace, mode: str, workers: int) -> Result:
    label = f"celery, {workers} worker process(es)" if mode == "celery" else "embedded"
    if mode == "celery" and args.worker_threads:
        label += f", {args.worker_threads} threads each"
    setup = prepare(args, mode, "shipflow-pipebench-")
    folder, engine, base = setup.folder, setup.engine, setup.base
    metrics, requests, warm_up = folder / "metrics", setup.requests, setup.warm_up
    if mode == "celery":
        forget_tasks(args.redis_url)
    sink_file = folder / "smtp.tsv"
    procs = Processes(folder, setup.env)
    try:
        sink = procs.start(
            "smtp-sink",
            [
                sys.executable,
                str(ROOT / "benchmarks" / "smtp_sink.py"),
                str(args.port + 1),
                str(sink_file),
            ],
        )
        web = procs.start("web", shipflow("serve", "--host", "127.0.0.1", "--port", str(args.port)))
        meter = CpuMeter({"web": [web.pid], "smtp sink": [sink.pid]})
        if mode == "celery":
            threads = ["--concurrency", str(args.worker_threads)] if args.worker_threads else []
            pids = [
                procs.start(f"worker{n}", shipflow("worker", "-n", f"w{n}@%h", *threads)).pid
                for n in range(workers)
            ]
            beat = procs.start("beat", shipflow("beat", "--schedule", str(folder / "beat")))
            meter.groups |= {"workers": pids, "beat": [beat.pid]}
            meter.database, meter.schema = engine, args.schema
            for n in range(workers):
                log = folder / f"worker{n}.log"
                wait_for(f"worker {n}", lambda log=log: b" ready." in log.read_bytes())
        wait_for("web", lambda: answers(f"{base}/readyz"))
        # Each process builds its runtime (postal index, models) on first use: not measured.
        offer(warm_up, WARM_UP, args.port, min(args.connections, WARM_UP))
        wait_for("warm-up", lambda: not any(Backlog(engine).now()[:2]), 300)
        analyze(engine)
        rows_before = None
        if mode == "celery":
            time.sleep(STATS_HANDED_OVER)
            with engine.connect() as conn:
                rows_before = table_writes(conn)
        load_before = os.getloadavg()
        meter.start()
        stages_before = stage_cpu(metrics)
        with Backlog(engine) as backlog:
            offered = offer(requests, args.rate, args.port, args.connections)
            deadline = time.time() + args.drain_timeout
            while any(left := backlog.now()) and time.time() < deadline:
                time.sleep(0.2)
        cpu, share = meter.stop()
        receipts_done = receipts_processed(engine, offered.start)
        stages_after = stage_cpu(metrics)
        load_after = os.getloadavg()
    except BaseException:
        print(f"run failed or interrupted; its logs: {folder}", file=sys.stderr)
        raise
    finally:
        procs.stop()
        engine.dispose()
        if mode == "celery":
            forget_tasks(args.redis_url)  # a run cut short leaves its queue
    arrivals = read_arrivals(sink_file)
    shutil.rmtree(folder)
    rows = None if rows_before is None else (rows_before, *rows_after(args))
    cpu["load generator"] = offered.cpu
    stages = {
        stage: (
            seconds - stages_before.get(stage, (0.0, 0))[0],
            count - stages_before.get(stage, (0.0, 0))[1],
        )
        for stage, (seconds, count) in stages_after.items()
    }
    return Result(
        label,
        len(requests),
        offered,
        arrivals,
        left,
        receipts_done,
        cpu,
        stages,
        share,
        (load_before[0], load_after[0]),
        backlog,
        rows,
    )


def rows_after(args: argparse.Namespace) -> tuple[dict[str, Writes], dict[str, tuple[int, int]]]:
    """The schema's table counters once the run's backends have exited (which hands them
    over), and its tables' indexes."""
    engine = create_engine(schema_url(args.database_url, args.schema))
    backends = text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :name")

    def exited() -> bool:
        with engine.connect() as conn:  # a transaction sees one snapshot of the activity
            return not conn.scalar(backends, {"name": application_name(args.schema)})

    try:
        wait_for("the run's backends to exit", exited)
        with engine.connect() as conn:
            return table_writes(conn), index_counts(conn)
    finally:
        engine.dispose()


# --- report -------------------------------------------------------------------------------------

IN_TRANSACTION = ("reaction:revise_delivery_date", "reaction:detect_delays")
OUTBOX_HANDLERS = ("reaction:on_milestone", "reaction:tell_the_shop")
RECEIPT_JOBS = ("tracking.process_receipts", "tracking.process_receipt")
OUTBOX_JOB, MESSAGES_JOB = "outbox.dispatch", "postpurchase.deliver_messages"


def stage_rows(stages: dict[str, tuple[float, int]]) -> list[tuple[str, float]]:
    """CPU seconds by the issue's stages (jobs include the reactions they ran; subtracted)."""
    seconds = {stage: value for stage, (value, _) in stages.items()}
    take = lambda *names: sum(seconds.pop(n, 0.0) for n in names)  # noqa: E731
    reactions = {n: seconds.get(n, 0.0) for n in IN_TRANSACTION + OUTBOX_HANDLERS}
    rows = [
        (
            "ingest/apply (receipts job, less its reactions)",
            take(*RECEIPT_JOBS) - take(*IN_TRANSACTION),
        ),
        ("  reaction: EDD revision", reactions[IN_TRANSACTION[0]]),
        ("  reaction: delay detection", reactions[IN_TRANSACTION[1]]),
        ("outbox dispatch (less its handlers)", take(OUTBOX_JOB) - take(*OUTBOX_HANDLERS)),
        ("  handler: customer message (render, queue)", reactions[OUTBOX_HANDLERS[0]]),
        ("  handler: shop write-back", reactions[OUTBOX_HANDLERS[1]]),
        ("e-mail delivery (SMTP)", take(MESSAGES_JOB)),
        (
            "other periodic jobs",
            sum(v for n, v in seconds.items() if not n.startswith("reaction:")),
        ),
    ]
    return rows


def batch_runs(stages: dict[str, tuple[float, int]]) -> dict[str, int]:
    """How many runs each stage's job made (its empty ones too): the fewer per event, the
    larger its batches, each run's fixed cost (claim, commit, wake) shared by more events."""
    runs = {job: stages.get(job, (0.0, 0))[1] for job in (*RECEIPT_JOBS, OUTBOX_JOB, MESSAGES_JOB)}
    return {job: count for job, count in runs.items() if count}


def percentile(values: list[float], q: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


def refused(statuses: list[int]) -> str:
    """ ": 503 x12, no answer x3" for the events not acknowledged ("" if none)."""
    counts = Counter(status for status in statuses if not 200 <= status < 300)
    return "".join(
        f"{', ' if n else ': '}{status or 'no answer'} x{count}"
        for n, (status, count) in enumerate(sorted(counts.items()))
    )


def report(result: Result, shipments: int) -> Iterator[str]:
    offered, events = result.offered, result.events
    acked = [i for i in range(events) if 200 <= offered.status[i] < 300]
    ack_ms = [(offered.acked[i] - offered.due(i)) * 1000 for i in acked]
    done = {i: result.arrivals.get(message_key(i, shipments)) for i in acked}
    latencies = [at - offered.due(i) for i, at in done.items() if at is not None]
    finished = [at for at in done.values() if at is not None]
    window = offered.due(events - 1) - offered.start
    in_window = sum(1 for at in finished if at <= offered.start + window)
    last = max(finished, default=offered.start)
    yield f"== {result.label}: {events} events offered at {offered.rate:g}/s for {window:.0f}s"
    last_ack = max((offered.acked[i] for i in acked), default=offered.start)
    yield (
        f"   acknowledged {len(acked)} of {events}{refused(offered.status)}; "
        f"{len(acked) / max(1e-9, last_ack - offered.start):.0f}/s; ack p50/p99 "
        f"{percentile(ack_ms, 0.5):.0f}/{percentile(ack_ms, 0.99):.0f} ms (from when due)"
    )
    yield (
        f"   fully processed (e-mail at the sink): {len(finished)} of {len(acked)}"
        + (
            f"; {len(finished) / max(1e-9, last - offered.start):.0f} events/s start to last "
            f"e-mail, {in_window / max(1e-9, window):.0f} events/s within the offered window; "
            f"the last {last - offered.due(events - 1):.1f}s after the last was due"
            if finished
            else ""
        )
        + (f"; NOT drained: {result.left} still waiting" if any(result.left) else "")
    )
    receipts, receipts_last = result.receipts_done
    yield (
        f"   receipts (ingest, apply, EDD, delays; outbox written): {receipts} processed, the "
        f"last {receipts_last - offered.start:.1f}s after the start: "
        f"{receipts / max(1e-9, receipts_last - offered.start):.0f} events/s"
    )
    yield "   request -> e-mail at the SMTP sink: " + (
        f"p50 {percentile(latencies, 0.5):.2f}s, p99 {percentile(latencies, 0.99):.2f}s, "
        f"max {max(latencies):.2f}s"
        if latencies
        else "none arrived"
    )
    yield f"   receipts waiting, every 1 s: {result.backlog.series(0)}"
    yield f"   outbox waiting, every 1 s:   {result.backlog.series(1)}"
    yield f"   e-mails waiting, every 1 s:  {result.backlog.series(2)}"
    per_event = lambda seconds: seconds / max(1, len(acked)) * 1000  # noqa: E731
    cpu = "; ".join(f"{name} {per_event(s):.2f}" for name, s in result.cpu.items())
    yield f"   CPU ms/event by process: {cpu}; total {per_event(sum(result.cpu.values())):.2f}"
    yield "   CPU ms/event by stage:" + (
        " (per event acknowledged; not drained, so the stages after the web saw only part)"
        if any(result.left)
        else ""
    )
    yield f"     web ack (granian: parse, verify, group commit) {per_event(result.cpu['web']):.3f}"
    for name, seconds in stage_rows(result.stages):
        yield f"     {name} {per_event(seconds):.3f}"
    yield "   runs (events per run), each a batch: " + "; ".join(
        f"{job} {runs} ({len(acked) / max(1, runs):.1f})"
        for job, runs in batch_runs(result.stages).items()
    )
    if result.rows is not None:
        yield from rows_report(*result.rows, len(acked))
    yield (
        f"   machine: {os.cpu_count()} CPUs busy {result.machine_share * 100:.0f}% during the run "
        f"(all processes, other helpers' included); load average {result.load[0]:.1f} before, "
        f"{result.load[1]:.1f} after"
    )


def main() -> None:
    args = parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop what was started, then exit
    shipments = max(1, round(args.rate * args.duration / len(SCANS)))
    runs = [("celery", n) for n in args.workers if "celery" in args.modes]
    runs += [("embedded", 1)] if "embedded" in args.modes else []
    for mode, workers in runs:
        result = run_once(args, mode, workers)
        for line in report(result, shipments):
            print(line, flush=True)


if __name__ == "__main__":
    main()
