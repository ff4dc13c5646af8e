"""The scheduled alert cycle, the same for the in-process runner, Celery beat and the CLI:
sweep each brand, queue its ops notifications, send what is due."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from shipflow.delays.routing import deliver_due, dispatch
from shipflow.delays.sweep import ScanResult, scan
from shipflow.store.db import each_in_own_transaction
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

    def cycle(session: Session, brand_id: str) -> tuple[ScanResult, int]:
        found = scan(session, brand_id, now, runtime.settings)
        return found, dispatch(session, brand_id, now, runtime.settings).messages

    done = each_in_own_transaction(runtime.sessions, brand_ids, cycle, "alert cycle")
    scans = {brand_id: found for brand_id, (found, _) in done.items()}
    queued = sum(messages for _, messages in done.values())
    return CycleReport(scans, queued, deliver_due(runtime))
