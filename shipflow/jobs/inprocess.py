"""The embedded default runner: a thread pool for submitted jobs and a scheduler thread for
periodic ones. `drain()` runs the periodic jobs inline until none has work (tests, CLI).
A run that found work wakes the jobs it feeds (`Job.wakes`); wakes coalesce per job, and a
run that found only a few items holds the job's next start (`held_for`)."""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from typing import TYPE_CHECKING, Any

from shipflow.jobs import held_for, periodic, run, woken_after

if TYPE_CHECKING:
    from shipflow.runtime import Runtime

log = logging.getLogger(__name__)


class InProcessRunner:
    def __init__(self, runtime: Runtime, workers: int = 4, tick: float = 0.5) -> None:
        self.runtime = runtime
        self.tick = tick
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="shipflow-job")
        self._stop = threading.Event()
        self._woken: set[str] = set()
        self._held: dict[str, float] = {}  # job -> monotonic time it may start again
        self._woken_lock = threading.Lock()
        self._wake = threading.Event()
        self._running: dict[str, Future] = {}
        self._thread: threading.Thread | None = None

    def submit(self, name: str, **kwargs: Any) -> Future:
        return self._pool.submit(self._guarded, name, kwargs)

    def _guarded(self, name: str, kwargs: dict[str, Any]) -> Any:
        try:
            found = run(self.runtime, name, **kwargs)
        except Exception:
            log.exception("job %s failed", name)  # the job's rows stay due; the next run retries
            return None
        for later in woken_after(self.runtime, name, found):
            self.wake(later)
        return found

    def wake(self, name: str) -> None:
        """Run periodic job `name` soon (at once unless it is running): cheap, so callers
        may ask after every bit of new work; asks while it runs coalesce into one rerun."""
        if self._thread is None:  # no scheduler (a runner for submitted jobs only): run it now
            self.submit(name)
            return
        with self._woken_lock:
            self._woken.add(name)
        self._wake.set()

    def start(self) -> InProcessRunner:
        self._thread = threading.Thread(
            target=self._schedule, name="shipflow-scheduler", daemon=True
        )
        self._thread.start()
        return self

    def _schedule(self) -> None:
        """Each periodic job every `every` seconds, sooner when woken, and again at once
        while it keeps finding work: a backlog drains at full speed, one run at a time. A
        woken job that is held (its last run found a few items) starts when the hold ends."""
        jobs = periodic(self.runtime.jobs.values())
        due = {job.name: 0.0 for job in jobs}
        every = {job.name: job.every for job in jobs if job.every is not None}
        held: set[str] = set()  # woken, waiting for their hold to end
        while not self._stop.is_set():
            self._wake.clear()
            now = time.monotonic()
            with self._woken_lock:
                woken, self._woken = self._woken, set()
                for name in woken & due.keys():
                    due[name] = self._held.get(name, 0.0)
                    held.add(name)
            for name, at in due.items():
                busy = name in self._running and not self._running[name].done()
                if at <= now and not busy:
                    self._running[name] = future = self.submit(name)
                    future.add_done_callback(partial(self._finished, name))
                    due[name] = now + every[name]
                    held.discard(name)
            holds = [due[name] - now for name in held if due[name] > now]
            self._wake.wait(min([self.tick, *holds]))

    def _finished(self, name: str, run: Future) -> None:
        """A run that found work (a truthy result) is followed by another at once, or when
        its hold ends; one woken while it ran, the same (not at the next tick)."""
        found = run.result()
        hold = held_for(self.runtime.settings.batching, found)
        with self._woken_lock:
            self._held[name] = time.monotonic() + hold
        if found:
            self.wake(name)
        self._wake.set()

    def stop(self, wait: bool = True) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join()
        self._pool.shutdown(wait=wait)

    def drain(self, max_rounds: int = 50) -> int:
        """Run every periodic job inline, again and again, until none finds work."""
        total = 0
        for _ in range(max_rounds):
            jobs = periodic(self.runtime.jobs.values())
            done = sum(run(self.runtime, job.name) or 0 for job in jobs)
            total += done
            if not done:
                return total
        raise RuntimeError(f"jobs still busy after {max_rounds} rounds")
