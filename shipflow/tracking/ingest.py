"""One carrier update into a shipment: store new events once, replay the history, publish.

Whatever path brings an event (webhook, poll, both, twice, out of order) the outcome is the
same: one row per event, the status the state machine reaches by replaying every stored
event in carrier time, and domain events written to the outbox in the same transaction.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TypedDict

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from shipflow import pickup_points
from shipflow.domain import Reason, Status, TrackingEvent, TrackingUpdate, apply_event
from shipflow.domain.events import MILESTONES, ShipmentStatusChanged, ShipmentTracked
from shipflow.store.models import CARRIER_ESTIMATE, Shipment, TrackingEventRow
from shipflow.store.outbox import publish
from shipflow.tracking.config import TrackingConfig

# What reacts in the ingest's own transaction (`shipflow.reactions`: the delivery date, delays).
React = Callable[[Session, Shipment, ShipmentTracked], None]
NOT_SHIPPED = frozenset({Status.PENDING, Status.INFO_RECEIVED, Status.CANCELLED})
# INSERT ... ON CONFLICT DO NOTHING, in each database's own words.
_INSERT: dict[str, Callable[[type[TrackingEventRow]], postgresql.Insert | sqlite.Insert]] = {
    "postgresql": postgresql.insert,
    "sqlite": sqlite.insert,
}


class _EventHead(TypedDict):
    """The fields every domain event of a shipment starts with."""

    brand_id: str
    shipment_id: str
    occurred_at: datetime


@dataclass(frozen=True)
class IngestResult:
    added: int
    previous: Status
    status: Status

    @property
    def changed(self) -> bool:
        return self.previous != self.status


def dedupe_key(event: TrackingEvent) -> str:
    raw_code, timestamp, status = event.dedupe_key
    return hashlib.sha1(f"{status}|{raw_code}|{timestamp!r}".encode()).hexdigest()


def _domain_event(row: TrackingEventRow) -> TrackingEvent:
    return TrackingEvent(
        status=Status(row.status),
        occurred_at=row.occurred_at,
        raw_code=row.raw_code,
        raw_text=row.raw_text,
        reason=Reason(row.reason) if row.reason else None,
        location=row.location,
        city=row.city,
        state=row.state,
        postal_code=row.postal_code,
        country=row.country,
    )


def _row(shipment: Shipment, event: TrackingEvent, source: str, now: datetime) -> dict:
    return dict(
        shipment_id=shipment.id,
        brand_id=shipment.brand_id,
        dedupe_key=dedupe_key(event),
        status=event.status.value,
        reason=event.reason.value if event.reason else None,
        raw_code=event.raw_code[:64],
        raw_text=event.raw_text,
        occurred_at=event.occurred_at,
        location=event.location[:200],
        city=event.city[:100],
        state=event.state[:100],
        postal_code=event.postal_code[:16],
        country=event.country[:2],
        source=source,
        received_at=now,
    )


def _insert_new(session: Session, rows: list[dict]) -> int:
    """Insert the rows whose (shipment, dedupe key) is not stored yet; returns how many were.
    On SQLite a concurrent writer that stored one first makes it a no-op (the unique key), not
    an error that would roll back the caller's whole batch; on PostgreSQL, where the events are
    partitioned by month and the key is a plain index, the shipment's row lock keeps writers
    from racing (shipflow.store.partitions)."""
    insert = _INSERT[session.get_bind().dialect.name]
    statement = (
        insert(TrackingEventRow)
        .values(rows)
        .on_conflict_do_nothing()
        .returning(TrackingEventRow.id)
    )
    return len(session.scalars(statement).all())


def _replay(shipment: Shipment, rows: list[TrackingEventRow]) -> TrackingEventRow | None:
    """Run the state machine over every event in carrier time; set each row's `applied`
    and the shipment's status fields. Returns the event that set the final status."""
    status, latest_at, decisive = Status.PENDING, None, None
    shipped_at = None
    for row in rows:
        event = _domain_event(row)
        transition = apply_event(status, event, latest_at)
        row.applied = transition.moved or event.status == status
        if not row.applied:
            continue
        latest_at = event.occurred_at
        if transition.moved:
            status, decisive = transition.status, row
            if shipped_at is None and status not in NOT_SHIPPED:
                shipped_at = row.occurred_at
    shipment.status = status.value
    shipment.status_reason = decisive.reason if decisive else None
    shipment.shipped_at = shipped_at
    delivered = decisive if status == Status.DELIVERED else None
    shipment.delivered_at = delivered.occurred_at if delivered else None
    shipment.last_event_at = rows[-1].occurred_at if rows else None
    return decisive


def _publish_change(
    session: Session, shipment: Shipment, previous: Status, decisive: TrackingEventRow
) -> None:
    status = Status(shipment.status)
    reason = Reason(decisive.reason) if decisive.reason else None
    common = _EventHead(
        brand_id=shipment.brand_id, shipment_id=shipment.id, occurred_at=decisive.occurred_at
    )
    publish(
        session,
        ShipmentStatusChanged(
            **common,
            previous=previous,
            status=status,
            reason=reason,
            details={"raw_code": decisive.raw_code, "raw_text": decisive.raw_text},
        ),
    )
    milestone = MILESTONES.get(status)
    if milestone is not None:
        known = {
            "reason": reason,
            "pickup_point": shipment.pickup_point,
            "pickup_deadline": shipment.pickup_deadline,
        }
        extra = {k: v for k, v in known.items() if k in milestone.__dataclass_fields__}
        publish(session, milestone(**common, **extra))


def keep_carrier_estimate(shipment: Shipment, estimate: datetime | None) -> None:
    """The carrier's own delivery estimate, kept beside our prediction (which it only stands
    in for when the EDD service cannot quote): a new estimate is news even without events."""
    if estimate is not None:
        shipment.details = {**shipment.details, CARRIER_ESTIMATE: estimate.isoformat()}


def ingest(
    session: Session,
    shipment: Shipment,
    update: TrackingUpdate,
    source: str,
    now: datetime,
    react: React,
) -> IngestResult:
    """Apply `update` to `shipment` inside the caller's transaction (commit is theirs); what
    reacts in that transaction gets a `ShipmentTracked` through `react`."""
    # Lock the shipment row: two workers ingesting for one parcel take turns (PostgreSQL).
    session.refresh(shipment, with_for_update=True)
    keep_carrier_estimate(shipment, update.estimated_delivery)
    known = set(
        session.scalars(
            select(TrackingEventRow.dedupe_key).where(TrackingEventRow.shipment_id == shipment.id)
        )
    )
    fresh = {dedupe_key(e): e for e in update.events if dedupe_key(e) not in known}
    new_rows = [_row(shipment, event, source, now) for event in fresh.values()]
    added = _insert_new(session, new_rows) if new_rows else 0
    if not added:
        return IngestResult(0, Status(shipment.status), Status(shipment.status))
    # SQLite has no row locks: its lock is the database's, which the insert has just taken.
    # Read the status again under it, as a writer that committed meanwhile may have moved it.
    session.refresh(shipment)
    previous = Status(shipment.status)
    pickup_points.record(shipment, update)
    rows = list(
        session.scalars(
            select(TrackingEventRow)
            .where(TrackingEventRow.shipment_id == shipment.id)
            .order_by(TrackingEventRow.occurred_at, TrackingEventRow.id)
        )
    )
    decisive = _replay(shipment, rows)
    tracked = ShipmentTracked(
        brand_id=shipment.brand_id,
        shipment_id=shipment.id,
        occurred_at=now,
        events=tuple(_domain_event(r) for r in rows),
        estimated_delivery=update.estimated_delivery,
    )
    if decisive is not None and shipment.status != previous:
        _publish_change(session, shipment, previous, decisive)
    react(session, shipment, tracked)
    return IngestResult(added, previous, Status(shipment.status))


def ingest_updates(
    session: Session,
    brand_id: str,
    carrier: str,
    updates: Iterable[TrackingUpdate],
    source: str,
    now: datetime,
    config: TrackingConfig,
    react: React,
) -> list[str]:
    """Ingest each update into the brand's shipments with that tracking number (a status
    change reschedules the next poll); returns the tracking numbers the brand does not have."""
    unknown = []
    for update in updates:
        shipments = session.scalars(
            select(Shipment).where(
                Shipment.brand_id == brand_id,
                Shipment.carrier == carrier,
                Shipment.tracking_number == update.tracking_number,
            )
        ).all()
        if not shipments:
            unknown.append(update.tracking_number)
        for shipment in shipments:
            if ingest(session, shipment, update, source, now, react).changed:
                shipment.next_poll_at = config.next_poll(shipment.status, now)
    return unknown
