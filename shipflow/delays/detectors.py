"""Delay detectors: each is one `Detector` in `DETECTORS`, carrying its kind, its pure
judgement of one shipment snapshot (the time and the brand's policy in, the delay out, no
I/O) and the SQL pre-filter with which the scheduled sweep finds every shipment it may judge
delayed. The per-event path and the sweep both go through `DETECTORS`, so they judge alike
and a detector added here runs in both."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, false, func, or_

from shipflow.calendars import holiday_dates
from shipflow.delays.config import AlertsConfig, AtRiskConfig, Kind, LaneConfig
from shipflow.delays.risk import RiskModel, day_end
from shipflow.domain import Reason, Status, TrackingEvent, Warehouse
from shipflow.edd.history import HistoryRecord
from shipflow.store.models import Shipment

# Statuses a parcel can still leave by itself; the sweep looks only at these.
ACTIVE_STATUSES = (
    Status.PENDING,
    Status.INFO_RECEIVED,
    Status.IN_TRANSIT,
    Status.OUT_FOR_DELIVERY,
    Status.ATTEMPT_FAILED,
    Status.AVAILABLE_FOR_PICKUP,
    Status.EXCEPTION,
    Status.RETURNING_TO_SENDER,
)
NOT_PICKED_UP_STATUSES = (Status.PENDING, Status.INFO_RECEIVED)
# A promise is a date in the customer's calendar: it is broken once that day has ended in
# every US time zone (Hawaii is UTC-10), not at UTC midnight.
PROMISE_DAY_ENDS_AFTER = timedelta(hours=12)
SERIOUS_REASONS = frozenset({Reason.LOST, Reason.DAMAGED, Reason.REFUSED})


@dataclass(frozen=True, slots=True)
class ShipmentSnapshot:
    id: str
    brand_id: str
    carrier: str
    status: Status
    created_at: datetime
    kind: str = "forward"
    reason: str | None = None
    promised_date: date | None = None
    predicted_date: date | None = None
    last_event_at: datetime | None = None
    warehouse_code: str = ""
    region: str = ""
    service: str = ""
    # What the risk model reads (`risk_store.with_journeys`): the parcel as a history record
    # still in flight and its tracking events so far; None where it is not judged.
    journey: tuple[HistoryRecord, tuple[TrackingEvent, ...]] | None = None


@dataclass(frozen=True, slots=True)
class Delay:
    kind: str
    severity: str
    title: str
    why: str
    dedupe_key: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Policy:
    """What the detectors need of a brand: its alert settings, warehouse calendars and the
    stale limits and the delay risk model learned from its history ((carrier, service,
    status) -> hours; None before the brand has one)."""

    alerts: AlertsConfig = AlertsConfig()
    warehouses: dict[str, Warehouse] = field(default_factory=dict)
    learned_stale_hours: dict[tuple[str, str, str], float] = field(default_factory=dict)
    risk: RiskModel | None = None

    def stale_limit_hours(self, carrier: str, service: str, status: str) -> float | None:
        """The brand's own per-carrier limit wins, then the learned one, then the default."""
        configured = self.alerts.carrier_stale_hours.get(carrier, {}).get(status)
        if configured is not None:
            return configured
        learned = self.learned_stale_hours.get((carrier, service, status))
        return learned if learned is not None else self.alerts.stale_hours.get(status)


def last_seen(shipment: ShipmentSnapshot) -> datetime:
    return shipment.last_event_at or shipment.created_at


def last_broken_promise(now: datetime) -> date:
    """The latest promised date already broken at `now` for a parcel not yet delivered."""
    return (now.astimezone(UTC) - timedelta(days=1) - PROMISE_DAY_ENDS_AFTER).date()


def detect_late(s: ShipmentSnapshot, now: datetime, policy: Policy) -> Delay | None:
    """The prediction is past the promise, or the promised day is over and no delivery."""
    if s.kind != "forward" or s.promised_date is None or s.status not in ACTIVE_STATUSES:
        return None
    if s.predicted_date is not None and s.predicted_date > s.promised_date:
        why = f"predicted {s.predicted_date.isoformat()}, promised {s.promised_date.isoformat()}"
    elif s.promised_date <= last_broken_promise(now):
        why = f"not delivered by the promised {s.promised_date.isoformat()}"
    else:
        return None
    details = {"promised_date": s.promised_date.isoformat(), "predicted_date": _iso(s)}
    return _warning(s, "late", "shipment late", why, s.promised_date.isoformat(), details)


def at_risk_due(s: ShipmentSnapshot, now: datetime, policy: Policy) -> bool:
    """Whether `detect_at_risk` judges the shipment (and so needs its journey): a forward
    parcel on its way, with a promise not yet over that ends within the horizon."""
    if policy.risk is None or s.kind != "forward" or s.status not in ACTIVE_STATUSES:
        return False
    if s.promised_date is None:
        return False
    left = day_end(s.promised_date, policy.risk.zone) - now
    return timedelta(0) < left <= timedelta(days=policy.alerts.at_risk.horizon_days)


def at_risk_threshold(config: AtRiskConfig, risk: RiskModel) -> float:
    """The chance that raises the warning: the one the brand's last learning chose for its
    wanted `precision`, else (none wanted, or none reached it) its configured `threshold`."""
    if config.precision is None:
        return config.threshold
    return risk.thresholds.get(config.precision, config.threshold)


def detect_at_risk(s: ShipmentSnapshot, now: datetime, policy: Policy) -> Delay | None:
    """The brand's learned chance of the parcel missing its promise reached the threshold."""
    if s.journey is None or policy.risk is None or not at_risk_due(s, now, policy):
        return None
    promised = s.promised_date.isoformat()  # type: ignore[union-attr]  # at_risk_due: set
    record, story = s.journey
    known = [e for e in story if e.occurred_at <= now]
    deadline = day_end(s.promised_date, policy.risk.zone)  # type: ignore[arg-type]
    chance = policy.risk.chance(record, deadline, now, known)
    if chance is None or chance < at_risk_threshold(policy.alerts.at_risk, policy.risk):
        return None
    why = f"{chance:.0%} chance of missing the promised {promised}"
    details = {"chance": round(chance, 3), "promised_date": promised}
    return _warning(s, "at_risk", "shipment at risk of running late", why, promised, details)


def detect_stale(s: ShipmentSnapshot, now: datetime, policy: Policy) -> Delay | None:
    """No carrier scan for longer than the status allows (per carrier, service and status)."""
    if s.status in NOT_PICKED_UP_STATUSES and s.last_event_at is None:
        return None  # never scanned: the pickup detector's case
    limit = policy.stale_limit_hours(s.carrier, s.service, s.status)
    if limit is None or s.status not in ACTIVE_STATUSES:
        return None
    silent = now - last_seen(s)
    if silent <= timedelta(hours=limit):
        return None
    hours = int(silent.total_seconds() // 3600)
    why = f"no scan for {hours} h while {s.status} (limit {limit:g} h)"
    details = {"status": str(s.status), "silent_hours": hours, "limit_hours": limit}
    return _warning(s, "stale", "shipment silent", why, s.status, details)


def detect_not_picked_up(s: ShipmentSnapshot, now: datetime, policy: Policy) -> Delay | None:
    """A label was created but the carrier has not scanned the parcel by the end of the
    warehouse's next working day."""
    if s.status not in NOT_PICKED_UP_STATUSES:
        return None
    deadline = pickup_deadline(s.created_at, policy.warehouses.get(s.warehouse_code), policy)
    if now <= deadline:
        return None
    why = f"label created {s.created_at:%Y-%m-%d %H:%M} UTC, no pickup scan yet"
    details = {"warehouse": s.warehouse_code, "deadline": deadline.isoformat()}
    return _warning(s, "not_picked_up", "has not picked up the parcel", why, None, details)


def detect_exception(s: ShipmentSnapshot, now: datetime, policy: Policy) -> Delay | None:
    if s.status != Status.EXCEPTION:
        return None
    reason = s.reason or "unspecified"
    return Delay(
        kind="exception",
        severity="critical" if s.reason in SERIOUS_REASONS else "warning",
        title=f"{s.carrier} exception: {reason}",
        why=f"carrier reported an exception ({reason})",
        dedupe_key=f"exception:{s.id}:{reason}",
        details={"reason": reason},
    )


def _warning(
    s: ShipmentSnapshot,
    kind: str,
    headline: str,
    why: str,
    episode: str | None,
    details: dict[str, Any],
) -> Delay:
    """A warning titled "<carrier> <headline>: <why>", raised once per shipment and kind (and
    `episode`: a new promise or status is a new alert)."""
    key = f"{kind}:{s.id}" if episode is None else f"{kind}:{s.id}:{episode}"
    title = f"{s.carrier} {headline}: {why}"
    return Delay(
        kind=kind, severity="warning", title=title, why=why, dedupe_key=key, details=details
    )


def _iso(s: ShipmentSnapshot) -> str | None:
    return s.predicted_date.isoformat() if s.predicted_date else None


# --- the sweep's SQL pre-filters: every shipment a detector may flag, over `shipments` ---


def late_candidates(now: datetime, policy: Policy) -> ColumnElement[bool]:
    """SQL for `detect_late`."""
    return and_(
        Shipment.kind == "forward",
        Shipment.promised_date.is_not(None),
        or_(
            Shipment.predicted_date > Shipment.promised_date,
            Shipment.promised_date <= last_broken_promise(now),
        ),
    )


def at_risk_candidates(now: datetime, policy: Policy) -> ColumnElement[bool]:
    """SQL for `detect_at_risk`: promises not over that end within the horizon (a day's
    margin each side for the zone); nothing before the brand has learned a model."""
    if policy.risk is None:
        return false()
    today = now.astimezone(ZoneInfo(policy.risk.zone)).date()
    return and_(
        Shipment.kind == "forward",
        Shipment.promised_date >= today - timedelta(days=1),
        Shipment.promised_date <= today + timedelta(days=policy.alerts.at_risk.horizon_days + 1),
    )


def stale_candidates(now: datetime, policy: Policy) -> ColumnElement[bool]:
    """SQL for `detect_stale`: silent longer than the (carrier's own, learned or default)
    limit; a learned limit adds its own clause (the judge picks the one that applies)."""
    config = policy.alerts
    seen = func.coalesce(Shipment.last_event_at, Shipment.created_at)
    overridden = {
        status: [c for c, limits in config.carrier_stale_hours.items() if status in limits]
        for status in {s for limits in config.carrier_stale_hours.values() for s in limits}
    }
    clauses = []
    for status, hours in config.stale_hours.items():
        clauses.append(
            and_(
                Shipment.status == status,
                Shipment.carrier.not_in(overridden.get(status, [])),
                seen < now - timedelta(hours=hours),
            )
        )
    for carrier, limits in config.carrier_stale_hours.items():
        for status, hours in limits.items():
            clauses.append(
                and_(
                    Shipment.status == status,
                    Shipment.carrier == carrier,
                    seen < now - timedelta(hours=hours),
                )
            )
    for (carrier, service, status), hours in policy.learned_stale_hours.items():
        clauses.append(
            and_(
                Shipment.status == status,
                Shipment.carrier == carrier,
                Shipment.service == service,
                seen < now - timedelta(hours=hours),
            )
        )
    return or_(false(), *clauses)


def not_picked_up_candidates(now: datetime, policy: Policy) -> ColumnElement[bool]:
    """SQL for `detect_not_picked_up`: one creation threshold per warehouse."""
    not_scanned = Shipment.status.in_(NOT_PICKED_UP_STATUSES)
    known = list(policy.warehouses)
    clauses = [
        and_(
            Shipment.warehouse_code == code,
            Shipment.created_at < latest_overdue_label(now, warehouse, policy),
        )
        for code, warehouse in policy.warehouses.items()
    ]
    clauses.append(
        and_(
            Shipment.warehouse_code.not_in(known),
            Shipment.created_at < latest_overdue_label(now, None, policy),
        )
    )
    return and_(not_scanned, or_(*clauses))


def exception_candidates(now: datetime, policy: Policy) -> ColumnElement[bool]:
    """SQL for `detect_exception`."""
    return Shipment.status == Status.EXCEPTION


# --- the detectors ----------------------------------------------------------------------


@dataclass(frozen=True)
class Detector:
    """One kind of shipment delay. `judge` decides on one snapshot; `candidates` is SQL true
    for at least every shipment `judge` may flag (the sweep judges only those, so a filter
    that misses one hides it from the sweep). `publishes_delayed`: the kind means the
    customer's parcel is behind, so it publishes `ShipmentDelayed` (an exception has its own
    event). `sticky`: once raised, the alert stays until the shipment ends or ops resolve it
    (a chance hovering at its threshold would otherwise open and close alerts)."""

    kind: Kind
    judge: Callable[[ShipmentSnapshot, datetime, Policy], Delay | None]
    candidates: Callable[[datetime, Policy], ColumnElement[bool]]
    publishes_delayed: bool = True
    sticky: bool = False


LATE = Detector("late", detect_late, late_candidates)
DETECTORS: tuple[Detector, ...] = (
    LATE,
    Detector("at_risk", detect_at_risk, at_risk_candidates, publishes_delayed=False, sticky=True),
    Detector("stale", detect_stale, stale_candidates),
    Detector("not_picked_up", detect_not_picked_up, not_picked_up_candidates),
    Detector("exception", detect_exception, exception_candidates, publishes_delayed=False),
)


def detect(s: ShipmentSnapshot, now: datetime, policy: Policy) -> list[Delay]:
    return [d for d in (detector.judge(s, now, policy) for detector in DETECTORS) if d is not None]


def sweep_candidates(now: datetime, policy: Policy) -> ColumnElement[bool]:
    """Every registered detector's pre-filter: the sweep's `WHERE`."""
    return or_(*(detector.candidates(now, policy) for detector in DETECTORS))


def shipment_kinds() -> tuple[str, ...]:
    """The alert kinds raised per shipment, resolved when no longer detected."""
    return tuple(detector.kind for detector in DETECTORS)


def self_resolving_kinds() -> frozenset[str]:
    """The per-shipment kinds resolved as soon as their detector no longer finds them."""
    return frozenset(detector.kind for detector in DETECTORS if not detector.sticky)


def delayed_kinds() -> frozenset[str]:
    return frozenset(detector.kind for detector in DETECTORS if detector.publishes_delayed)


# --- warehouse working days -------------------------------------------------------------

DEFAULT_WAREHOUSE_ZONE = "UTC"
WEEKDAYS_MON_FRI = frozenset(range(5))


def _is_working_day(day: date, warehouse: Warehouse | None) -> bool:
    if warehouse is None:
        return day.weekday() in WEEKDAYS_MON_FRI
    if day.weekday() not in warehouse.working_days:
        return False
    return day not in holiday_dates(*warehouse.holidays, day.year)


def _zone(warehouse: Warehouse | None) -> ZoneInfo:
    return ZoneInfo(warehouse.timezone if warehouse else DEFAULT_WAREHOUSE_ZONE)


def pickup_deadline(created_at: datetime, warehouse: Warehouse | None, policy: Policy) -> datetime:
    """End of the `pickup_working_days`-th working day after the label's local date."""
    zone = _zone(warehouse)
    day = created_at.astimezone(zone).date()
    remaining = policy.alerts.pickup_working_days
    while remaining:
        day += timedelta(days=1)
        remaining -= _is_working_day(day, warehouse)
    return datetime.combine(day + timedelta(days=1), time(), zone).astimezone(UTC)


def latest_overdue_label(now: datetime, warehouse: Warehouse | None, policy: Policy) -> datetime:
    """Labels created before this instant are overdue for pickup at `now`: the set-based
    form of `pickup_deadline`, one threshold per warehouse instead of one per row."""
    zone = _zone(warehouse)
    day = now.astimezone(zone).date()
    for _ in range(60):
        start = datetime.combine(day, time(), zone)
        if pickup_deadline(start, warehouse, policy) < now:
            return datetime.combine(day + timedelta(days=1), time(), zone).astimezone(UTC)
        day -= timedelta(days=1)
    return datetime.combine(day, time(), zone).astimezone(UTC)


# --- lanes ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LaneStats:
    carrier: str
    region: str
    active: int  # active shipments with a promise
    late: int
    baseline_share: float


@dataclass(frozen=True, slots=True)
class LaneIncident:
    carrier: str
    region: str
    late: int
    active: int
    share: float
    baseline_share: float

    @property
    def dedupe_key(self) -> str:
        return f"lane_incident:{self.carrier}:{self.region}"

    @property
    def title(self) -> str:
        return (
            f"{self.carrier} lane incident to {self.region}: {self.late} of {self.active} "
            f"shipments late ({self.share:.0%}, usually {self.baseline_share:.0%})"
        )


def lane_recovered(stats: LaneStats | None, config: LaneConfig) -> bool:
    """An open incident's lane is back to normal: no parcels with a promise on it, fewer late
    than an incident needs, or a late share within half the jump of its baseline (half, so a
    lane hovering at the threshold does not open and close an incident every sweep)."""
    if stats is None or stats.late < config.min_late:
        return True
    return stats.late / max(stats.active, 1) < stats.baseline_share + config.jump / 2


def lane_incident(stats: LaneStats, config: LaneConfig) -> LaneIncident | None:
    """One lane's late share jumped above its baseline, on enough parcels to mean it."""
    if not stats.region or stats.active < config.min_shipments or stats.late < config.min_late:
        return None
    share = stats.late / stats.active
    if share < stats.baseline_share + config.jump:
        return None
    return LaneIncident(
        stats.carrier, stats.region, stats.late, stats.active, share, stats.baseline_share
    )
