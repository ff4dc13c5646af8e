"""Each stage wakes the next (in-process runner): a webhook's receipt processed wakes the
outbox dispatcher, whose messages queued wake the customer-message delivery, so the e-mail
leaves within a moment of the request instead of after the dispatcher's 2 s and the
delivery's 30 s ticks; wakes coalesce; under load a job gathers batches. Celery's: tests/tracking/test_celery.py."""

from __future__ import annotations

import threading
import time

import pytest

from shipflow.config import BatchingConfig
from shipflow.jobs import Job, held_for
from shipflow.jobs.inprocess import InProcessRunner
from shipflow.tracking.webhooks import RECEIPTS_BATCH
from tests.tracking.fake_carrier import event, payload
from tests.tracking.helpers import at, post_webhook, wait_for


def test_a_webhook_becomes_an_e_mail_without_waiting_for_a_tick(
    app, client, runtime, tracked, customer_parcel, clock, inbox
):
    """No tick within the test: only the wakes move the event on from the receipt to the
    outbox to the SMTP server."""
    runner = InProcessRunner(runtime, tick=3600).start()
    app.extensions["shipflow.jobs"] = runner
    try:
        time.sleep(0.3)  # past the first round of periodic jobs
        body = payload("TN1", event("PU", "in_transit", at(clock, -1)))
        assert post_webhook(client, tracked["tb"], body).status_code == 202
        assert wait_for(lambda: inbox.recipients() == ["ada@example.com"], timeout=10)
    finally:
        runner.stop()


@pytest.fixture
def chain(runtime):
    """Three jobs, `a` waking `b` waking `c`, each recording its runs: `a` finds work once
    when `work` is set, `b` on its first run after that."""
    runs: list[str] = []
    work = threading.Event()

    def a(_runtime) -> int:
        runs.append("a")
        found = work.is_set()
        work.clear()
        return int(found)

    def b(_runtime) -> int:
        runs.append("b")
        return int(runs.count("a") > 1 and runs.count("b") == 2)

    def c(_runtime) -> int:
        runs.append("c")
        return 0

    runtime.jobs = {
        "t.a": Job("t.a", a, every=3600, wakes=("t.b",)),
        "t.b": Job("t.b", b, every=3600, wakes=("t.c",)),
        "t.c": Job("t.c", c, every=3600),
    }
    return runs, work


def test_a_run_that_found_work_wakes_the_next_job_and_that_one_the_next(runtime, chain):
    runs, work = chain
    runner = InProcessRunner(runtime, tick=3600).start()  # no tick within the test
    try:
        assert wait_for(lambda: sorted(runs) == ["a", "b", "c"])  # the start: one run each
        work.set()
        runner.wake("t.a")
        # a found work: b woken, and a again (finds none); b found work: c woken, b again.
        assert wait_for(lambda: sorted(runs) == ["a", "a", "a", "b", "b", "b", "c", "c"])
        time.sleep(0.2)
        assert sorted(runs) == ["a", "a", "a", "b", "b", "b", "c", "c"]
    finally:
        runner.stop()


def test_wakes_while_a_job_runs_coalesce_into_one_run_right_after(runtime):
    runs, release = [], threading.Event()

    def slow(_runtime) -> int:
        runs.append(time.monotonic())
        release.wait(5)
        return 0

    runtime.jobs = {"t.slow": Job("t.slow", slow, every=3600)}
    runner = InProcessRunner(runtime, tick=3600).start()
    try:
        assert wait_for(lambda: len(runs) == 1)
        for _ in range(50):
            runner.wake("t.slow")
        release.set()
        assert wait_for(lambda: len(runs) == 2)  # at once, not at the next tick
        time.sleep(0.2)
        assert len(runs) == 2
    finally:
        runner.stop()


def test_a_few_items_hold_the_next_run_a_moment_none_or_a_batch_hold_nothing():
    batching = BatchingConfig(floor=50, gather_seconds=0.05)
    assert held_for(batching, 1) == 0.05
    assert held_for(batching, 49) == 0.05
    assert held_for(batching, 0) == 0.0  # idle: the next wake is a lone event
    assert held_for(batching, 50) == 0.0  # a backlog: back to back
    assert held_for(batching, None) == 0.0  # a job that does not count


def test_by_default_a_receipts_run_short_of_a_full_batch_holds_the_next_one():
    """Full batches for a busy stage: a run of fewer receipts than the job takes at once on
    SQLite holds the next, so that one gathers a batch; a full one runs again at once (on
    PostgreSQL, whose batch is larger, so does one of that many or more)."""
    limit = RECEIPTS_BATCH.on_sqlite
    batching = BatchingConfig()
    assert held_for(batching, limit - 1) == batching.gather_seconds > 0
    assert held_for(batching, limit) == 0.0


@pytest.fixture
def queue(runtime):
    """A periodic job `t.take` that takes every item queued and records each batch's size
    and when it ran; `put` queues an item and wakes the job, as the web does a webhook."""
    items: list[float] = []
    batches: list[tuple[float, int]] = []
    lock = threading.Lock()

    def take(_runtime) -> int:
        with lock:
            taken = len(items)
            items.clear()
        batches.append((time.monotonic(), taken))
        return taken

    runtime.jobs = {"t.take": Job("t.take", take, every=3600)}
    runner = InProcessRunner(runtime, tick=3600)

    def put() -> None:
        with lock:
            items.append(time.monotonic())
        runner.wake("t.take")

    yield runner, put, batches
    runner.stop()


def taken(batches) -> list[int]:
    return [size for _, size in batches if size]


@pytest.mark.parametrize(("gather", "most_runs"), [(0.05, 12), (0.0, None)])
def test_a_burst_of_wakes_becomes_a_few_large_batches(runtime, queue, gather, most_runs):
    """300 items, one a millisecond, each with a wake: held 50 ms after each run that found
    fewer than 50, the job takes them in a handful of runs (at most one per 50 ms of the
    burst); without the hold, in about one run per item or two."""
    runtime.settings = runtime.settings.model_copy(
        update={"batching": BatchingConfig(floor=50, gather_seconds=gather)}
    )
    runner, put, batches = queue
    runner.start()
    assert wait_for(lambda: len(batches) == 1)  # the start-up run, on nothing
    for _ in range(300):
        put()
        time.sleep(0.001)
    assert wait_for(lambda: sum(taken(batches)) == 300)
    if most_runs is not None:
        assert len(taken(batches)) <= most_runs
    else:
        assert len(taken(batches)) > 30


def test_a_lone_item_is_taken_at_once_and_only_a_trickle_waits(runtime, queue):
    """Held a whole second after a run that found a few items, so the test tells the hold
    from the machine's scheduling: an item after a quiet spell goes at once; one right
    behind it waits for the hold."""
    runtime.settings = runtime.settings.model_copy(
        update={"batching": BatchingConfig(floor=50, gather_seconds=1.0)}
    )
    runner, put, batches = queue
    runner.start()
    assert wait_for(lambda: len(batches) == 1)
    put()
    assert wait_for(lambda: taken(batches) == [1], timeout=0.5)
    lone = batches[-1][0]
    put()  # the run that took the first found 1: this one waits
    assert wait_for(lambda: taken(batches) == [1, 1], timeout=5)
    assert batches[-1][0] - lone >= 0.95
