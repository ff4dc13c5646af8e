"""The scheduled alert cycle, the same for the in-process runner, Celery beat and the CLI:
sweep each brand, queue its ops notifications, send what is due."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from shipflow.delays.routing import deliver_due, dispatch
from shipflow.delays.sweep import ScanResult, scan
from shipflow.store.db import unit_of_work
from shipflow.store.models import Brand


@dataclass
class CycleReport:
    scans: dict[str, ScanResult]
    queued: int
    sent: int


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
            scans[brand_id] = scan(session, brand_id, now, runtime.settings)
            queued += dispatch(session, brand_id, now, runtime.settings).messages
    return CycleReport(scans, queued, deliver_due(runtime))
