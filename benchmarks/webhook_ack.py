"""The web's CPU per acknowledged webhook, alone: `shipflow serve` as `benchmarks/pipeline.py`
runs it (granian, `--web-processes` workers, `jobs: celery` with Redis, the access log on),
offered the pipeline's own signed sandbox webhooks open-loop, with no Celery worker, beat or
SMTP sink: a run takes seconds and measures only what acknowledging costs.

    PYTHONPATH=. .venv/bin/python benchmarks/webhook_ack.py [--rate 1000] [--duration 8]
        [--web-processes 2] [--connections 32] [--port 18730] [--schema bench_webhook_ack]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test]
        [--redis-url redis://127.0.0.1:6379/7]

Prints the web's CPU milliseconds per acknowledged event (/proc, every web process) and
its PostgreSQL backends', the statuses, and the machine's load. The broker's database is flushed before and after (the
wakes' tasks pile up there with no worker). Reports figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import shutil
from collections import Counter
from datetime import UTC, datetime

from benchmarks import pipeline


def parse_args() -> argparse.Namespace:
    parser = pipeline.load_arguments(__doc__.split("\n\n")[0], 1000.0, 8.0, "bench_webhook_ack")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    setup = pipeline.prepare(args, "celery", "shipflow-webhook-ack-")
    engine, requests = setup.engine, setup.requests
    pipeline.forget_tasks(args.redis_url)
    procs = pipeline.Processes(setup.folder, setup.env)
    try:
        web = procs.start(
            "web", pipeline.shipflow("serve", "--host", "127.0.0.1", "--port", str(args.port))
        )
        pipeline.wait_for("web", lambda: pipeline.answers(f"{setup.base}/readyz"))
        pipeline.offer(setup.warm_up, pipeline.WARM_UP, args.port, pipeline.WARM_UP)
        meter = pipeline.CpuMeter({"web": [web.pid]}, database=engine, schema=args.schema)
        load_before = os.getloadavg()[0]
        meter.start()
        offered = pipeline.offer(requests, args.rate, args.port, args.connections)
        cpu, busy = meter.stop()
        load_after = os.getloadavg()[0]
    except BaseException:
        print(f"run failed or interrupted; its logs: {setup.folder}")
        raise
    finally:
        procs.stop()
        engine.dispose()
        pipeline.forget_tasks(args.redis_url)
    shutil.rmtree(setup.folder)
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
