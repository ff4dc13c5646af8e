"""Each stage wakes the next (in-process runner): a webhook's receipt processed wakes the
outbox dispatcher, whose messages queued wake the customer-message delivery, so the e-mail
leaves within a moment of the request instead of after the dispatcher's 2 s and the
delivery's 30 s ticks; wakes coalesce. Celery's: tests/tracking/test_celery.py."""

from __future__ import annotations

import threading
import time

import pytest

from shipflow.jobs import Job
from shipflow.jobs.inprocess import InProcessRunner
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
