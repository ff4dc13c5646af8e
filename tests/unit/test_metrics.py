"""The shared cache of Prometheus metric children (`shipflow.metrics.child`)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter

from shipflow.metrics import child


def test_a_child_is_looked_up_once_and_is_the_metrics_own():
    counter = Counter("shipflow_test_children", "test", ["status"], registry=CollectorRegistry())
    first = child(counter, 202)
    assert child(counter, 202) is first is counter.labels(202)
    first.inc()
    assert counter.labels("202")._value.get() == 1
    assert child(counter, 503) is not first
