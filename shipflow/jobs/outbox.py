"""Delivering outbox messages to their handlers, at least once.

Each topic has one handler, `fn(session, message)`, bound to the runtime by its reactions
(`shipflow.reactions.EVENT_HANDLERS` says which); a topic nothing reacts to is marked done.
A handler runs in the transaction that marks the message processed, so a handler that only
writes to the database takes effect exactly once; one with outside effects (an e-mail, an
HTTP call) may see a message again after a crash and must dedupe on `message.dedupe_key`.
The messages a worker claims are delivered in one transaction, together in one savepoint; a
failure rolls back that message's writes alone (the others' handlers run again) and retries
it with backoff. Handlers are given each message as the row selected (`Claimed`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Row, or_, select, update
from sqlalchemy.orm import Session

from shipflow import customer_messages, update_subscriptions
from shipflow.customer_messages import PARCEL_COLUMNS, parcel_position
from shipflow.ndr import service as ndr
from shipflow.store.db import Batch, for_update, one_of, update_all
from shipflow.store.lease import claim, unleased
from shipflow.store.models import Order, OutboxMessage, Shipment, table_of
from shipflow.store.outbox import (
    CLAIMED_COLUMNS,
    ORDER_READ,
    SHIPMENT_READ,
    OrderRead,
    Parcel,
    RetryAfter,
    ShipmentRead,
    hold_parcels,
)

if TYPE_CHECKING:
    from shipflow.runtime import Runtime

log = logging.getLogger(__name__)
_OUTBOX = table_of(OutboxMessage)
Failures = dict[int, dict[str, Any]]  # message id -> its changes: the error, when to retry


def _deliver(
    runtime: Runtime, session: Session, messages: Sequence[Row], shipment_ids: list[str]
) -> Failures:
    """Every handler in one savepoint, so their rows are flushed together (an INSERT per
    table, not per message; the customer messages `customer_messages.staged`). If the handler
    of one raises: all rolled back, it recorded as failed (tried once, like the others), the
    ones before it run again the same way and the ones after it go on. If the flush or that
    insert at the end fails: each in its own savepoint. Returns the failures by message id."""
    errors: Failures = {}
    rest = list(messages)
    while rest:
        failed_at, error = _deliver_together(runtime, session, rest)
        if error is None:
            break
        _read_ahead(session, shipment_ids)  # what the rolled-back handlers queued is gone
        if failed_at is None:  # the flush: a message's own savepoint names which
            for message in rest:
                if (own := _deliver_one(runtime, session, message, shipment_ids)) is not None:
                    errors[message.id] = own
            break
        errors[rest[failed_at].id] = _failed(runtime, rest[failed_at], error)
        errors.update(_deliver(runtime, session, rest[:failed_at], shipment_ids))
        rest = rest[failed_at + 1 :]
    return errors


def _deliver_together(
    runtime: Runtime, session: Session, messages: Sequence[Row]
) -> tuple[int | None, Exception | None]:
    """(index of the message whose handler raised or None if the writes at the end did, the
    error)."""
    at: int | None = None
    try:
        with session.begin_nested(), customer_messages.staged(session):
            for index, message in enumerate(messages):
                at = index
                handler = runtime.reactions.outbox.get(message.topic)
                if handler is not None:
                    handler(session, message)
            at = None
    except Exception as exc:
        return at, exc
    return None, None


def _deliver_one(
    runtime: Runtime, session: Session, message: Row, shipment_ids: list[str]
) -> dict[str, Any] | None:
    handler = runtime.reactions.outbox.get(message.topic)
    if handler is None:
        return None
    try:
        with session.begin_nested(), customer_messages.staged(session):
            handler(session, message)
        return None
    except Exception as exc:
        _read_ahead(session, shipment_ids)
        return _failed(runtime, message, exc)


def _failed(runtime: Runtime, message: Row, exc: Exception) -> dict[str, Any]:
    """The error kept on the message, which is retried later: when the other side asked
    (RetryAfter), otherwise with backoff."""
    if isinstance(exc, RetryAfter):
        retry = runtime.clock.now() + timedelta(seconds=exc.seconds)
        return {"last_error": f"RetryAfter: {exc}", "available_at": retry, "leased_until": None}
    error = f"{type(exc).__name__}: {exc}"
    log.warning("outbox %s (%s) failed: %s", message.id, message.topic, error)
    wait = runtime.settings.tracking.backoff(message.attempts)
    retry = runtime.clock.now() + timedelta(seconds=wait)
    return {"last_error": error, "available_at": retry, "leased_until": None}


def _deliver_all(runtime: Runtime, message_ids: list[int]) -> None:
    """The claimed messages in one transaction (one commit, and what the handlers read once
    per transaction read once for all): a failing one is rolled back alone and retried
    later; the others are marked processed in one statement and commit with their
    handlers' writes. Only those of a topic something reacts to are loaded: the others
    (nearly half: every status change) are marked processed by their ids alone."""
    with runtime.sessions() as session:
        # Written to from the start: on SQLite a transaction that read first could not take
        # the write lock later once another writer committed ("database is locked").
        messages = session.execute(
            for_update(
                session,
                select(*CLAIMED_COLUMNS)
                .where(
                    one_of(session, OutboxMessage.id, message_ids),
                    one_of(session, OutboxMessage.topic, list(runtime.reactions.outbox)),
                )
                .order_by(OutboxMessage.id),
            )
        ).all()
        parcels = _parcels_of(session, messages)
        hold_parcels(session, parcels)  # for the handlers
        shipment_ids = list(parcels)
        _read_ahead(session, shipment_ids)
        errors = _deliver(runtime, session, messages, shipment_ids)
        update_all(session, _OUTBOX, "id", [{"id": i, **change} for i, change in errors.items()])
        if done := [message_id for message_id in message_ids if message_id not in errors]:
            session.execute(
                update(OutboxMessage)
                .where(one_of(session, OutboxMessage.id, done))
                .values(processed_at=runtime.clock.now(), last_error=None)
                .execution_options(synchronize_session=False)
            )
        session.commit()
        log.debug("outbox: %d messages about %d shipments", len(message_ids), len(parcels))


def _parcels_of(session: Session, messages: Sequence[Row]) -> dict[str, Parcel]:
    """The shipments the messages are about, with their orders, as rows (one query), and
    which of its order's parcels each is (a second): the handlers then find them held
    instead of one query each, and none is built as an ORM object."""
    ids = {m.payload["shipment_id"] for m in messages if "shipment_id" in m.payload}
    if not ids:
        return {}
    split = len(SHIPMENT_READ)
    rows = session.execute(
        select(*SHIPMENT_READ, *ORDER_READ)
        .outerjoin(Order, Order.id == Shipment.order_id)
        .where(one_of(session, Shipment.id, ids))
    ).all()
    read = [
        (ShipmentRead._make(row[:split]), OrderRead._make(row[split:]) if row[split] else None)
        for row in rows
    ]
    siblings: dict[str, list[Row]] = {order.id: [] for _, order in read if order is not None}
    if siblings:
        for parcel in session.execute(
            select(*PARCEL_COLUMNS).where(one_of(session, Shipment.order_id, siblings))
        ):
            siblings[parcel.order_id].append(parcel)
    return {
        shipment.id: Parcel(
            shipment, order, parcel_position(siblings[order.id], shipment.id) if order else None
        )
        for shipment, order in read
    }


def _read_ahead(session: Session, shipment_ids: list[str]) -> None:
    """What the milestone handlers ask about each shipment (its tracking-page subscribers,
    the customer messages already queued for it, its failed-delivery case), read once for
    the batch."""
    if shipment_ids:
        update_subscriptions.read_ahead(session, shipment_ids)
        customer_messages.read_ahead(session, shipment_ids)
        ndr.read_ahead(session, shipment_ids)


def claim_due(session: Session, now: datetime, lease: float, limit: int) -> list[int]:
    """Claim due messages for this worker; the claim lapses after `lease` seconds."""
    rows = claim(
        session,
        OutboxMessage,
        [
            OutboxMessage.processed_at.is_(None),
            # Never tried: due at once, whatever clock wrote it; retries wait their turn.
            or_(OutboxMessage.attempts == 0, OutboxMessage.available_at <= now),
            unleased(OutboxMessage, now),
        ],
        [OutboxMessage.available_at, OutboxMessage.id],
        limit,
        {"leased_until": now + timedelta(seconds=lease), "attempts": OutboxMessage.attempts + 1},
    )
    session.commit()
    return [row.id for row in rows]


OUTBOX_BATCH = Batch(1000, on_sqlite=500)
"""A receipts batch (`RECEIPTS_BATCH`: 400 events, 100 on SQLite) writes two or three messages
an event (the customer's, the shop's, a delay's): a run takes them at once, not a full run
and a remnant that costs nearly as much (docs/benchmarks.md, "Celery worker overhead")."""


def dispatch_due(runtime: Runtime, limit: int | None = None) -> int:
    """Claim due messages (up to `limit`, or the database's `OUTBOX_BATCH`) and deliver them;
    returns how many were claimed."""
    limit = limit or OUTBOX_BATCH.on(runtime.engine)
    now, lease = runtime.clock.now(), runtime.settings.tracking.lease_seconds
    with runtime.sessions() as session:
        claimed = claim_due(session, now, lease, limit)
    if claimed:
        _deliver_all(runtime, claimed)
    return len(claimed)
