"""The tracking pipeline's jobs: poll due shipments, process webhooks, dispatch the outbox."""

from __future__ import annotations

from shipflow.jobs import job
from shipflow.jobs.outbox import dispatch_due
from shipflow.runtime import Runtime
from shipflow.tracking import polling, webhooks


@job("tracking.poll_due", every=60)
def poll_due(runtime: Runtime) -> int:
    return polling.poll_due(runtime)


@job("tracking.process_receipts", every=5)
def process_receipts(runtime: Runtime) -> int:
    return webhooks.process_due_receipts(runtime)


@job("tracking.process_receipt")
def process_receipt(runtime: Runtime, receipt_id: int) -> int:
    return webhooks.process_receipt(runtime, receipt_id)


@job("outbox.dispatch", every=2)
def dispatch_outbox(runtime: Runtime) -> int:
    return dispatch_due(runtime)
