"""Background work as named service functions of a Runtime: `fn(runtime, **kwargs)`.

The same registry feeds both runners: in-process threads (the embedded default) and Celery
(at scale). Periodic jobs return how much work they did, so a runner can drain them.
Features register their own jobs with `job(...)` in a module listed in `JOB_MODULES`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from shipflow.runtime import Runtime

JobFunction = Callable[..., Any]


@dataclass(frozen=True)
class Job:
    name: str
    fn: JobFunction
    every: float | None = None  # seconds between runs for periodic jobs


JOBS: dict[str, Job] = {}
JOB_MODULES = [
    "shipflow.jobs.tasks",
    "shipflow.delays.jobs",
    "shipflow.edd.jobs",
    "shipflow.allocation.batches",
    "shipflow.jobs.postpurchase",
]


def job(name: str, every: float | None = None) -> Callable[[JobFunction], JobFunction]:
    def register(fn: JobFunction) -> JobFunction:
        JOBS[name] = Job(name, fn, every)
        return fn

    return register


def load_jobs() -> dict[str, Job]:
    for module in JOB_MODULES:
        importlib.import_module(module)
    return JOBS


def periodic_jobs() -> list[Job]:
    return [j for j in load_jobs().values() if j.every is not None]


def run(runtime: Runtime, name: str, **kwargs: Any) -> Any:
    return load_jobs()[name].fn(runtime, **kwargs)


class Runner(Protocol):
    """What the web app and services use to ask for work to happen soon."""

    def submit(self, name: str, **kwargs: Any) -> None: ...

    def wake(self, name: str) -> None:
        """Run periodic job `name` soon rather than at its next tick."""
