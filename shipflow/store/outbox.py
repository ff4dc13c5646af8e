"""Writing to the outbox: call inside the transaction that makes the change."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, ClassVar, Protocol

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from shipflow.store.db import insert_all, one_of, per_transaction
from shipflow.store.models import OutboxMessage, Shipment

_OUTBOX: Table = OutboxMessage.__table__  # type: ignore[assignment]
_HELD = "outbox batch's shipments"  # per transaction: id -> shipment, see `hold_shipments`


class Claimed(Protocol):
    """An outbox message as its handler reads it: the dispatcher passes the row it selected
    (`CLAIMED_COLUMNS`), not an `OutboxMessage`, which took twice as long to load."""

    @property
    def id(self) -> int: ...

    @property
    def topic(self) -> str: ...

    @property
    def brand_id(self) -> str | None: ...

    @property
    def dedupe_key(self) -> str: ...

    @property
    def payload(self) -> dict[str, Any]: ...


CLAIMED_COLUMNS = (
    OutboxMessage.id,
    OutboxMessage.topic,
    OutboxMessage.brand_id,
    OutboxMessage.dedupe_key,
    OutboxMessage.payload,
    OutboxMessage.attempts,  # for the backoff of a failure
)


class Publishable(Protocol):
    """An event or message for the outbox: its class names the topic, `key` dedupes it."""

    topic: ClassVar[str]

    @property  # read-only, so frozen dataclasses match
    def brand_id(self) -> str: ...

    @property
    def key(self) -> str: ...

    def payload(self) -> dict[str, Any]: ...


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


def publish(session: Session, event: Publishable) -> bool:
    return enqueue(session, event.brand_id, event.topic, event.key, event.payload())


def publish_all(session: Session, events: Sequence[Publishable]) -> int:
    """`publish` for a batch: one look-up of the keys already queued and one insert, whatever
    the batch's size. Returns how many were new. (Each event's key, formatted from its
    fields, is worked out once.)"""
    keyed = [(event.key, event) for event in events]
    if not keyed:
        return 0
    keys = {key for key, _ in keyed}
    queued = {m.dedupe_key for m in session.new if isinstance(m, OutboxMessage)}
    queued.update(
        session.scalars(
            select(OutboxMessage.dedupe_key).where(one_of(session, OutboxMessage.dedupe_key, keys))
        )
    )
    new = []
    for key, event in keyed:
        if key not in queued:
            queued.add(key)
            new.append(
                {
                    "brand_id": event.brand_id,
                    "topic": event.topic,
                    "dedupe_key": key,
                    "payload": event.payload(),
                }
            )
    insert_all(session, _OUTBOX, new)  # one statement (ORM objects: one INSERT each on SQLite)
    return len(new)


def hold_shipments(session: Session, shipments: Iterable[Shipment]) -> None:
    """The shipments a batch of messages is about, which the dispatcher loads together, held
    for the transaction: `shipment_of` then finds each by a dict look-up."""
    _held(session).update((shipment.id, shipment) for shipment in shipments)


def shipment_of(session: Session, shipment_id: str) -> Shipment | None:
    """The shipment a handler's message is about: of its batch, held (`session.get` of one in
    the identity map costs about 4 us, and a milestone's two handlers each ask), else read."""
    return _held(session).get(shipment_id) or session.get(Shipment, shipment_id)


def _held(session: Session) -> dict[str, Shipment]:
    return per_transaction(session, _HELD, dict)


class RetryAfter(Exception):
    """A handler's target is throttling us: try the message again in exactly `seconds`
    (what the platform said), not after the failure backoff; nothing is logged as failed."""

    def __init__(self, seconds: float, message: str = "") -> None:
        super().__init__(message or f"retry after {seconds} s")
        self.seconds = seconds
