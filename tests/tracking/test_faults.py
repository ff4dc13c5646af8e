"""Faults across real processes (`shipflow serve` under granian, Celery worker and beat, a
private Redis) on this machine's PostgreSQL: nothing acknowledged is lost or applied twice."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
import redis
import requests
from sqlalchemy import func, select

from shipflow.clock import FixedClock, SystemClock
from shipflow.jobs.celery_app import THREADS
from shipflow.jobs.inprocess import InProcessRunner
from shipflow.store.models import Shipment, TrackingEventRow
from shipflow.store.tracking_models import WebhookReceipt
from tests.tracking.fake_carrier import event, payload
from tests.tracking.processes import (
    free_port,
    needs_redis_server,
    needs_services,
    post_signed,
    redis_server,
    serve,
    shipflow,
    stop,
    wait_until,
    write_config,
)

pytestmark = [*needs_services, pytest.mark.parametrize("database_url", ["postgres"], indirect=True)]


def add_shipments(runtime, brand, count: int) -> None:
    with runtime.sessions.begin() as session:
        session.add_all(
            Shipment(
                brand_id=brand.id, carrier="fake", carrier_account="main", tracking_number=f"TN{n}"
            )
            for n in range(count)
        )


def scan(n: int) -> bytes:
    return payload(f"TN{n}", event("PU", "in_transit", "2026-11-20T09:00:00+00:00"))


def events_per_number(runtime) -> Counter[str]:
    with runtime.sessions() as session:
        rows = session.execute(
            select(Shipment.tracking_number, func.count(TrackingEventRow.id))
            .join(TrackingEventRow, TrackingEventRow.shipment_id == Shipment.id)
            .group_by(Shipment.tracking_number)
        ).all()
    return Counter(dict(rows))


def receipt_statuses(runtime) -> Counter[str]:
    with runtime.sessions() as session:
        rows = session.execute(
            select(WebhookReceipt.status, func.count()).group_by(WebhookReceipt.status)
        ).all()
    return Counter(dict(rows))


class Load:
    """Threads sending one signed scan per shipment, as fast as the service answers."""

    def __init__(self, port: int, account_id: str, shipments: int, threads: int = 8) -> None:
        self.port, self.account_id = port, account_id
        self.numbers = iter(range(shipments))
        self.lock = threading.Lock()
        self.answers: dict[int, int | str] = {}  # shipment -> HTTP status or the error's name
        self.stopped = threading.Event()
        self.threads = [threading.Thread(target=self._send) for _ in range(threads)]

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        for thread in self.threads:
            thread.join(timeout=30)

    def _send(self) -> None:
        while not self.stopped.is_set():
            with self.lock:
                n = next(self.numbers, None)
            if n is None:
                return
            try:
                answer: int | str = post_signed(self.port, self.account_id, scan(n)).status_code
            except requests.RequestException as exc:
                answer = type(exc).__name__
            self.answers[n] = answer

    def acknowledged(self) -> set[str]:
        return {f"TN{n}" for n, answer in self.answers.items() if answer == 202}


def test_kill_9_of_the_web_process_during_group_commits_loses_no_acknowledged_event(
    runtime, tracked, tmp_path
):
    """The web process (granian's main process and worker, with the receipt writer's batches in
    flight) is SIGKILLed under load; afterwards every acknowledged scan is applied exactly
    once, and no scan twice."""
    runtime.clock = SystemClock()  # the processes stamp receipts on real time
    brand = tracked["tb"]
    add_shipments(runtime, brand, 1000)
    port = free_port()
    web = serve(write_config(tmp_path, runtime.settings.database_url), port)
    try:
        with Load(port, brand.account_id, 1000) as load:
            wait_until(lambda: len(load.acknowledged()) >= 200)
            stop(web, signal.SIGKILL)
            time.sleep(0.2)  # the requests in flight fail
            load.stopped.set()
    finally:
        stop(web)
    acknowledged = load.acknowledged()
    refused = [a for a in load.answers.values() if a != 202]
    assert acknowledged and refused  # killed with requests in flight

    # Receipts the killed process had leased wait out their lease; an hour later they are due.
    runtime.clock = FixedClock(SystemClock().now() + timedelta(hours=1))
    InProcessRunner(runtime).drain()
    applied = events_per_number(runtime)
    assert {tn: applied[tn] for tn in acknowledged} == dict.fromkeys(acknowledged, 1)
    assert set(applied.values()) == {1}
    assert set(receipt_statuses(runtime)) == {"processed"}


@needs_redis_server
def test_with_redis_down_webhooks_are_still_acknowledged_and_processed_once_it_is_back(
    runtime, tracked, tmp_path
):
    brand = tracked["tb"]
    add_shipments(runtime, brand, 20)
    redis_port = free_port()
    broker = f"redis://127.0.0.1:{redis_port}/0"
    config = write_config(tmp_path, runtime.settings.database_url, jobs="celery", broker_url=broker)
    own_redis = redis_server(redis_port, tmp_path)
    port = free_port()
    web = serve(config, port, WEB_CONCURRENCY="2")
    worker = beat = None
    try:
        stop(own_redis)
        started = time.monotonic()
        answers = [post_signed(port, brand.account_id, scan(n)).status_code for n in range(20)]
        assert answers == [202] * 20
        assert time.monotonic() - started < 10  # no request waited on the dead broker
        assert receipt_statuses(runtime) == {"received": 20}

        own_redis = redis_server(redis_port, tmp_path)
        worker = shipflow(config, "worker", "--pool", "solo")
        beat = shipflow(config, "beat", "--schedule", str(tmp_path / "beat-schedule"))
        wait_until(lambda: receipt_statuses(runtime) == {"processed": 20}, timeout=30)
    finally:
        for process in (web, worker, beat, own_redis):
            if process is not None:
                stop(process)
    assert events_per_number(runtime) == Counter({f"TN{n}": 1 for n in range(20)})


@needs_redis_server
def test_one_worker_process_runs_its_jobs_on_threads_and_a_kill_9_loses_and_repeats_nothing(
    runtime, tracked, tmp_path
):
    """`shipflow worker` as deployed: one process whose threads run batches at once (their
    claims skip each other's rows). Killed mid-load with every thread busy, the next worker
    takes what it held once its leases lapse: each scan applied exactly once."""
    brand = tracked["tb"]
    add_shipments(runtime, brand, 300)
    redis_port = free_port()
    broker = f"redis://127.0.0.1:{redis_port}/0"
    config = write_config(
        tmp_path,
        runtime.settings.database_url,
        jobs="celery",
        broker_url=broker,
        tracking={"lease_seconds": 5},  # what the killed worker held comes back soon
    )
    own_redis = redis_server(redis_port, tmp_path)
    port = free_port()
    web = serve(config, port, WEB_CONCURRENCY="2")
    worker = shipflow(config, "worker")
    beat = shipflow(config, "beat", "--schedule", str(tmp_path / "beat-schedule"))
    try:
        with Load(port, brand.account_id, 300):
            wait_until(lambda: receipt_statuses(runtime)["processed"] >= 50, timeout=60)
            stop(worker)
        banner = (tmp_path / "worker.log").read_text()
        worker = shipflow(config, "worker")
        wait_until(lambda: receipt_statuses(runtime) == {"processed": 300}, timeout=90)
    finally:
        for process in (web, worker, beat, own_redis):
            stop(process)
    assert f"concurrency: {THREADS} (thread)" in banner
    assert events_per_number(runtime) == Counter({f"TN{n}": 1 for n in range(300)})


def queued(client: redis.Redis) -> list[bytes]:
    """The tasks waiting, of every priority (the Redis transport keeps a list per priority
    step: `celery`, then `celery\x06\x163` and so on)."""
    lists = [key for key in client.scan_iter("celery*") if client.type(key) == b"list"]
    return [message for key in lists for message in client.lrange(key, 0, -1)]


@needs_redis_server
def test_two_beats_started_by_mistake_send_each_tick_once(runtime, tmp_path):
    """Two beats for 8 s: `outbox.dispatch` (every 2 s) is sent at most once per 2-s slot,
    so about 5 times, where two beats without the claim send it about 10 times."""
    redis_port = free_port()
    broker = f"redis://127.0.0.1:{redis_port}/0"
    config = write_config(tmp_path, runtime.settings.database_url, jobs="celery", broker_url=broker)
    own_redis = redis_server(redis_port, tmp_path)
    client = redis.Redis(port=redis_port)
    beats = [shipflow(config, "beat", "--schedule", str(tmp_path / f"beat-{i}")) for i in range(2)]
    try:
        wait_until(lambda: queued(client), timeout=30)
        time.sleep(8)
        sent = Counter(json.loads(message)["headers"]["task"] for message in queued(client))
    finally:
        for process in (*beats, own_redis):
            stop(process)
    assert 4 <= sent["outbox.dispatch"] <= 6
    assert 1 <= sent["tracking.process_receipts"] <= 3


def test_sigterm_under_load_finishes_what_it_took_and_stores_every_acknowledged_scan(
    runtime, tracked, tmp_path
):
    """A deploy's SIGTERM: requests in flight are answered (none cut off), then the process
    exits cleanly; what was acknowledged is stored."""
    runtime.clock = SystemClock()
    brand = tracked["tb"]
    add_shipments(runtime, brand, 1000)
    port = free_port()
    web = serve(write_config(tmp_path, runtime.settings.database_url), port)
    try:
        with Load(port, brand.account_id, 1000) as load:
            wait_until(lambda: len(load.acknowledged()) >= 200)
            os.killpg(web.pid, signal.SIGTERM)
            assert web.wait(timeout=40) == 0
            load.stopped.set()
    finally:
        stop(web)
    answers = Counter(load.answers.values())
    assert set(answers) <= {202, "ConnectionError"}  # refused once closed, never cut off
    with runtime.sessions() as session:
        bodies = session.scalars(select(WebhookReceipt.body)).all()
    stored = {json.loads(body)["tracking_number"] for body in bodies}
    assert load.acknowledged() <= stored
