"""The same jobs as Celery tasks, for many workers on many machines (Redis as the broker).

`shipflow worker` and `shipflow beat` configure this app from the settings; a worker builds
its Runtime on first use. Periodic jobs become the beat schedule.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from celery import Celery
from kombu.exceptions import OperationalError

from shipflow.config import Settings, load_settings
from shipflow.jobs import run
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
_runtime: Runtime | None = None
_settings: Settings | None = None


def configure(settings: Settings | None = None, runtime: Runtime | None = None) -> Celery:
    """Point the app at the broker of `settings` (or of the runtime given, e.g. in tests)."""
    global _runtime, _settings
    _runtime = runtime
    _settings = runtime.settings if runtime else settings or load_settings()
    app.conf.broker_url = _settings.broker_url
    app.conf.result_backend = _settings.broker_url
    return app


def current_runtime() -> Runtime:
    """Built on first use in each worker process (after the fork), never shared across one,
    and warmed up and settled before its first job."""
    global _runtime
    if _runtime is None:
        runtime = Runtime.from_settings(_settings or load_settings())
        runtime.edd.warm_up(runtime.clock.now())  # database down: raises, the next job retries
        settle()
        _runtime = runtime
    return _runtime


def _register(name: str, periodic: bool) -> None:
    def task(**kwargs: Any) -> Any:
        found = run(current_runtime(), name, **kwargs)
        if periodic and found:  # as the in-process runner: a backlog drains at full speed,
            app.send_task(name, kwargs=kwargs, ignore_result=True)  # not a batch per beat tick
        return found

    task.__name__ = name.replace(".", "_")
    app.task(name=name)(task)


for _job in JOBS:
    _register(_job.name, periodic=_job.every is not None)

app.conf.beat_schedule = {j.name: {"task": j.name, "schedule": j.every} for j in JOBS if j.every}


class CeleryRunner:
    """Submits jobs to the Celery workers (what the web app uses with `jobs: celery`).

    The web must not stall on a dead broker: one connection attempt per send (kombu would
    otherwise retry for `broker_connection_timeout`), and after a failed wake no wake for
    `PAUSE_S` (beat's next tick runs the job; the webhooks are stored already)."""

    PAUSE_S = 5.0

    def __init__(self) -> None:
        app.conf.broker_transport_options = {
            **app.conf.broker_transport_options,
            "max_retries": 1,
        }
        self._broker_down_until = 0.0

    def submit(self, name: str, **kwargs: Any) -> None:
        # Nobody waits for a job's result: without this the result backend (Redis) is
        # subscribed to on every send, with many retries when it is down.
        app.send_task(name, kwargs=kwargs, ignore_result=True)

    def wake(self, name: str) -> None:
        """Run a periodic job now, besides its beat schedule."""
        if time.monotonic() < self._broker_down_until:
            return
        try:
            app.send_task(name, retry=False, ignore_result=True)
        except OperationalError as exc:
            self._broker_down_until = time.monotonic() + self.PAUSE_S
            log.error("broker unreachable, %s left to beat's next tick: %s", name, exc)
