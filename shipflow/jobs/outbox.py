"""Delivering outbox messages to their handlers, at least once.

Each topic has one handler, `fn(session, message)`, bound to the runtime by its reactions
(`shipflow.reactions.EVENT_HANDLERS` says which); a topic nothing reacts to is marked done.
A handler runs in the transaction that marks the message processed, so a handler that only
writes to the database takes effect exactly once; one with outside effects (an e-mail, an
HTTP call) may see a message again after a crash and must dedupe on `message.dedupe_key`.
The messages a worker claims are delivered in one transaction, each in a savepoint: a failure
rolls back that message's writes alone and retries it with backoff.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, selectinload

from shipflow.store.db import for_update
from shipflow.store.lease import claim
from shipflow.store.models import Order, OutboxMessage, Shipment
from shipflow.store.outbox import RetryAfter

if TYPE_CHECKING:
    from shipflow.runtime import Runtime

log = logging.getLogger(__name__)


def _deliver(runtime: Runtime, session: Session, message: OutboxMessage) -> str | None:
    """Run the message's handler in a savepoint (none for a topic nothing reacts to); returns
    the error (the handler's writes rolled back) or None."""
    handler = runtime.reactions.outbox.get(message.topic)
    if handler is None:
        return None
    try:
        with session.begin_nested():
            handler(session, message)
        return None
    except RetryAfter as exc:  # the other side asked us to wait: exactly that long
        message.available_at = runtime.clock.now() + timedelta(seconds=exc.seconds)
        return f"RetryAfter: {exc}"
    except Exception as exc:  # kept on the message and retried later
        error = f"{type(exc).__name__}: {exc}"
        log.warning("outbox %s (%s) failed: %s", message.id, message.topic, error)
        wait = runtime.settings.tracking.backoff(message.attempts)
        message.available_at = runtime.clock.now() + timedelta(seconds=wait)
        return error


def _deliver_all(runtime: Runtime, message_ids: list[int]) -> None:
    """The claimed messages in one transaction (one commit, and what the handlers read once
    per transaction read once for all), each in its own savepoint: a failing one is rolled
    back alone and retried later; the others are marked processed in one statement and
    commit with their handlers' writes."""
    with runtime.sessions() as session:
        # Written to from the start: on SQLite a transaction that read first could not take
        # the write lock later once another writer committed ("database is locked").
        messages = session.scalars(
            for_update(
                session,
                select(OutboxMessage)
                .where(OutboxMessage.id.in_(message_ids))
                .order_by(OutboxMessage.id),
            )
        ).all()
        loaded = _shipments_of(session, messages)  # held: the session's identity map is weak
        done = []
        for message in messages:
            error = _deliver(runtime, session, message)
            if error is None:
                done.append(message.id)
            else:
                message.last_error = error
        if done:
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(done))
                .values(processed_at=runtime.clock.now(), last_error=None)
                .execution_options(synchronize_session=False)
            )
        session.commit()
        log.debug("outbox: %d messages about %d shipments", len(messages), len(loaded))


def _shipments_of(session: Session, messages: Sequence[OutboxMessage]) -> list[Shipment]:
    """The shipments the messages are about, with their orders and the orders' parcels, in
    three queries: the handlers' look-ups then find them in the session instead of one query
    each."""
    ids = {m.payload["shipment_id"] for m in messages if "shipment_id" in m.payload}
    if not ids:
        return []
    return list(
        session.scalars(
            select(Shipment)
            .where(Shipment.id.in_(ids))
            .options(selectinload(Shipment.order).selectinload(Order.shipments))
        )
    )


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


def dispatch_due(runtime: Runtime, limit: int = 200) -> int:
    """Claim due messages and deliver them; returns how many were claimed."""
    now, lease = runtime.clock.now(), runtime.settings.tracking.lease_seconds
    with runtime.sessions() as session:
        claimed = claim_due(session, now, lease, limit)
    if claimed:
        _deliver_all(runtime, claimed)
    return len(claimed)
