"""Delivering outbox messages to their handlers, at least once.

A handler is `fn(session, message)`. It runs in the transaction that marks the message
processed, so a handler that only writes to the database takes effect exactly once; one
with outside effects (an e-mail, an HTTP call) may see a message again after a crash and
must dedupe on `message.dedupe_key`. A failure rolls back and retries with backoff.
"""

from __future__ import annotations

import importlib
import logging
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import or_
from sqlalchemy.orm import Session

from shipflow.runtime import Runtime
from shipflow.store.lease import claim
from shipflow.store.models import OutboxMessage

log = logging.getLogger(__name__)

Handler = Callable[[Session, OutboxMessage], None]
HANDLERS: dict[str, list[Handler]] = defaultdict(list)


# Features that handle outbox topics: "module:function", where function(runtime) returns
# {topic: handler}. Installed once per runtime, by whichever runner dispatches first.
HANDLER_FACTORIES = [
    "shipflow.delays.jobs:outbox_handlers",
    "shipflow.channel_orders:outbox_handlers",
]
_installed: set[int] = set()


def install_handlers(runtime: Runtime) -> None:
    if id(runtime) in _installed:
        return
    for target in HANDLER_FACTORIES:
        module, _, name = target.partition(":")
        for topic, handler in getattr(importlib.import_module(module), name)(runtime).items():
            register_handler(topic, handler)
    _installed.add(id(runtime))


def register_handler(topic: str, fn: Handler) -> None:
    """Run `fn` for every message of `topic` (e.g. "shipment.delivered"). Idempotent."""
    if fn not in HANDLERS[topic]:
        HANDLERS[topic].append(fn)


def unregister_handler(topic: str, fn: Handler) -> None:
    if fn in HANDLERS[topic]:
        HANDLERS[topic].remove(fn)


def _deliver(runtime: Runtime, message_id: int) -> None:
    config = runtime.settings.tracking
    with runtime.sessions() as session:
        message = session.get(OutboxMessage, message_id)
        try:
            for handler in list(HANDLERS.get(message.topic, ())):
                handler(session, message)
            message.processed_at, message.last_error = runtime.clock.now(), None
            session.commit()
            return
        except Exception as exc:  # kept on the message and retried later
            session.rollback()
            error = f"{type(exc).__name__}: {exc}"
            log.warning("outbox %s (%s) failed: %s", message_id, message.topic, error)
        message = session.get(OutboxMessage, message_id)
        message.last_error = error
        message.available_at = runtime.clock.now() + timedelta(
            seconds=config.backoff(message.attempts)
        )
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
    install_handlers(runtime)
    now, lease = runtime.clock.now(), runtime.settings.tracking.lease_seconds
    with runtime.sessions() as session:
        claimed = claim_due(session, now, lease, limit)
    for message_id in claimed:
        _deliver(runtime, message_id)
    return len(claimed)
