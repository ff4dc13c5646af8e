"""A real Celery worker on a real Redis runs a tracking job end to end."""

from __future__ import annotations

import dataclasses
import os
import time

import pytest
from sqlalchemy import select

from shipflow.store.models import Shipment, TrackingEventRow
from shipflow.store.tracking_models import WebhookReceipt
from tests.tracking.fake_carrier import event, payload
from tests.tracking.helpers import at, post_webhook

REDIS_URL = os.environ.get("SHIPFLOW_TEST_REDIS_URL")
pytestmark = [
    pytest.mark.redis,
    pytest.mark.skipif(not REDIS_URL, reason="Redis not configured: set SHIPFLOW_TEST_REDIS_URL"),
]


@pytest.fixture
def celery_worker(runtime):
    from celery.contrib.testing.worker import start_worker

    from shipflow.jobs import celery_app

    settings = runtime.settings.model_copy(update={"broker_url": REDIS_URL})
    app = celery_app.configure(runtime=dataclasses.replace(runtime, settings=settings))
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        yield app
    celery_app._runtime = None


def test_celery_worker_processes_a_webhook(
    client, runtime, tracked, make_shipment, clock, celery_worker
):
    shipment_id = make_shipment(tracked["tb"], "TN1")
    body = payload(
        "TN1",
        event("PU", "in_transit", at(clock, -3)),
        event("OFD", "out_for_delivery", at(clock, -1)),
    )
    receipt_id = post_webhook(client, tracked["tb"], body).json["receipt_id"]

    result = celery_worker.send_task("tracking.process_receipt", kwargs={"receipt_id": receipt_id})

    assert result.get(timeout=30) == 1
    with runtime.sessions() as session:
        assert session.get(Shipment, shipment_id).status == "out_for_delivery"
        assert len(session.scalars(select(TrackingEventRow)).all()) == 2
    # The periodic sweep finds nothing left: the job ran once.
    assert celery_worker.send_task("tracking.process_receipts").get(timeout=30) == 0


def test_a_periodic_job_that_found_work_runs_again_until_none_is_left(
    client, runtime, tracked, make_shipment, clock, celery_worker
):
    """As with the in-process runner, a backlog drains at once, not a batch per beat tick."""
    receipt_ids = []
    for number in ("TN1", "TN2", "TN3"):
        make_shipment(tracked["tb"], number)
        body = payload(number, event("PU", "in_transit", at(clock, -3)))
        receipt_ids.append(post_webhook(client, tracked["tb"], body).json["receipt_id"])

    first = celery_worker.send_task("tracking.process_receipts", kwargs={"limit": 1})

    assert first.get(timeout=30) == 1
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and _statuses(runtime, receipt_ids) != {"processed"}:
        time.sleep(0.1)
    assert _statuses(runtime, receipt_ids) == {"processed"}


def _statuses(runtime, receipt_ids) -> set[str]:
    with runtime.sessions() as session:
        rows = session.scalars(
            select(WebhookReceipt.status).where(WebhookReceipt.id.in_(receipt_ids))
        )
        return set(rows)
