"""One carrier update into a shipment: store new events once, replay the history, publish.

Whatever path brings an event (webhook, poll, both, twice, out of order) the outcome is the
same: one row per event, the status the state machine reaches by replaying every stored
event in carrier time, and domain events written to the outbox in the same transaction.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypedDict

from sqlalchemy import Row, bindparam, func, select
from sqlalchemy.orm import Session

from shipflow import pickup_points, proof_of_delivery
from shipflow.domain import Reason, Status, TrackingEvent, TrackingUpdate, apply_event
from shipflow.domain.events import MILESTONES, ShipmentStatusChanged, ShipmentTracked
from shipflow.proof_of_delivery import PhotoRow
from shipflow.store.db import (
    insert_all,
    insert_or_skip,
    one_of,
    read_before_write_lock,
    write_lock,
)
from shipflow.store.models import CARRIER_ESTIMATE, Order, Shipment, TrackingEventRow, table_of
from shipflow.store.outbox import Publishable, publish_all
from shipflow.store.shipment_writes import TrackedShipment, read_tracked, stage, write_staged
from shipflow.tracking.config import TrackingConfig

# What reacts in the ingest's own transaction (`shipflow.reactions`: the delivery date, delays),
# once per batch: every shipment that got new events, with its `ShipmentTracked`, in order.
Tracked = tuple[TrackedShipment, ShipmentTracked]
React = Callable[[Session, Sequence[Tracked]], None]
NOT_SHIPPED = frozenset({Status.PENDING, Status.INFO_RECEIVED, Status.CANCELLED})
# The events go in, are read back and flagged through Core statements of one shape whatever
# the batch's size, so SQLAlchemy compiles each once per process and builds no ORM objects.
_EVENTS = table_of(TrackingEventRow)
_SHIPMENTS = table_of(Shipment)
_ORDERS = table_of(Order)
# SQLite's INSERT ... ON CONFLICT DO NOTHING, run as an executemany returning the rows it
# stored (on PostgreSQL every row is new: `_insert_new`).
_INSERT_OR_SKIP = insert_or_skip("sqlite", _EVENTS).returning(*_EVENTS.c)
# The stored events in carrier time, as the replay reads them.
_REPLAYED = select(_EVENTS).order_by(_EVENTS.c.occurred_at, _EVENTS.c.id)
_FLAG = (
    _EVENTS.update()
    .where(_EVENTS.c.id == bindparam("event_id"))
    .values(applied=bindparam("event_applied"))
)
# What `_versions` reads (SQLite), built once: each shipment's row and its order's, each as
# one JSON array of its stored values as SQLite's `quote` writes them (any type, a blob too;
# nothing converted in Python).
_SHIPMENT_VERSIONS = (
    select(
        _SHIPMENTS.c.id,
        *(func.json_array(*map(func.quote, table.c)) for table in (_SHIPMENTS, _ORDERS)),
    )
    .outerjoin(_ORDERS, _SHIPMENTS.c.order_id == _ORDERS.c.id)
    .where(
        _SHIPMENTS.c.carrier.in_(bindparam("carriers", expanding=True)),
        _SHIPMENTS.c.tracking_number.in_(bindparam("numbers", expanding=True)),
    )
    .order_by(_SHIPMENTS.c.id)
)
_EVENT_VERSIONS = (
    select(_EVENTS.c.id, _EVENTS.c.applied)
    .where(_EVENTS.c.shipment_id.in_(bindparam("ids", expanding=True)))
    .order_by(_EVENTS.c.id)
)
EventRow = Row[Any]
Move = tuple[Status, Status, EventRow]  # a replay's status before, after, and the event


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


def _domain_event(row: EventRow) -> TrackingEvent:
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


def _row(
    shipment: TrackedShipment, event: TrackingEvent, key: str, source: str, now: datetime
) -> dict:
    """The event's row; `key`: its `dedupe_key`, worked out by the caller already."""
    return dict(
        shipment_id=shipment.id,
        brand_id=shipment.brand_id,
        dedupe_key=key,
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


def _insert_new(session: Session, rows: list[dict]) -> tuple[set[tuple[str, str]], list[EventRow]]:
    """Insert the rows whose (shipment, dedupe key) is not stored yet; returns the keys of
    those that were and, on SQLite, the rows as stored. On SQLite a concurrent writer that
    stored one first makes it a no-op (the unique key), not an error that would roll back
    the caller's whole batch. On PostgreSQL, where the events are partitioned by month and
    the key is a plain index, the shipments' row locks keep writers from racing
    (shipflow.store.partitions): the keys were read under them, so every row is new, and the
    insert needs neither a conflict clause nor RETURNING: one statement, the rows as one JSON
    document (`insert_all`)."""
    if not rows:
        return set(), []
    if session.get_bind().dialect.name == "postgresql":
        insert_all(session, _EVENTS, rows)
        return {(row["shipment_id"], row["dedupe_key"]) for row in rows}, []
    stored = list(session.execute(_INSERT_OR_SKIP, rows))
    return {(row.shipment_id, row.dedupe_key) for row in stored}, stored


def _replay(
    session: Session,
    shipment: TrackedShipment,
    rows: list[EventRow],
    events: list[TrackingEvent],
    applied: dict[int, bool],
) -> list[Move]:
    """Run the state machine over every event (`rows` as `events`) in carrier time; record
    whether each was applied in `applied` (by row id) and stage the shipment's status fields
    (written with the batch's, `write_staged`). Returns each move of the status in order; the
    last one's event set the final status."""
    status, latest_at = Status.PENDING, None
    moves: list[Move] = []
    shipped_at = None
    for row, event in zip(rows, events, strict=True):
        transition = apply_event(status, event, latest_at)
        applied[row.id] = transition.moved or event.status == status
        if not applied[row.id]:
            continue
        latest_at = event.occurred_at
        if transition.moved:
            moves.append((status, transition.status, row))
            status = transition.status
            if shipped_at is None and status not in NOT_SHIPPED:
                shipped_at = row.occurred_at
    decisive = moves[-1][2] if moves else None
    delivered = decisive if status == Status.DELIVERED else None
    stage(
        session,
        shipment,
        status=status.value,
        status_reason=decisive.reason if decisive else None,
        shipped_at=shipped_at,
        delivered_at=delivered.occurred_at if delivered else None,
        last_event_at=rows[-1].occurred_at if rows else None,
    )
    return moves


def _change_events(
    shipment: TrackedShipment, previous: Status, moves: list[Move]
) -> list[Publishable]:
    """A status change, and the milestone it reaches, for each move since the replay last
    left `previous` (one update may cross several: "out for delivery" and "delivered" in one
    payload), in carrier time; only the last move if the replay never was at `previous`."""
    left = [i for i, (before, _, _) in enumerate(moves) if before == previous]
    events: list[Publishable] = []
    for before, status, row in moves[left[-1] :] if left else moves[-1:]:
        reason = Reason(row.reason) if row.reason else None
        common = _EventHead(
            brand_id=shipment.brand_id, shipment_id=shipment.id, occurred_at=row.occurred_at
        )
        events.append(
            ShipmentStatusChanged(
                **common,
                previous=before,
                status=status,
                reason=reason,
                details={"raw_code": row.raw_code, "raw_text": row.raw_text},
            )
        )
        milestone = MILESTONES.get(status)
        if milestone is not None:
            known = {
                "reason": reason,
                "pickup_point": shipment.pickup_point,
                "pickup_deadline": shipment.pickup_deadline,
            }
            extra = {k: v for k, v in known.items() if k in milestone.__dataclass_fields__}
            events.append(milestone(**common, **extra))
    return events


def keep_carrier_estimate(
    session: Session, shipment: TrackedShipment, estimate: datetime | None
) -> None:
    """The carrier's own delivery estimate, kept beside our prediction (which it only stands
    in for when the EDD service cannot quote): a new estimate is news even without events."""
    if estimate is not None:
        details = {**shipment.details, CARRIER_ESTIMATE: estimate.isoformat()}
        stage(session, shipment, details=details)


@dataclass
class _Step:
    """One update of one shipment within a batch, and the keys of the events it adds."""

    shipment: TrackedShipment
    update: TrackingUpdate
    keys: list[str]
    rows: list[dict]


def ingest(
    session: Session,
    shipment: Shipment,
    update: TrackingUpdate,
    source: str,
    now: datetime,
    react: React,
) -> IngestResult:
    """Apply `update` to `shipment` inside the caller's transaction (commit is theirs); what
    reacts in that transaction gets the shipment and its `ShipmentTracked` through `react`.
    The object is expired after: its row was written by Core (`write_staged`)."""
    # Read it again under its lock: two workers ingesting for one parcel take turns.
    (locked,) = read_tracked(session, _SHIPMENTS.c.id == shipment.id, lock=True)
    result = ingest_locked(session, [(locked, update)], source, now, react)[0]
    session.expire(shipment)
    return result


def ingest_locked(
    session: Session,
    pairs: Sequence[tuple[TrackedShipment, TrackingUpdate]],
    source: str,
    now: datetime,
    react: React,
    *,
    stored: dict[str, list[EventRow]] | None = None,
    config: TrackingConfig | None = None,
) -> list[IngestResult]:
    """Apply each update to its shipment, in order, as `ingest` would one after the other, but
    with one query per table for the whole batch. The shipments must be freshly read under
    their lock (`read_tracked`'s: the rows' on PostgreSQL, where it is what keeps two writers
    from storing an event twice, as the events' key is a plain index on partitioned tables;
    the database's on SQLite, where another writer may have moved them before). `stored`: every
    shipment's events in carrier time, if read with the shipments and still current (SQLite,
    `ingest_batch`): then no event is read here. With `config`, a status change that starts
    or stops polling (a terminal status reached or left) sets the next poll in the same
    UPDATE as the status; any other leaves it, for the poller to move from the last event
    (`shipflow.tracking.polling`): `next_poll_at` is indexed, and an update that changes no
    indexed column is heap-only (HOT), writing no index entry."""
    if not pairs:
        return []
    ids = {shipment.id for shipment, _ in pairs}
    known: dict[str, set[str]] = {sid: set() for sid in ids}
    if stored is not None:
        for sid in ids:
            known[sid].update(row.dedupe_key for row in stored[sid])
    else:
        for sid, key in session.execute(
            select(TrackingEventRow.shipment_id, TrackingEventRow.dedupe_key).where(
                one_of(session, TrackingEventRow.shipment_id, ids)
            )
        ):
            known[sid].add(key)
    steps = []
    for shipment, update in pairs:
        step = _Step(shipment, update, [], [])
        for event in update.events:
            key = dedupe_key(event)
            if key not in known[shipment.id]:
                known[shipment.id].add(key)
                step.keys.append(key)
                step.rows.append(_row(shipment, event, key, source, now))
        steps.append(step)
    inserted, new_rows = _insert_new(session, [row for step in steps for row in step.rows])
    changed = {sid for sid, _ in inserted}
    rows = _stored_events(session, changed) if stored is None else _with_new(stored, new_rows)
    # Keys each shipment stores from later steps: hidden from the replay of earlier ones.
    later: dict[str, set[str]] = {sid: set() for sid in changed}
    for sid, key in inserted:
        later[sid].add(key)
    results: list[IngestResult] = []
    published: list[Publishable] = []
    tracked: list[Tracked] = []
    applied: dict[int, bool] = {}
    photos: list[PhotoRow] = []
    for step in steps:
        shipment = step.shipment
        keep_carrier_estimate(session, shipment, step.update.estimated_delivery)
        added = [key for key in step.keys if (shipment.id, key) in inserted]
        if not added:
            results.append(IngestResult(0, Status(shipment.status), Status(shipment.status)))
            continue
        later[shipment.id].difference_update(added)
        seen = [row for row in rows[shipment.id] if row.dedupe_key not in later[shipment.id]]
        batch = (tracked, published, applied, photos)
        results.append(_apply(session, shipment, step.update, seen, len(added), now, batch))
    flagged = {row.id: row.applied for sid in changed for row in rows[sid]}
    flags = [
        {"event_id": row_id, "event_applied": flag}
        for row_id, flag in applied.items()
        if flag != flagged[row_id]
    ]
    if flags:
        session.execute(_FLAG, flags)
    proof_of_delivery.keep_photos(session, photos)
    if config is not None:
        for step, result in zip(steps, results, strict=True):
            if config.polled(result.previous) != config.polled(result.status):
                stage(session, step.shipment, next_poll_at=config.next_poll(result.status, now))
    if tracked:
        react(session, tracked)
    # After the reactions, whose queries read none of the staged columns (they judge the
    # loaded shipments): the predictions they stage go out in the same UPDATE as the status,
    # one new version of each shipment's row, not two.
    write_staged(session)
    publish_all(session, published)
    return results


def _with_new(stored: dict[str, list[EventRow]], new: list[EventRow]) -> dict[str, list[EventRow]]:
    """What `_stored_events` would read for the shipments of the `new` rows: their `stored` events
    and the new ones, in carrier time (occurred, then id: the order the replay reads)."""
    grouped = {row.shipment_id: list(stored[row.shipment_id]) for row in new}
    for row in new:
        grouped[row.shipment_id].append(row)
    for rows in grouped.values():
        rows.sort(key=lambda row: (row.occurred_at, row.id))
    return grouped


def _stored_events(session: Session, shipment_ids: set[str]) -> dict[str, list[EventRow]]:
    """Every stored event of these shipments in carrier time."""
    if not shipment_ids:
        return {}
    grouped: dict[str, list[EventRow]] = {sid: [] for sid in shipment_ids}
    for row in session.execute(
        _REPLAYED.where(one_of(session, _EVENTS.c.shipment_id, shipment_ids))
    ):
        grouped[row.shipment_id].append(row)
    return grouped


def _apply(
    session: Session,
    shipment: TrackedShipment,
    update: TrackingUpdate,
    rows: list[EventRow],
    added: int,
    now: datetime,
    batch: tuple[list[Tracked], list[Publishable], dict[int, bool], list[PhotoRow]],
) -> IngestResult:
    """Replay `rows` (the shipment's events as of this update); what it publishes, what the
    batch's reactions get, which events it applied and the delivery photo it brought go into
    `batch`."""
    tracked, published, applied, photos = batch
    previous = Status(shipment.status)
    pickup_points.record(session, shipment, update)
    photo = proof_of_delivery.record(session, shipment, update, now)
    if photo is not None:
        photos.append(photo)
    events = [_domain_event(row) for row in rows]
    moves = _replay(session, shipment, rows, events, applied)
    event = ShipmentTracked(
        brand_id=shipment.brand_id,
        shipment_id=shipment.id,
        occurred_at=now,
        events=tuple(events),
        estimated_delivery=update.estimated_delivery,
    )
    if moves and shipment.status != previous:
        published.extend(_change_events(shipment, previous, moves))
    tracked.append((shipment, event))
    return IngestResult(added, previous, Status(shipment.status))


def ingest_batch(
    session: Session,
    items: Sequence[tuple[str, str, TrackingUpdate]],
    source: str,
    now: datetime,
    config: TrackingConfig,
    react: React,
) -> list[bool]:
    """Ingest each (brand, carrier, update) into the brand's shipments with that tracking
    number, looked up and locked in one query (reaching or leaving a terminal status
    schedules the next poll);
    returns, for each item, whether the brand has such a shipment."""
    carriers = {carrier for _, carrier, _ in items}
    numbers = {update.tracking_number for _, _, update in items}
    shipments, stored = _read_for_writing(session, carriers, numbers)
    found: dict[tuple[str, str, str], list[TrackedShipment]] = {}
    for shipment in shipments:
        key = (shipment.brand_id, shipment.carrier, shipment.tracking_number)
        found.setdefault(key, []).append(shipment)
    pairs = [
        (shipment, update)
        for brand_id, carrier, update in items
        for shipment in found.get((brand_id, carrier, update.tracking_number), [])
    ]
    ingest_locked(session, pairs, source, now, react, stored=stored, config=config)
    return [(b, c, u.tracking_number) in found for b, c, u in items]


def _read_for_writing(
    session: Session, carriers: set[str], numbers: set[str]
) -> tuple[list[TrackedShipment], dict[str, list[EventRow]] | None]:
    """The shipments of these carriers with these tracking numbers (`read_tracked`: with what
    the reactions read of their orders), locked for the batch's writes; on SQLite their events too, in
    carrier time. (Both sets: found by the number's index, the carrier then checked.)

    PostgreSQL locks the rows, in id order, so two workers' batches never wait on each other
    in a cycle. SQLite has one write lock for the whole database, which the webhooks' group
    commit needs too: the batch reads on a snapshot without it, takes it, then reads again
    only what proves the reads current (`_versions`). If another writer changed any of it in
    between, the shipments are read again under the lock (and their events later, by
    `ingest_locked`). (A read transaction cannot itself become the writer once another
    writer has committed, so the lock is taken as a new transaction.)"""
    if not numbers:
        return [], {}
    tracked = (
        one_of(session, _SHIPMENTS.c.carrier, carriers),
        one_of(session, _SHIPMENTS.c.tracking_number, numbers),
    )
    with read_before_write_lock(session) as ahead:
        if ahead:
            seen = _versions(session, carriers, numbers)
            shipments = read_tracked(session, *tracked)
            stored = _stored_events(session, {shipment.id for shipment in shipments})
    if ahead:
        write_lock(session)
        if _versions(session, carriers, numbers) == seen:
            return shipments, stored
    return read_tracked(session, *tracked, lock=True), None


def _versions(session: Session, carriers: set[str], numbers: set[str]) -> list[Any]:
    """The shipments `_read_for_writing` reads and their orders, each row as one text of
    its stored values (read without converting each column: this is done under the lock),
    then their events' ids and flags (the only column of an event that changes): equal
    twice, nothing it read changed in between."""
    shipments = session.execute(
        _SHIPMENT_VERSIONS, {"carriers": list(carriers), "numbers": list(numbers)}
    ).all()
    ids = [row[0] for row in shipments]
    return [*shipments, *session.execute(_EVENT_VERSIONS, {"ids": ids})]


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
    """`ingest_batch` for one brand and carrier; returns the tracking numbers it lacks."""
    updates = list(updates)
    items = [(brand_id, carrier, update) for update in updates]
    found = ingest_batch(session, items, source, now, config, react)
    return [u.tracking_number for u, has in zip(updates, found, strict=True) if not has]
