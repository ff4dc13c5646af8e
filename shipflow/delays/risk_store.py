"""Each brand's delay risk model at the edge: learned from its history (the delivered history
the EDD learns from, the tracking events of the parcels shipflow tracked, and the shipments
in flight now, for the lanes' state), stored one row per brand, and the journeys (a shipment
as a history record in flight, with its events) the `at_risk` detector judges."""

from __future__ import annotations

import logging
import time
import weakref
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import Engine, String, event, func, select, type_coerce
from sqlalchemy.orm import Session, SessionTransaction

from shipflow.brands import brand_config
from shipflow.delays.detectors import ACTIVE_STATUSES, Policy, ShipmentSnapshot, at_risk_due
from shipflow.delays.risk import RiskModel, day_end
from shipflow.delays.risk_history import Check, Learned, replay
from shipflow.delays.thresholds import ended_lately, lowest_thresholds
from shipflow.domain import Reason, Status, TrackingEvent, Warehouse
from shipflow.edd.history import HistoryRecord
from shipflow.edd.repository import load_history
from shipflow.store.db import each_in_own_transaction, in_values
from shipflow.store.models import Brand, Order, Shipment, TrackingEventRow
from shipflow.store.ops_models import DelayRiskModelRow

if TYPE_CHECKING:
    from shipflow.config import Settings

log = logging.getLogger(__name__)
# How far ahead the warnings a wanted precision is chosen for are raised: a day or more before
# the promise ends, the lead of issue #18's targets (docs/benchmarks.md).
WARNED_AHEAD = timedelta(days=1)
MOVING = (Status.IN_TRANSIT, Status.OUT_FOR_DELIVERY, Status.DELIVERED)  # handed over
Journey = tuple[HistoryRecord, tuple[TrackingEvent, ...]]


# --- the journeys of shipments in flight -------------------------------------------------


def journeys(
    session: Session, brand_id: str, ids: Sequence[str], warehouses: Mapping[str, Warehouse]
) -> dict[str, Journey]:
    """Each of the brand's shipments (by id) as a history record still in flight and its
    applied tracking events, oldest first: two queries for any number of shipments."""
    return _in_flight(session, brand_id, ids, warehouses, _events(session, brand_id, ids))


def _in_flight(
    session: Session,
    brand_id: str,
    ids: Sequence[str],
    warehouses: Mapping[str, Warehouse],
    stories: Mapping[str, Sequence[TrackingEvent]],
) -> dict[str, Journey]:
    """The brand's shipments (by id) as history records still in flight, with their events
    (`stories`, by shipment id)."""
    found: dict[str, Journey] = {}
    for clause in in_values(session, Shipment.id, ids):
        rows = session.execute(
            select(
                Shipment.id,
                func.coalesce(Order.placed_at, Shipment.created_at),
                Shipment.warehouse_code,
                Shipment.carrier,
                Shipment.service,
                Shipment.destination_state,
                Shipment.destination_postal_code,
                # typed: `as_string()` alone would leave the whole row untyped
                type_coerce(Order.ship_to["country"].as_string(), String),
                Shipment.promised_date,
            )
            .outerjoin(Order, Order.id == Shipment.order_id)
            .where(clause, Shipment.brand_id == brand_id)
        )
        for id_, placed, code, carrier, service, state, postal, country, promised in rows:
            story = tuple(stories.get(id_, ()))
            origin = warehouses[code].address if code in warehouses else None
            record = HistoryRecord(
                order_id=id_,
                ordered_at=placed,
                shipper_id=code,
                origin_postal_code=origin.postal_code if origin else "",
                origin_country=origin.country if origin else "",
                destination_postal_code=postal,
                destination_country=(country or "").upper(),  # as the delivered history's
                carrier=carrier,
                service=service,
                handed_to_carrier_at=next(
                    (e.occurred_at for e in story if e.status in MOVING), None
                ),
                promised_date=promised,
                origin_state=origin.state if origin else "",
                destination_state=state,
            )
            found[id_] = (record, story)
    return found


def with_journeys(
    session: Session, snaps: Iterable[ShipmentSnapshot], now: datetime, policy: Policy
) -> list[ShipmentSnapshot]:
    """The snapshots, those the `at_risk` detector judges with their journey."""
    snaps = list(snaps)
    due = [s for s in snaps if at_risk_due(s, now, policy)]  # one brand's, as `policy` is
    if not due:
        return snaps
    found = journeys(session, due[0].brand_id, [s.id for s in due], policy.warehouses)
    return [replace(s, journey=found[s.id]) if s.id in found else s for s in snaps]


def _events(session: Session, brand_id: str, ids: Sequence[str]) -> dict[str, list[TrackingEvent]]:
    """The brand's applied events of these shipments: an imported history names its own
    order ids, which must never reach another brand's events."""
    stories: dict[str, list[TrackingEvent]] = defaultdict(list)
    for clause in in_values(session, TrackingEventRow.shipment_id, ids):
        rows = session.execute(
            select(
                TrackingEventRow.shipment_id,
                TrackingEventRow.status,
                TrackingEventRow.occurred_at,
                TrackingEventRow.raw_code,
                TrackingEventRow.reason,
            )
            .where(
                clause,
                TrackingEventRow.brand_id == brand_id,
                TrackingEventRow.applied.is_(True),
            )
            .order_by(TrackingEventRow.shipment_id, TrackingEventRow.occurred_at)
        )
        for shipment_id, status, at, code, reason in rows:
            stories[shipment_id].append(
                TrackingEvent(Status(status), at, code, reason=Reason(reason) if reason else None)
            )
    return stories


# --- learning and storing ----------------------------------------------------------------


def learn(session: Session, brand_id: str, now: datetime, settings: Settings) -> int:
    """Relearn and store the brand's model from its last `history_days` (the brand's
    `alerts.at_risk`); returns the checks it was fitted on (0: none stored, too few late)."""
    brand = brand_config(session, brand_id, settings)
    if brand is None:
        return 0
    config = brand.alerts.at_risk
    zone = brand.warehouses[0].timezone  # where the brand's promises are kept, as EDD's
    since = now - timedelta(days=config.history_days)
    records = load_history(session, brand_id, ordered=(since, now))
    delivered = {r.order_id for r in records}
    flying = session.scalars(
        select(Shipment.id).where(
            Shipment.brand_id == brand_id,
            Shipment.kind == "forward",
            Shipment.status.in_(ACTIVE_STATUSES),
            Shipment.promised_date.is_not(None),
            Shipment.created_at >= since,
        )
    ).all()
    warehouses = {w.code: w.to_domain() for w in brand.warehouses}
    flying_ids = [i for i in flying if i not in delivered]
    events = _events(session, brand_id, [*delivered, *flying_ids])  # one read for both
    in_flight = _in_flight(session, brand_id, flying_ids, warehouses, events)
    records += [record for record, _ in in_flight.values()]
    deadlines = {r.order_id: day_end(r.promised_date, zone) for r in records if r.promised_date}
    checks = 0
    judged: dict[str, Outcome] = {}

    def judge(check: Check, learned: Learned) -> None:
        nonlocal checks
        checks += 1
        if config.precision is None or not _chooses(check, now, config.horizon_days):
            return
        if (model := learned.model()) is not None:
            outcome = judged.setdefault(check.record.order_id, Outcome(check.deadline, check.late))
            outcome.chances.append((check.at, model.chance(check.row)))

    model = replay(records, deadlines, zone, now, events, judge)
    if model is not None and config.precision is not None:
        chosen = lowest_thresholds(judged.values(), WARNED_AHEAD, (config.precision,))
        model = replace(model, thresholds=chosen)
    row = session.get(DelayRiskModelRow, brand_id) or DelayRiskModelRow(brand_id=brand_id)
    row.learned_at, row.checks = now, checks if model else 0
    row.model = model.to_dict() if model else None
    session.add(row)
    session.flush()
    # the stored form (lane times sampled), as every other process parses it, not the replay's
    stored = RiskModel.from_dict(row.model) if row.model else None
    _PARSED.learned(session, brand_id, now, stored)
    return row.checks


@dataclass
class Outcome:
    """A parcel whose promise ended lately, as the warnings judged it (`thresholds.Judged`)."""

    deadline: datetime
    late: bool
    chances: list[tuple[datetime, float]] = field(default_factory=list)


def _chooses(check: Check, now: datetime, horizon_days: int) -> bool:
    """Whether a check counts in choosing the threshold: its parcel's promise ended lately,
    and it was judged as the detector judges (within the horizon) a day or more ahead."""
    ahead = check.deadline - check.at
    return ended_lately(check.deadline, now) and WARNED_AHEAD <= ahead <= timedelta(
        days=horizon_days
    )


def learn_risk_job(runtime) -> int:
    """Relearn each brand whose model is older than its `relearn_hours` (by the runtime's
    clock), one transaction per brand; returns how many brands got a model. A brand whose
    learning fails keeps its last model (logged, tried again next run) and does not stop the
    brands after it."""
    now = runtime.clock.now()
    with runtime.sessions() as session:
        learned = dict(
            session.execute(
                select(Brand.id, DelayRiskModelRow.learned_at).outerjoin(
                    DelayRiskModelRow, DelayRiskModelRow.brand_id == Brand.id
                )
            ).all()
        )

    def relearn(session: Session, brand_id: str) -> bool:
        brand = brand_config(session, brand_id, runtime.settings)
        if brand is None:
            return False
        every = timedelta(hours=brand.alerts.at_risk.relearn_hours)
        learned_at = learned[brand_id]
        if learned_at is not None and learned_at > now - every:
            return False
        return learn(session, brand_id, now, runtime.settings) > 0

    return sum(
        each_in_own_transaction(runtime.sessions, learned, relearn, "delay risk learning").values()
    )


Parsed = tuple[float, datetime | None, RiskModel | None]  # read at, learned_at, model
_LEARNED = "shipflow.delays.learned_models"  # session.info: models stored, not committed yet


class ParsedModels:
    """Each brand's stored model, parsed, for this process, keyed by database (its engine, held
    weakly: every in-memory SQLite database has the same URL) and brand, so brands and test
    databases never share. The per-event path asks for it every batch; a model changes once
    per learning (every `relearn_hours`, a day by default, noticed by a job that looks every
    10 minutes), so its `learned_at` is read again only `recheck` after the last read, and the
    model parsed again only when that moved: a new learning is in use in every process within
    `recheck` of the job storing it, as it was within 10 minutes of falling due. A brand not
    learned yet is kept as such for as long. A process cache, not runtime state: it holds what
    the stored row says, so a learning's model is used here once its transaction commits."""

    def __init__(self, recheck: float = 600.0) -> None:
        self.recheck = recheck  # seconds
        self._read: weakref.WeakKeyDictionary[Engine, dict[str, Parsed]] = (
            weakref.WeakKeyDictionary()
        )

    def load(self, session: Session, brand_id: str) -> RiskModel | None:
        read = self._database(session)
        cached = read.get(brand_id)
        clock = time.monotonic()
        if cached is not None and clock - cached[0] < self.recheck:
            return cached[2]
        learned_at = session.scalar(
            select(DelayRiskModelRow.learned_at).where(DelayRiskModelRow.brand_id == brand_id)
        )
        if learned_at is None:
            model = None  # not learned yet: the job stores a row within 10 minutes
        elif cached is not None and cached[1] == learned_at:
            model = cached[2]
        else:
            model = _parse(session, brand_id)
        read[brand_id] = (clock, learned_at, model)
        return model

    def learned(
        self, session: Session, brand_id: str, learned_at: datetime, model: RiskModel | None
    ) -> None:
        """A model `session` has just stored: in use in this process once its transaction
        commits (`_use_learned`); until then the row is read afresh, and a rollback forgets
        what was read of it meanwhile (`_forget_learned`)."""
        read = self._database(session)
        read.pop(brand_id, None)
        session.info.setdefault(_LEARNED, []).append((read, brand_id, learned_at, model))

    def _database(self, session: Session) -> dict[str, Parsed]:
        return self._read.setdefault(session.get_bind().engine, {})


@event.listens_for(Session, "after_commit")
def _use_learned(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint released: nothing is stored yet
        return
    for read, brand_id, learned_at, model in session.info.pop(_LEARNED, ()):
        read[brand_id] = (time.monotonic(), learned_at, model)


@event.listens_for(Session, "after_transaction_end")
def _forget_learned(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # rolled back (a commit took them first)
        for read, brand_id, *_ in session.info.pop(_LEARNED, ()):
            read.pop(brand_id, None)


def _parse(session: Session, brand_id: str) -> RiskModel | None:
    data = session.scalar(
        select(DelayRiskModelRow.model).where(DelayRiskModelRow.brand_id == brand_id)
    )
    if not data:
        return None
    try:
        return RiskModel.from_dict(data)
    except ValueError as exc:  # learned over other features: wait for the next learning
        log.warning("delay risk model of brand %s not used: %s", brand_id, exc)
        return None


_PARSED = ParsedModels()


def load_model(session: Session, brand_id: str) -> RiskModel | None:
    """The brand's stored model, as `ParsedModels` keeps it for this process (a model is a
    few thousand lane times: parsed once per learning and process)."""
    return _PARSED.load(session, brand_id)
