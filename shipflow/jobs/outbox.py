"""Delivering outbox messages to their handlers, at least once.

Each topic has one handler, `fn(session, message)`, bound to the runtime by its reactions
(`shipflow.reactions.EVENT_HANDLERS` says which); a topic nothing reacts to is marked done.
A handler runs in the transaction that marks the message processed, so a handler that only writes to the database takes effect exactly once; one
with outside effects (an e-mail, an HTTP call) may see a message again after a crash and
must dedupe on `message.dedupe_key`. A failure rolls back and retries with backoff.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import or_
from sqlalchemy.orm import Session

from shipflow.store.lease import claim
from shipflow.store.models import OutboxMessage
from shipflow.store.outbox import RetryAfter

if TYPE_CHECKING:
    from shipflow.runtime import Runtime

log = logging.getLogger(__name__)


def _deliver(runtime: Runtime, message_id: int) -> None:
    config = runtime.settings.tracking
    with runtime.sessions() as session:
        message = session.get_one(OutboxMessage, message_id)
        try:
            handler = runtime.reactions.outbox.get(message.topic)
            if handler is not None:
                handler(session, message)
            message.processed_at, message.last_error = runtime.clock.now(), None
            session.commit()
            return
        except RetryAfter as exc:  # the other side asked us to wait: exactly that long
            session.rollback()
            error, wait = f"RetryAfter: {exc}", exc.seconds
        except Exception as exc:  # kept on the message and retried later
            session.rollback()
            error = f"{type(exc).__name__}: {exc}"
            log.warning("outbox %s (%s) failed: %s", message_id, message.topic, error)
            wait = None
        message = session.get_one(OutboxMessage, message_id)
        message.last_error = error
        if wait is None:
            wait = config.backoff(message.attempts)
        message.available_at = runtime.clock.now() + timedelta(seconds=wait)
        session.commit()


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
    for message_id in claimed:
        _deliver(runtime, message_id)
    return len(claimed)
