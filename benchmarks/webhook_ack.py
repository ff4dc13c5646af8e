"""The web's CPU per acknowledged webhook, alone: `shipflow serve` as `benchmarks/pipeline.py`
runs it (gunicorn, `--web-processes` workers, `jobs: celery` with Redis, the access log on),
offered the pipeline's own signed sandbox webhooks open-loop, with no Celery worker, beat or
SMTP sink: a run takes seconds and measures only what acknowledging costs.

    PYTHONPATH=. .venv/bin/python benchmarks/webhook_ack.py [--rate 1000] [--duration 8]
        [--web-processes 2] [--connections 32] [--port 18730] [--schema bench_webhook_ack]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test]
        [--redis-url redis://127.0.0.1:6379/7]

Prints the web's CPU milliseconds per acknowledged event (/proc, every gunicorn process) and
its PostgreSQL backends', the statuses, and the machine's load. The broker's database is flushed before and after (the
wakes' tasks pile up there with no worker). Reports figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import redis
import yaml

from benchmarks import pipeline


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=1000.0, help="events offered per second")
    parser.add_argument("--duration", type=float, default=8.0, help="seconds of offered load")
    parser.add_argument("--web-processes", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--connections", type=int, default=32, help="HTTP keep-alive connections")
    parser.add_argument(
        "--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/7")
    parser.add_argument("--schema", default="bench_webhook_ack", help="dropped first")
    parser.add_argument("--port", type=int, default=18730)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    folder = Path(tempfile.mkdtemp(prefix="shipflow-webhook-ack-"))
    (folder / "metrics").mkdir()
    url, engine = pipeline.fresh_database(args, "celery", folder)
    base = f"http://127.0.0.1:{args.port}"
    config = folder / "config.yaml"
    config.write_text(
        yaml.safe_dump(pipeline.bench_config(url, "celery", args.redis_url, args.port + 1, base))
    )
    env = {
        **os.environ,
        "SHIPFLOW_CONFIG": str(config),
        "SHIPFLOW_SECRET_KEY": pipeline.SECRET_KEY,
        "PROMETHEUS_MULTIPROC_DIR": str(folder / "metrics"),
        "WEB_CONCURRENCY": str(args.web_processes),
    }
    for command in (pipeline.shipflow("db", "upgrade"), pipeline.shipflow("demo", "load")):
        subprocess.run(command, env=env, cwd=folder, check=True, capture_output=True)
    shipments = max(1, round(args.rate * args.duration / len(pipeline.SCANS)))
    now = datetime.now(UTC)
    _, account_id = pipeline.seed(engine, shipments + pipeline.WARM_UP, now)
    requests = pipeline.webhook_requests(range(shipments), account_id, args.port, now)
    warm_up = pipeline.webhook_requests(
        range(shipments, shipments + pipeline.WARM_UP), account_id, args.port, now, 1
    )
    broker = redis.Redis.from_url(args.redis_url)
    broker.flushdb()
    procs = pipeline.Processes(folder, env)
    try:
        web = procs.start(
            "web", pipeline.shipflow("serve", "--host", "127.0.0.1", "--port", str(args.port))
        )
        pipeline.wait_for("web", lambda: pipeline.answers(f"{base}/readyz"))
        pipeline.offer(warm_up, pipeline.WARM_UP, args.port, pipeline.WARM_UP)
        meter = pipeline.CpuMeter({"web": [web.pid]}, database=engine)
        load_before = os.getloadavg()[0]
        meter.start()
        offered = pipeline.offer(requests, args.rate, args.port, args.connections)
        cpu, busy = meter.stop()
        load_after = os.getloadavg()[0]
    except BaseException:
        print(f"run failed or interrupted; its logs: {folder}")
        raise
    finally:
        procs.stop()
        engine.dispose()
        broker.flushdb()
    shutil.rmtree(folder)
    acked = offered.status.count(202)
    statuses = ", ".join(f"{s}: {n}" for s, n in sorted(Counter(offered.status).items()))
    print(
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, load {load_before:.2f}-{load_after:.2f}, "
        f"machine {busy:.0%} busy: {len(requests)} offered at {args.rate:g}/s ({statuses}); "
        f"web CPU {cpu['web']:.2f} s, {cpu['web'] / max(1, acked) * 1000:.3f} ms per "
        f"acknowledged event; PostgreSQL (the group commits) "
        f"{cpu['postgres'] / max(1, acked) * 1000:.3f} ms"
    )


if __name__ == "__main__":
    main()
