"""CPU seconds per stage of the background work: each job, and each reaction inside one, as
the Prometheus summary `shipflow_stage_cpu_seconds{stage}` (count and sum). It says where a
worker's time goes per event without a profiler; `benchmarks/pipeline.py` reads it. Thread
CPU time, so the runner's threads, and the web's, do not count each other's work."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import Summary

STAGE_CPU = Summary(
    "shipflow_stage_cpu_seconds", "CPU seconds spent in each stage of background work", ["stage"]
)


@contextmanager
def timed(stage: str) -> Iterator[None]:
    """Add the CPU time of the block to `stage` (a job's name, or `reaction:<handler>`)."""
    started = time.thread_time()
    try:
        yield
    finally:
        STAGE_CPU.labels(stage).observe(time.thread_time() - started)
