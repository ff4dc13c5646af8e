"""The same jobs as Celery tasks, for many workers on many machines (Redis as the broker).

`shipflow worker` and `shipflow beat` configure this app from the settings; a worker is one
process running its tasks on `THREADS` threads, and builds its Runtime on first use. Periodic
jobs become the beat schedule. A run that found work wakes itself through `CeleryRunner.wake`,
which queues at most one task per job at a time, held a few milliseconds after a run that found
only a few items (`held_for`), and runs the jobs it feeds (`Job.wakes`) in the same task
(`run_fed`). Later stages of the pipeline go first (`priority`) when woken through the
broker.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from typing import Any

import redis
from celery import Celery
from kombu.exceptions import OperationalError

from shipflow.config import Settings, load_settings
from shipflow.jobs import held_for, run, woken_after
from shipflow.redis_clients import fail_fast
from shipflow.runtime import JOBS, Runtime, settle

log = logging.getLogger(__name__)
app = Celery("shipflow")
app.conf.update(
    task_acks_late=True,  # a task whose worker dies is delivered again (jobs are idempotent)
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    broker_connection_retry_on_startup=True,
    # a second beat started by mistake sends nothing twice (shipflow/jobs/beat.py)
    beat_scheduler="shipflow.jobs.beat:OneSendPerTick",
)
YOUNG_OBJECTS = 10_000
"""A worker's collection of the young generation after this many new objects, not Python's
700: a batch keeps thousands of ORM objects and rows alive until it ends, and each young
collection went over those still alive (4,000 tracking events through every stage: 508
young collections, 0.05 ms of CPU an event, against 15 and 0.02; the pauses, 5 ms each,
are nobody's wait in a worker, as they would be in the web's requests)."""
THREADS = 4
"""The threads of one worker process (`shipflow worker`'s default pool: `--pool threads
--concurrency THREADS`). Each job waits on PostgreSQL for a good part of its run; one
thread ran the batches one after another, the process's CPU idle meanwhile, and two stages
(or two batches of one, whose claims skip each other's rows) now overlap those waits
(docs/benchmarks.md, "one Celery worker process, twelfth session")."""
_runtime: Runtime | None = None
_settings: Settings | None = None
_runner: CeleryRunner | None = None
_building = threading.Lock()  # a worker's threads build its runtime and runner once


def configure(settings: Settings | None = None, runtime: Runtime | None = None) -> Celery:
    """Point the app at the broker of `settings` (or of the runtime given, e.g. in tests)."""
    global _runtime, _settings, _runner
    _runtime, _runner = runtime, None
    _settings = runtime.settings if runtime else settings or load_settings()
    app.conf.broker_url = _settings.broker_url
    app.conf.result_backend = _settings.broker_url
    return app


def current_runtime() -> Runtime:
    """Built on first use in each worker process (after the fork; by whichever of its
    threads comes first), never shared across processes, and warmed up and settled before
    its first job."""
    global _runtime
    with _building:
        if _runtime is None:
            runtime = Runtime.from_settings(_settings or load_settings())
            runtime.edd.warm_up(runtime.clock.now())  # database down: raises, a job retries
            settle()
            gc.set_threshold(YOUNG_OBJECTS, *gc.get_threshold()[1:])
            _runtime = runtime
        return _runtime


def current_runner() -> CeleryRunner:
    """What a worker's jobs wake the next ones with (built on first use, after the fork)."""
    global _runner
    with _building:
        if _runner is None:
            _runner = CeleryRunner()
        return _runner


def priority(name: str) -> int:
    """The Celery priority of `name`'s tasks; Redis hands out 0 first, then 3, 6 and 9. A job
    no other wakes gets 6, one that another wakes a step (3) before the first of its wakers:
    the e-mails 0, the outbox 3. This orders only what goes through the broker (a stage's
    rerun while it drains a backlog, the web's wakes, beat's ticks, a `run_fed` past its
    passes), not a run's fed stages, which run in its task: under a backlog a worker takes
    the queued e-mails and outbox runs before more receipts (FIFO would put them behind
    every receipts run queued meanwhile)."""
    wakers = [job.name for job in JOBS if name in job.wakes]
    return max(0, min((priority(waker) for waker in wakers), default=9) - 3)


def _register(name: str, periodic: bool) -> None:
    def task(**kwargs: Any) -> Any:
        runner = current_runner()
        if periodic:
            runner.started(name)  # a wake from now on queues another run
        runtime = current_runtime()
        found = run(runtime, name, **kwargs)
        if periodic:
            runner.hold(name, held_for(runtime.settings.batching, found))
        if periodic and found:  # as the in-process runner: a backlog drains at full speed,
            runner.wake(name)  # not a batch per beat tick; another worker takes it meanwhile
        for later in woken_after(runtime, name, found):
            run_fed(runner, runtime, later)
        return found

    task.__name__ = name.replace(".", "_")
    app.task(name=name)(task)


FED_PASSES = 4
"""Runs of a fed stage in one `run_fed` call at most: one still finding a backlog then wakes
itself through the broker, so that the task goes back to the stage that fed it and other
queued tasks are not starved by a stage that keeps finding work."""


def run_fed(runner: CeleryRunner, runtime: Runtime, name: str) -> None:
    """Run `name`, which the run before fed, here and now rather than through the broker (a
    task per stage and batch cost a send, a wake and a dispatch, and an empty rerun each),
    and the stages it feeds in turn; again at once while it finds a backlog (`held_for`),
    up to `FED_PASSES` runs, then the rest is a task of its own (`wake`). A trickle holds
    its next run as a task's would; the next run that feeds it, or beat's tick, takes what
    came meanwhile. A failure is logged and left to that next run, as a failed task's is,
    so the stage that fed it goes on. A stage a run holds (`held_for`, this worker's or
    another's) is not run here but queued for the hold's end (`after_hold`), as a wake of
    it is, so that its next run takes a batch."""
    if runner.after_hold(name):
        return
    batching = runtime.settings.batching
    for _ in range(FED_PASSES):
        try:
            found = run(runtime, name)
        except Exception:
            log.exception("job %s failed", name)
            return
        for later in woken_after(runtime, name, found):
            run_fed(runner, runtime, later)
        if not found:
            return
        if hold := held_for(batching, found):
            runner.hold(name, hold)
            return
    runner.wake(name)


for _job in JOBS:
    _register(_job.name, periodic=_job.every is not None)

app.conf.task_routes = {j.name: {"priority": priority(j.name)} for j in JOBS}

# Nobody reads a tick's result: without `ignore_result` each run beat sends stores one in Redis.
app.conf.beat_schedule = {
    j.name: {"task": j.name, "schedule": j.every, "options": {"ignore_result": True}}
    for j in JOBS
    if j.every
}


class CeleryRunner:
    """Submits jobs to the Celery workers (what the web app uses with `jobs: celery`, and
    the workers' jobs to wake the next ones).

    Wakes coalesce: a wake marks the job pending in Redis (`SET NX`) and sends a task only if
    it was not already, and the task clears the mark as it starts, so at 1,500 webhooks/s
    the queue holds one run per job, not one per group commit. The mark lapses after
    `PENDING_S` (a task lost with its broker), and beat's ticks remain the safety net. A run
    that found a few items holds its job (`shipflow:held:<job>`, expiring with the hold):
    the task a wake sends meanwhile waits for the hold's end (`countdown`), so that a busy
    stage's next run takes a batch. Mark, test and hold: one round trip (`_WAKE`); a fed
    stage (`run_fed`) is marked and queued only if held.

    The web must not stall on a dead broker: one connection attempt per send (kombu would
    otherwise retry for `broker_connection_timeout`), and after a failed wake no wake for
    `PAUSE_S` (beat's next tick runs the job; the webhooks are stored already)."""

    PAUSE_S = 5.0
    PENDING_S = 10
    PREFIX = "shipflow:wake:"
    HELD = "shipflow:held:"
    # The hold's milliseconds left (negative: none) and 1 if the job is marked now, 0 if it
    # was pending already or, with ARGV[2] = 1 (only if held), is not held.
    _WAKE = """
    local held = redis.call('PTTL', KEYS[2])
    if ARGV[2] == '1' and held <= 0 then
        return {held, 0}
    end
    if redis.call('SET', KEYS[1], 1, 'NX', 'EX', ARGV[1]) then
        return {held, 1}
    end
    return {held, 0}
    """

    def __init__(self) -> None:
        app.conf.broker_transport_options = {
            **app.conf.broker_transport_options,
            "max_retries": 1,
        }
        self._broker_down_until = 0.0
        self._pending = fail_fast(app.conf.broker_url)
        self._mark = self._pending.register_script(self._WAKE)

    def submit(self, name: str, **kwargs: Any) -> None:
        # Nobody waits for a job's result: without this the result backend (Redis) is
        # subscribed to on every send, with many retries when it is down.
        app.send_task(name, kwargs=kwargs, ignore_result=True)

    def wake(self, name: str) -> None:
        """Run a periodic job soon, besides its beat schedule, unless a run is queued."""
        self._wake(name, only_held=False)

    def after_hold(self, name: str) -> bool:
        """Whether a run holds `name`: if so, its next run is queued for the hold's end (as
        `wake` queues it). Not held, or Redis down: False, the caller runs it now."""
        return self._wake(name, only_held=True) > 0

    def _wake(self, name: str, only_held: bool) -> int:
        """The hold's milliseconds left (<= 0: none, or Redis down)."""
        if time.monotonic() < self._broker_down_until:
            return 0
        try:
            held_ms, marked = self._mark(
                keys=[self.PREFIX + name, self.HELD + name], args=[self.PENDING_S, int(only_held)]
            )
            if marked:
                countdown = held_ms / 1000 if held_ms > 0 else None
                app.send_task(name, retry=False, ignore_result=True, countdown=countdown)
        except (OperationalError, redis.RedisError) as exc:
            self._broker_down_until = time.monotonic() + self.PAUSE_S
            log.error("broker unreachable, %s left to beat's next tick: %s", name, exc)
            return 0
        return int(held_ms)

    def started(self, name: str) -> None:
        """A run of `name` starts: what is woken from now on needs another."""
        try:
            self._pending.delete(self.PREFIX + name)
        except redis.RedisError as exc:  # the mark lapses by itself
            log.warning("could not clear %s's wake mark: %s", name, exc)

    def hold(self, name: str, seconds: float) -> None:
        """A run of `name` found a few items: its next run waits `seconds` (0: none)."""
        if not seconds:
            return
        try:
            self._pending.set(self.HELD + name, 1, px=max(1, round(seconds * 1000)))
        except redis.RedisError as exc:  # the next run goes at once: smaller, not later
            log.warning("could not hold %s: %s", name, exc)
