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

from sqlalchemy import Row, Table, or_, select, update
from sqlalchemy.orm import Session, defer, joinedload, load_only
from sqlalchemy.orm.attributes import set_committed_value

from shipflow import customer_messages, update_subscriptions
from shipflow.customer_messages import PARCEL_COLUMNS
from shipflow.ndr import service as ndr
from shipflow.store.db import for_update, one_of, update_all
from shipflow.store.lease import claim
from shipflow.store.models import UNREAD_ORDER_COLUMNS, OutboxMessage, Shipment
from shipflow.store.outbox import CLAIMED_COLUMNS, RetryAfter, hold_shipments

if TYPE_CHECKING:
    from shipflow.runtime import Runtime

log = logging.getLogger(__name__)
_OUTBOX: Table = OutboxMessage.__table__  # type: ignore[assignment]
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
        return {"last_error": f"RetryAfter: {exc}", "available_at": retry}
    error = f"{type(exc).__name__}: {exc}"
    log.warning("outbox %s (%s) failed: %s", message.id, message.topic, error)
    wait = runtime.settings.tracking.backoff(message.attempts)
    return {"last_error": error, "available_at": runtime.clock.now() + timedelta(seconds=wait)}


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
        loaded = _shipments_of(session, messages)
        hold_shipments(session, loaded)  # for the handlers; the session's identity map is weak
        parcels = _parcels_set(session, loaded)  # held likewise
        shipment_ids = [shipment.id for shipment in loaded]
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
        log.debug(
            "outbox: %d messages about %d shipments (and %d other parcels of their orders)",
            len(message_ids),
            len(loaded),
            len(parcels),
        )


def _shipments_of(session: Session, messages: Sequence[Row]) -> list[Shipment]:
    """The shipments the messages are about, with their orders (joined): the handlers'
    look-ups then find them in the session instead of one query each. Of the orders, not the
    JSON columns no handler reads (`UNREAD_ORDER_COLUMNS`)."""
    ids = {m.payload["shipment_id"] for m in messages if "shipment_id" in m.payload}
    if not ids:
        return []
    return list(
        session.scalars(
            select(Shipment)
            .where(one_of(session, Shipment.id, ids))
            .options(joinedload(Shipment.order).options(*map(defer, UNREAD_ORDER_COLUMNS)))
        )
    )


def _parcels_set(session: Session, shipments: list[Shipment]) -> list[Shipment]:
    """Each order's parcels (`Order.shipments`, what `parcel_position` reads) set from one
    query of their ids: nearly all are the shipments just read, which a `selectinload`
    built again row by row; the others are read with what numbers them (`PARCEL_COLUMNS`)
    and returned, for the caller to hold (the session's identity map is weak)."""
    orders = {shipment.order.id: shipment.order for shipment in shipments if shipment.order}
    if not orders:
        return []
    by_order: dict[str | None, list[str]] = {order_id: [] for order_id in orders}
    for order_id, shipment_id in session.execute(
        select(Shipment.order_id, Shipment.id).where(one_of(session, Shipment.order_id, orders))
    ):
        by_order[order_id].append(shipment_id)
    known = {shipment.id: shipment for shipment in shipments}
    others: list[Shipment] = []
    if missing := {sid for sids in by_order.values() for sid in sids if sid not in known}:
        others = list(
            session.scalars(
                select(Shipment)
                .where(one_of(session, Shipment.id, missing))
                .options(load_only(*PARCEL_COLUMNS))
            )
        )
        known |= {shipment.id: shipment for shipment in others}
    for order_id, order in orders.items():
        parcels = [known[sid] for sid in by_order[order_id] if sid in known]  # not deleted since
        set_committed_value(order, "shipments", parcels)
    return others


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
        ],
        [OutboxMessage.available_at, OutboxMessage.id],
        limit,
        {"available_at": now + timedelta(seconds=lease), "attempts": OutboxMessage.attempts + 1},
    )
    session.commit()
    return [row.id for row in rows]


def dispatch_due(runtime: Runtime, limit: int = 500) -> int:
    """Claim due messages and deliver them; returns how many were claimed. A receipts batch
    (100 events) writes two or three messages an event (the customer's, the shop's, a
    delay's): `limit` takes them in one run, not a full run and a remnant that costs nearly
    as much (docs/benchmarks.md, "Celery worker overhead")."""
    now, lease = runtime.clock.now(), runtime.settings.tracking.lease_seconds
    with runtime.sessions() as session:
        claimed = claim_due(session, now, lease, limit)
    if claimed:
        _deliver_all(runtime, claimed)
    return len(claimed)
