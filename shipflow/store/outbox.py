"""Writing to the outbox: call inside the transaction that makes the change."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shipflow.domain.events import DomainEvent
from shipflow.store.models import OutboxMessage


def enqueue(
    session: Session, brand_id: str | None, topic: str, key: str, payload: dict[str, Any]
) -> bool:
    """Queue a message once; the same `key` again is a no-op. Returns whether it was new."""
    pending = {m.dedupe_key for m in session.new if isinstance(m, OutboxMessage)}
    if key in pending or session.scalar(
        select(OutboxMessage.id).where(OutboxMessage.dedupe_key == key)
    ):
        return False
    session.add(OutboxMessage(brand_id=brand_id, topic=topic, dedupe_key=key, payload=payload))
    return True


def publish(session: Session, event: DomainEvent) -> bool:
    return enqueue(session, event.brand_id, event.topic, event.key, event.payload())
