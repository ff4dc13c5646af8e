"""The scheduled alert cycle, the same for the in-process runner, Celery beat and the CLI:
sweep each brand, queue its ops notifications, send what is due."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from sqlalchemy import select

from shipflow.delays import routing
from shipflow.delays.routing import deliver_due, dispatch
from shipflow.delays.sweep import ScanResult, scan
from shipflow.jobs import job
from shipflow.store.db import unit_of_work
from shipflow.store.models import Brand


@dataclass
class CycleReport:
    scans: dict[str, ScanResult]
    queued: int
    sent: int


@job("alerts.cycle", every=60)
def alert_cycle_job(runtime) -> int:
    report = alert_cycle(runtime)
    return report.queued + report.sent


def alert_cycle(runtime, brand_ids: list[str] | None = None) -> CycleReport:
    """One transaction per brand, so a slow or failing brand does not hold up the others."""
    now = runtime.clock.now()
    if brand_ids is None:
        with runtime.sessions() as session:
            brand_ids = list(session.scalars(select(Brand.id)))
    scans, queued = {}, 0
    for brand_id in brand_ids:
        with unit_of_work(runtime.sessions) as session:
            scans[brand_id] = scan(session, brand_id, now)
            queued += dispatch(session, brand_id, now).messages
    return CycleReport(scans, queued, deliver_due(runtime))


def outbox_handlers(runtime) -> dict:
    """Topic -> `fn(session, message)` for a generic outbox runner: register these so it
    sends ops notifications instead of marking them done unsent."""
    return {routing.TOPIC: partial(routing.handle, settings=runtime.settings)}
