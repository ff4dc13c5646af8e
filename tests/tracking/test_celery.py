"""A real Celery worker on a real Redis runs a tracking job end to end; each stage runs the
next in the same task, the wakes coalesce, later stages run first and a run that found a few
items holds the next a moment."""

from __future__ import annotations

import dataclasses
import gc
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from shipflow.config import BatchingConfig
from shipflow.jobs import Job
from shipflow.jobs.celery_app import FED_PASSES, CeleryRunner, current_runner
from shipflow.redis_clients import fail_fast
from shipflow.store.models import Shipment, TrackingEventRow
from shipflow.store.tracking_models import WebhookReceipt
from tests.tracking.fake_carrier import event, payload
from tests.tracking.helpers import at, post_webhook, wait_for

REDIS_URL = os.environ.get("SHIPFLOW_TEST_REDIS_URL")
pytestmark = [
    pytest.mark.redis,
    pytest.mark.skipif(not REDIS_URL, reason="Redis not configured: set SHIPFLOW_TEST_REDIS_URL"),
]


@pytest.fixture
def celery(runtime):
    """The Celery app on the test Redis, with no task queued and no job marked woken."""
    from shipflow.jobs import celery_app

    settings = runtime.settings.model_copy(update={"broker_url": REDIS_URL})
    app = celery_app.configure(runtime=dataclasses.replace(runtime, settings=settings))
    redis = fail_fast(REDIS_URL)

    def forget() -> None:
        app.control.purge()
        for prefix in (CeleryRunner.PREFIX, CeleryRunner.HELD):
            for mark in redis.scan_iter(f"{prefix}*"):
                redis.delete(mark)

    forget()
    yield app
    forget()
    celery_app._runtime = None


def worker(app):
    from celery.contrib.testing.worker import start_worker

    return start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10)


@pytest.fixture
def celery_worker(celery):
    with worker(celery):
        yield celery


def test_celery_worker_processes_a_webhook(
    client, runtime, tracked, make_shipment, clock, celery_worker
):
    shipment_id = make_shipment(tracked["tb"], "TN1")
    body = payload(
        "TN1",
        event("PU", "in_transit", at(clock, -3)),
        event("OFD", "out_for_delivery", at(clock, -1)),
    )
    receipt_id = post_webhook(client, tracked["tb"], body).json["receipt_id"]

    result = celery_worker.send_task("tracking.process_receipt", kwargs={"receipt_id": receipt_id})

    assert result.get(timeout=30) == 1
    with runtime.sessions() as session:
        assert session.get(Shipment, shipment_id).status == "out_for_delivery"
        assert len(session.scalars(select(TrackingEventRow)).all()) == 2
    # The periodic sweep finds nothing left: the job ran once.
    assert celery_worker.send_task("tracking.process_receipts").get(timeout=30) == 0


def test_a_periodic_job_that_found_work_runs_again_until_none_is_left(
    client, runtime, tracked, make_shipment, clock, celery_worker
):
    """As with the in-process runner, a backlog drains at once, not a batch per beat tick."""
    receipt_ids = []
    for number in ("TN1", "TN2", "TN3"):
        make_shipment(tracked["tb"], number)
        body = payload(number, event("PU", "in_transit", at(clock, -3)))
        receipt_ids.append(post_webhook(client, tracked["tb"], body).json["receipt_id"])

    first = celery_worker.send_task("tracking.process_receipts", kwargs={"limit": 1})

    assert first.get(timeout=30) == 1
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and _statuses(runtime, receipt_ids) != {"processed"}:
        time.sleep(0.1)
    assert _statuses(runtime, receipt_ids) == {"processed"}


def _statuses(runtime, receipt_ids) -> set[str]:
    with runtime.sessions() as session:
        rows = session.scalars(
            select(WebhookReceipt.status).where(WebhookReceipt.id.in_(receipt_ids))
        )
        return set(rows)


def queued(app) -> int:
    with app.connection_for_write() as connection:
        return connection.default_channel.queue_declare("celery", passive=True).message_count


def test_wakes_coalesce_into_one_queued_task_until_it_starts(celery):
    runner = current_runner()
    for _ in range(50):
        runner.wake("outbox.dispatch")
    assert queued(celery) == 1
    runner.started("outbox.dispatch")  # what the task does first
    runner.wake("outbox.dispatch")
    runner.wake("outbox.dispatch")
    assert queued(celery) == 2


PIPELINE = ("tracking.process_receipts", "outbox.dispatch", "postpurchase.deliver_messages")


def test_a_worker_takes_later_stages_first(runtime, celery):
    """Woken in pipeline order before a worker is up, run in reverse: under a backlog the
    e-mails and the outbox are not queued behind every receipts run."""
    runs = []
    for name in PIPELINE:  # the worker's runtime shares the test's jobs
        runtime.jobs[name] = Job(name, lambda _rt, name=name: runs.append(name), every=60)
        current_runner().wake(name)
    with worker(celery):
        assert wait_for(lambda: len(runs) == 3, timeout=30)
    assert runs == ["postpurchase.deliver_messages", "outbox.dispatch", "tracking.process_receipts"]


def _pipeline(
    runtime, found: dict[str, list[int]], runs: list[tuple[str, str]], failing: str = ""
) -> None:
    """The three stages, each feeding the next, returning `found[name]` in turn (then 0),
    `failing` raising, and each run recorded as (name, the Celery task it ran in)."""
    from celery import current_task

    def job(_runtime, name: str) -> int:
        runs.append((name, current_task.request.id))
        if name == failing:
            raise RuntimeError("a failing handler")
        return found[name].pop(0) if found.get(name) else 0

    for name, fed in zip(PIPELINE, [*PIPELINE[1:], None], strict=True):
        wakes = (fed,) if fed else ()
        runtime.jobs[name] = Job(name, lambda rt, name=name: job(rt, name), every=60, wakes=wakes)


def test_the_stages_a_run_feeds_run_in_the_same_task(runtime, celery):
    """Receipts, then the outbox they wrote, then its e-mails, in one task: no send, wake and
    dispatch per stage. A fed stage that found a backlog (`batching.floor`) runs again at
    once, in the task too; only the stage the task was for wakes itself through the broker."""
    runs: list[tuple[str, str]] = []
    _pipeline(
        runtime,
        {
            "tracking.process_receipts": [3],
            "outbox.dispatch": [runtime.settings.batching.floor],
            "postpurchase.deliver_messages": [1],
        },
        runs,
    )
    current_runner().wake("tracking.process_receipts")
    with worker(celery):
        assert wait_for(lambda: len(runs) == 5, timeout=30)
        time.sleep(0.3)
    names = [name for name, _ in runs]
    assert names == [
        "tracking.process_receipts",
        "outbox.dispatch",
        "postpurchase.deliver_messages",
        "outbox.dispatch",  # a backlog found: again, and it found none, so no e-mail run
        "tracking.process_receipts",  # its own wake: found none
    ]
    tasks = [task for _, task in runs]
    assert len(set(tasks[:4])) == 1
    assert tasks[4] != tasks[0]


def test_a_fed_stage_that_keeps_finding_work_goes_to_the_broker_after_its_passes(runtime, celery):
    """An outbox that always finds a backlog does not hold the receipts task for ever: after
    `FED_PASSES` runs it becomes a task of its own (taken before the receipts' rerun)."""
    runs: list[tuple[str, str]] = []
    backlog = [runtime.settings.batching.floor] * FED_PASSES
    _pipeline(runtime, {"tracking.process_receipts": [3], "outbox.dispatch": backlog}, runs)
    current_runner().wake("tracking.process_receipts")
    with worker(celery):
        assert wait_for(lambda: len(runs) == 2 * FED_PASSES + 3, timeout=30)
        time.sleep(0.3)
    fed = ["outbox.dispatch", "postpurchase.deliver_messages"] * FED_PASSES
    assert [name for name, _ in runs] == [
        "tracking.process_receipts",
        *fed,
        "outbox.dispatch",  # its own task: found none
        "tracking.process_receipts",  # its own wake: found none
    ]
    tasks = [task for _, task in runs]
    assert len(set(tasks[: 1 + len(fed)])) == 1
    assert len(set(tasks)) == 3


def test_a_fed_stage_another_run_holds_waits_for_the_hold_in_a_task_of_its_own(runtime, celery):
    """An outbox that another run (another worker's) holds is not run in the receipts task
    that feeds it: it runs as its own task once the hold ends, as a wake of it would."""
    runs: list[tuple[str, str]] = []
    _pipeline(runtime, {"tracking.process_receipts": [3]}, runs)
    fail_fast(REDIS_URL).set(CeleryRunner.HELD + "outbox.dispatch", 1, px=1000)
    held_at = time.monotonic()
    current_runner().wake("tracking.process_receipts")
    with worker(celery):
        assert wait_for(lambda: len(runs) == 3, timeout=30)
        ran_at = time.monotonic()
        time.sleep(0.3)
    assert [name for name, _ in runs] == [
        "tracking.process_receipts",
        "tracking.process_receipts",  # its own wake (held `gather_seconds`): found none
        "outbox.dispatch",  # after the other run's hold, in a task of its own
    ]
    assert ran_at - held_at >= 0.95
    assert runs[2][1] not in (runs[0][1], runs[1][1])


def test_a_fed_stage_that_fails_leaves_the_stage_that_fed_it_going(runtime, celery):
    runs: list[tuple[str, str]] = []
    _pipeline(runtime, {"tracking.process_receipts": [3, 2]}, runs, failing="outbox.dispatch")
    current_runner().wake("tracking.process_receipts")
    with worker(celery):
        assert wait_for(lambda: len(runs) == 5, timeout=30)
        time.sleep(0.3)
    assert [name for name, _ in runs] == [
        "tracking.process_receipts",
        "outbox.dispatch",  # raised: logged, left to the next run that feeds it
        "tracking.process_receipts",
        "outbox.dispatch",
        "tracking.process_receipts",
    ]


def test_a_run_that_found_a_few_items_holds_the_next_run_and_one_that_found_none_does_not(
    runtime, celery
):
    """Finding 1 item holds the job a second (longer than a worker takes, so the test
    tells the hold from scheduling): its own rerun waits for it; finding none holds
    nothing, so a wake after it runs at once."""
    from shipflow.jobs import celery_app

    name, found, runs = "outbox.dispatch", [1, 0, 0], []

    def dispatch(_runtime) -> int:
        runs.append(time.monotonic())
        return found[len(runs) - 1]

    runtime.jobs[name] = Job(name, dispatch, every=60, wakes=())
    worker_runtime = celery_app.current_runtime()  # the test's jobs, the test Redis
    worker_runtime.settings = worker_runtime.settings.model_copy(
        update={"batching": BatchingConfig(floor=50, gather_seconds=1.0)}
    )
    current_runner().wake(name)
    with worker(celery):
        assert wait_for(lambda: len(runs) == 2, timeout=30)  # 1 found: ran again, held
        assert runs[1] - runs[0] >= 0.95
        time.sleep(0.2)
        woken = time.monotonic()
        current_runner().wake(name)  # after a run that found none: at once
        assert wait_for(lambda: len(runs) == 3, timeout=30)
        assert runs[2] - woken < 0.9
    assert len(runs) == 3


def test_a_webhook_becomes_an_e_mail_without_beat(
    app, client, runtime, tracked, customer_parcel, clock, inbox, celery_worker
):
    """No beat: the web wakes the receipts job, which wakes the dispatcher, which wakes the
    e-mail delivery."""
    app.extensions["shipflow.jobs"] = CeleryRunner()
    body = payload("TN1", event("PU", "in_transit", at(clock, -1)))
    assert post_webhook(client, tracked["tb"], body).status_code == 202
    assert wait_for(lambda: inbox.recipients() == ["ada@example.com"], timeout=20)


def test_a_worker_s_threads_that_start_at_once_build_one_runtime(settings, monkeypatch):
    """`shipflow worker` runs its jobs on threads: the first job of each finds no runtime yet,
    and they must not each build one (its postal index and models: seconds and memory)."""
    from shipflow.jobs import celery_app

    monkeypatch.setattr(celery_app, "_settings", settings)
    monkeypatch.setattr(celery_app, "_runtime", None)
    threshold = gc.get_threshold()  # what building it sets for the worker's process
    threads = celery_app.THREADS
    together = threading.Barrier(threads)

    def first_job(_: int):
        together.wait()
        return celery_app.current_runtime()

    try:
        with ThreadPoolExecutor(threads) as pool:
            built = list(pool.map(first_job, range(threads)))
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()
    assert len({id(runtime) for runtime in built}) == 1
    built[0].engine.dispose()
