"""Writing to the outbox: call inside the transaction that makes the change."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from shipflow.domain.events import DomainEvent
from shipflow.store.models import OutboxMessage


def publish(session: Session, event: DomainEvent) -> None:
    """Queue `event` once; publishing the same event again (same key) is a no-op."""
    key = event.key
    pending = {m.dedupe_key for m in session.new if isinstance(m, OutboxMessage)}
    if key in pending or session.scalar(
        select(OutboxMessage.id).where(OutboxMessage.dedupe_key == key)
    ):
        return
    session.add(
        OutboxMessage(
            brand_id=event.brand_id, topic=event.topic, dedupe_key=key, payload=event.payload()
        )
    )
