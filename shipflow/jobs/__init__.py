"""Background work as named service functions of a Runtime: `fn(runtime, **kwargs)`.

The same jobs feed both runners: in-process threads (the embedded default) and Celery (at
scale). Periodic jobs return how much work they did, so a runner can drain them, and a run
that found work wakes the jobs that take it further (`Job.wakes`: receipts -> outbox ->
e-mails), so an event goes through every stage at once instead of waiting for each one's
tick. The list of jobs is `shipflow.runtime.JOBS`; each runtime holds its own copy
(`runtime.jobs`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from shipflow.jobs.stages import timed

if TYPE_CHECKING:
    from shipflow.config import BatchingConfig
    from shipflow.runtime import Runtime

JobFunction = Callable[..., Any]


@dataclass(frozen=True)
class Job:
    name: str
    fn: JobFunction
    every: float | None = None  # seconds between runs for periodic jobs
    wakes: tuple[str, ...] = ()  # periodic jobs to run soon after a run that found work


def woken_after(runtime: Runtime, name: str, found: Any) -> tuple[str, ...]:
    """The jobs a run of `name` that returned `found` wakes: none if it found no work."""
    return runtime.jobs[name].wakes if found else ()


def held_for(batching: BatchingConfig, found: Any) -> float:
    """Seconds the next run of a periodic job waits after a run that found `found` ended: a
    few items (a busy stage's trickle) hold it `gather_seconds` so that more gather; none
    (idle: the next wake is a lone event) or a batch of `floor` (a backlog) hold nothing."""
    if isinstance(found, int) and 0 < found < batching.floor:
        return batching.gather_seconds
    return 0.0


def periodic(jobs: Iterable[Job]) -> list[Job]:
    return [j for j in jobs if j.every is not None]


def run(runtime: Runtime, name: str, **kwargs: Any) -> Any:
    with timed(name):
        return runtime.jobs[name].fn(runtime, **kwargs)


class Runner(Protocol):
    """What the web app and services use to ask for work to happen soon."""

    def submit(self, name: str, **kwargs: Any) -> None: ...

    def wake(self, name: str) -> None:
        """Run periodic job `name` soon rather than at its next tick."""
