"""Prometheus metric children looked up once: `labels()` takes the metric's lock and checks
its label values on every call, a cost on paths run once a webhook or an event."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from prometheus_client.metrics import MetricWrapperBase


@lru_cache(maxsize=1024)
def child(metric: MetricWrapperBase, *values: Any) -> Any:
    """`metric.labels(*values)`, remembered (label values are few: stages, statuses)."""
    return metric.labels(*values)
