"""The scheduled sweep over every active shipment of a brand, set-based: the detectors' SQL
pre-filters narrow a million rows to the few that may be delayed, lane statistics are two
GROUP BYs, and only the candidates meet the same detectors as `detect_for_shipments`."""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import CursorResult, Row, and_, case, exists, func, select, update
from sqlalchemy.orm import Session

from shipflow.delays import alerts
from shipflow.delays.detectors import (
    ACTIVE_STATUSES,
    LATE,
    LaneIncident,
    LaneStats,
    Policy,
    ShipmentSnapshot,
    delayed_kinds,
    detect,
    lane_incident,
    lane_recovered,
    last_broken_promise,
    shipment_kinds,
    sweep_candidates,
)
from shipflow.delays.risk_store import with_journeys
from shipflow.delays.service import (
    SNAPSHOT_COLUMNS,
    Lane,
    delayed_event,
    open_incidents,
    policy_for,
    region_column,
    shipment_alert,
    snapshot_from_row,
    sql_date,
)
from shipflow.domain import TERMINAL_STATUSES, Status
from shipflow.domain.events import ShipmentDelayed
from shipflow.store.models import Alert, Order, OutboxMessage, Shipment

if TYPE_CHECKING:
    from shipflow.config import Settings

SAMPLE_IDS = 20
JOURNEY_CHUNK = 10_000


@dataclass
class ScanResult:
    candidates: int = 0
    alerts_raised: int = 0
    grouped: int = 0
    incidents: list[LaneIncident] = field(default_factory=list)
    events_published: int = 0
    resolved: int = 0
    incidents_closed: int = 0


def _backfill_destinations(session: Session, brand_id: str) -> None:
    """Shipments created without a destination take it from their order, once."""
    order = Order.__table__.alias()

    def from_order(key: str):
        value = select(order.c.ship_to[key].as_string()).where(order.c.id == Shipment.order_id)
        return func.coalesce(value.scalar_subquery(), "")

    pending = and_(
        Shipment.brand_id == brand_id,
        Shipment.destination_postal_code == "",
        Shipment.order_id.is_not(None),
        Shipment.status.in_(ACTIVE_STATUSES),
    )
    session.execute(
        update(Shipment)
        .where(pending)
        .values(
            destination_state=from_order("state"),
            destination_postal_code=from_order("postal_code"),
        )
        .execution_options(synchronize_session=False)
    )


def lane_stats(session: Session, brand_id: str, now: datetime, policy: Policy) -> list[LaneStats]:
    """Late share of every (carrier, region) among active shipments, with its baseline:
    the lane's own deliveries of the last weeks, else the configured default."""
    config = policy.alerts.lane
    region = region_column(policy)
    late = func.sum(case((LATE.candidates(now, policy), 1), else_=0))
    # (carrier, region, shipments, late ones); the stubs cannot type a SUM, so the rows say it
    current: Sequence[Row[str, str, int, int]] = session.execute(
        select(Shipment.carrier, region, func.count(), late)
        .where(
            Shipment.brand_id == brand_id,
            Shipment.status.in_(ACTIVE_STATUSES),
            Shipment.kind == "forward",
            Shipment.promised_date.is_not(None),
        )
        .group_by(Shipment.carrier, region)
    ).all()
    delivered_late = sql_date(session, Shipment.delivered_at) > Shipment.promised_date
    delivered: Sequence[Row[str, str, int, int]] = session.execute(
        select(
            Shipment.carrier,
            region,
            func.count(),
            func.sum(case((delivered_late, 1), else_=0)),
        )
        .where(
            Shipment.brand_id == brand_id,
            Shipment.status == Status.DELIVERED,
            Shipment.promised_date.is_not(None),
            Shipment.delivered_at >= now - timedelta(days=config.baseline_days),
        )
        .group_by(Shipment.carrier, region)
    ).all()
    history = {
        (carrier, lane_region): (count, late_count)
        for carrier, lane_region, count, late_count in delivered
    }
    stats = []
    for carrier, lane_region, count, late_count in current:
        past, past_late = history.get((carrier, lane_region), (0, 0))
        baseline = past_late / past if past >= config.min_shipments else config.baseline_late_share
        stats.append(LaneStats(carrier, lane_region or "", count, int(late_count or 0), baseline))
    return stats


def lane_excess(
    session: Session, brand_id: str, now: datetime, policy: Policy, lanes: set[Lane]
) -> dict[Lane, int]:
    """Per lane, the median days its late parcels are behind their promise (predicted past
    it, or its day over without delivery, whichever is more): what a new promise on the lane
    needs on top while the incident lasts (`shipflow.edd.incidents`)."""
    if not lanes:
        return {}
    region = region_column(policy)
    # LATE's filter keeps only shipments with a promise; the rows say so for the type checker
    rows = cast(
        Sequence[Row[str, str, date, date | None]],
        session.execute(
            select(Shipment.carrier, region, Shipment.promised_date, Shipment.predicted_date).where(
                Shipment.brand_id == brand_id,
                Shipment.status.in_(ACTIVE_STATUSES),
                Shipment.carrier.in_({carrier for carrier, _ in lanes}),
                LATE.candidates(now, policy),
            )
        ).all(),
    )
    behind: dict[Lane, list[int]] = defaultdict(list)
    overdue_from = last_broken_promise(now)
    for carrier, lane_region, promised, predicted in rows:
        if (carrier, lane_region) not in lanes:
            continue
        days = (predicted - promised).days if predicted else 0
        if promised <= overdue_from:
            days = max(days, (overdue_from - promised).days + 1)
        behind[carrier, lane_region].append(days)
    return {lane: max(1, math.ceil(statistics.median(days))) for lane, days in behind.items()}


def _raise_incidents(
    session: Session,
    brand_id: str,
    now: datetime,
    incidents: Sequence[LaneIncident],
    excess: dict[Lane, int],
) -> int:
    """Open an alert per new incident, refresh the figures of open ones; count the new."""
    open_alerts = {
        a.dedupe_key: a
        for a in session.scalars(
            select(Alert).where(
                Alert.brand_id == brand_id,
                Alert.kind == "lane_incident",
                Alert.status != alerts.RESOLVED,
            )
        )
    }
    rows = []
    for incident in incidents:
        details = {
            "late": incident.late,
            "active": incident.active,
            "late_share": round(incident.share, 4),
            "baseline_share": round(incident.baseline_share, 4),
            "excess_days": excess.get((incident.carrier, incident.region), 1),
        }
        existing = open_alerts.get(incident.dedupe_key)
        if existing is not None:  # keep the figures current while it is open
            existing.details = {**existing.details, **details}
            existing.title = incident.title
            continue
        rows.append(
            alerts.alert_row(
                brand_id,
                now,
                kind="lane_incident",
                severity="critical",
                title=incident.title,
                dedupe_key=incident.dedupe_key,
                details=details,
                carrier=incident.carrier,
                region=incident.region,
            )
        )
    alerts.insert_alerts(session, rows)
    session.flush()
    return len(rows)


def _close_recovered(
    session: Session, brand_id: str, now: datetime, stats: Sequence[LaneStats], policy: Policy
) -> int:
    """Resolve the open incidents whose lane has recovered (see `lane_recovered`): nobody has
    to close an incident by hand once its carrier catches up."""
    by_lane = {(s.carrier, s.region): s for s in stats}
    closed = 0
    for (carrier, region), alert in open_incidents(session, brand_id).items():
        lane = by_lane.get((carrier, region))
        if lane_recovered(lane, policy.alerts.lane):
            alert.status, alert.resolved_at, alert.updated_at = alerts.RESOLVED, now, now
            alert.details = {**alert.details, "recovered": True}
            closed += 1
    session.flush()
    return closed


def _candidates(session: Session, brand_id: str, now: datetime, policy: Policy):
    """The snapshots the detectors may flag, those the `at_risk` detector judges with their
    journey (loaded a chunk at a time)."""
    statement = select(*SNAPSHOT_COLUMNS).where(
        Shipment.brand_id == brand_id,
        Shipment.status.in_(ACTIVE_STATUSES),
        sweep_candidates(now, policy),
    )
    chunk: list[ShipmentSnapshot] = []
    for row in session.execute(statement).yield_per(JOURNEY_CHUNK):
        chunk.append(snapshot_from_row(row, policy))
        if len(chunk) == JOURNEY_CHUNK:
            yield from with_journeys(session, chunk, now, policy)
            chunk = []
    yield from with_journeys(session, chunk, now, policy)


def _publish_delayed(session: Session, events: Iterable[ShipmentDelayed]) -> int:
    by_key = {e.key: e for e in events}
    known = alerts.existing_values(session, OutboxMessage.dedupe_key, by_key)
    rows = [
        {
            "brand_id": e.brand_id,
            "topic": e.topic,
            "dedupe_key": key,
            "payload": e.payload(),
            "created_at": e.occurred_at,
            "available_at": e.occurred_at,
            "attempts": 0,
        }
        for key, e in by_key.items()
        if key not in known
    ]
    alerts.insert_ignoring(session, OutboxMessage, rows, ["dedupe_key"])
    return len(rows)


def _resolve_finished(session: Session, brand_id: str, now: datetime) -> int:
    """Alerts of shipments that reached a terminal status need no one any more."""
    finished = exists().where(
        Shipment.id == Alert.shipment_id, Shipment.status.in_(TERMINAL_STATUSES)
    )
    # An UPDATE returns a CursorResult (which has rowcount); Session.execute's stubs say Result.
    result = cast(
        CursorResult,
        session.execute(
            update(Alert)
            .where(Alert.brand_id == brand_id, Alert.status != alerts.RESOLVED, finished)
            .values(status=alerts.RESOLVED, resolved_at=now, updated_at=now)
            .execution_options(synchronize_session=False)
        ),
    )
    return result.rowcount or 0


def _group_under_incidents(
    session: Session,
    brand_id: str,
    now: datetime,
    incidents: dict[Lane, Alert],
    grouped: dict[Lane, list[str]],
) -> int:
    """Each open incident lists the delayed shipments it stands for; their individual
    alerts raised before the incident opened are folded into it (resolved)."""
    for (carrier, region), incident in incidents.items():
        ids = grouped.get((carrier, region), [])
        incident.details = {
            **incident.details,
            "grouped_shipments": len(ids),
            "sample_shipment_ids": ids[:SAMPLE_IDS],
        }
        session.execute(
            update(Alert)
            .where(
                Alert.brand_id == brand_id,
                Alert.status != alerts.RESOLVED,
                Alert.kind.in_(shipment_kinds()),
                Alert.carrier == carrier,
                Alert.region == region,
            )
            .values(status=alerts.RESOLVED, resolved_at=now, updated_at=now)
            .execution_options(synchronize_session=False)
        )
    return sum(len(ids) for ids in grouped.values())


def scan(session: Session, brand_id: str, now: datetime, settings: Settings) -> ScanResult:
    """Sweep every active shipment of the brand: lane incidents first, so the shipments
    they cover are grouped under them instead of raising an alert each."""
    policy = policy_for(session, brand_id, settings)
    result = ScanResult()
    _backfill_destinations(session, brand_id)
    stats = lane_stats(session, brand_id, now, policy)
    result.incidents = [
        incident
        for lane in stats
        if (incident := lane_incident(lane, policy.alerts.lane)) is not None
    ]
    lanes = {(i.carrier, i.region) for i in result.incidents}
    excess = lane_excess(session, brand_id, now, policy, lanes)
    result.alerts_raised = _raise_incidents(session, brand_id, now, result.incidents, excess)
    result.incidents_closed = _close_recovered(session, brand_id, now, stats, policy)
    incidents = open_incidents(session, brand_id)
    grouped: dict[Lane, list[str]] = defaultdict(list)
    delay_kinds = delayed_kinds()
    rows: list[dict[str, Any]] = []
    events: list[ShipmentDelayed] = []
    for snap in _candidates(session, brand_id, now, policy):
        result.candidates += 1
        delays = detect(snap, now, policy)
        if not delays:
            continue
        if (snap.carrier, snap.region) in incidents:
            grouped[snap.carrier, snap.region].append(snap.id)
        else:
            rows.extend(shipment_alert(snap, d) for d in delays)
        delayed = next((d for d in delays if d.kind in delay_kinds), None)
        if delayed is not None:
            events.append(delayed_event(snap, delayed, now))
    known = alerts.unresolved_keys(session, brand_id, (r["dedupe_key"] for r in rows))
    new_rows = [alerts.alert_row(brand_id, now, **r) for r in rows if r["dedupe_key"] not in known]
    alerts.insert_alerts(session, new_rows)
    result.alerts_raised += len(new_rows)
    result.grouped = _group_under_incidents(session, brand_id, now, incidents, grouped)
    result.events_published = _publish_delayed(session, events)
    result.resolved = _resolve_finished(session, brand_id, now)
    return result
