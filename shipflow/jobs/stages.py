"""CPU seconds per stage of the background work: each job, and each reaction inside one, as
the Prometheus summary `shipflow_stage_cpu_seconds{stage}` (count and sum). It says where a
worker's time goes per event without a profiler; `benchmarks/pipeline.py` reads it. Thread
CPU time, so the runner's threads, and the web's, do not count each other's work."""

from __future__ import annotations

import time

from prometheus_client import Summary

from shipflow.metrics import child

STAGE_CPU = Summary(
    "shipflow_stage_cpu_seconds", "CPU seconds spent in each stage of background work", ["stage"]
)


class _Timed:
    __slots__ = ("started", "summary")

    def __init__(self, summary: Summary) -> None:
        self.summary = summary

    def __enter__(self) -> None:
        self.started = time.thread_time()

    def __exit__(self, *_: object) -> None:
        self.summary.observe(time.thread_time() - self.started)


def timed(stage: str) -> _Timed:
    """Add the CPU time of the block to `stage` (a job's name, or `reaction:<handler>`). A
    class, each stage's summary looked up once, not a generator's context manager: 8 -> 4.5
    us a block, and an outbox message runs two or three."""
    return _Timed(child(STAGE_CPU, stage))
