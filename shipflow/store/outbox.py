"""Writing to the outbox: call inside the transaction that makes the change."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any, ClassVar, NamedTuple, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session, defer, joinedload

from shipflow.store.db import insert_all, one_of, per_transaction
from shipflow.store.models import UNREAD_ORDER_COLUMNS, Order, OutboxMessage, Shipment, table_of

_OUTBOX = table_of(OutboxMessage)
_HELD = "outbox batch's parcels"  # per transaction: shipment id -> `Parcel`, see `hold_parcels`
_LOADED = "outbox batch's shipments"  # per transaction: id -> `Shipment`, see `shipment_of`


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


class ShipmentRead(NamedTuple):
    """What the milestone handlers read of a shipment: selected as a row with its batch, not
    built as a `Shipment` (an ORM object with its order took about 40 us, a row 12)."""

    id: str
    brand_id: str
    order_id: str | None
    kind: str
    status: str
    promised_date: date | None
    predicted_date: date | None
    pickup_point: dict[str, Any] | None
    pickup_deadline: datetime | None


class OrderRead(NamedTuple):
    """What the milestone handlers read of the shipment's order (`ShipmentRead`'s why)."""

    id: str
    brand_id: str
    order_number: str
    customer_email: str
    customer_phone: str
    language: str
    ship_to: dict[str, Any]
    source_account: str | None
    source_order_id: str | None


class Parcel(NamedTuple):
    """A shipment an outbox message is about, with its order and, for an order in several
    parcels, which one it is ((n, total) among the forward parcels)."""

    shipment: ShipmentRead
    order: OrderRead | None
    position: tuple[int, int] | None


SHIPMENT_READ = tuple(getattr(Shipment, name) for name in ShipmentRead._fields)
ORDER_READ = tuple(getattr(Order, name) for name in OrderRead._fields)


def hold_parcels(session: Session, parcels: Mapping[str, Parcel]) -> None:
    """The parcels a batch of messages is about, which the dispatcher reads together, held
    for the transaction: `parcel_of` then finds each by a dict look-up."""
    _held(session).update(parcels)


def parcel_of(session: Session, shipment_id: str) -> Parcel | None:
    """The parcel a handler's message is about, as read with its batch (the dispatcher holds
    every message's before its handlers run); None if there is no such shipment."""
    return _held(session).get(shipment_id)


def shipment_of(session: Session, shipment_id: str) -> Shipment | None:
    """The shipment as an ORM object, for a handler that changes it or reads what a `Parcel`
    does not hold (a return, a failed attempt, a shop's write-back). The first such look-up
    in a transaction loads every held parcel's shipment (and order) in one query, as the
    batch's other handlers of that kind will ask too."""
    loaded = per_transaction(session, _LOADED, lambda: _load(session, list(_held(session))))
    return loaded.get(shipment_id) or session.get(Shipment, shipment_id)


def _load(session: Session, shipment_ids: list[str]) -> dict[str, Shipment]:
    """Held for the transaction (the session's identity map is weak). Of the orders, not the
    JSON columns no handler reads (`UNREAD_ORDER_COLUMNS`)."""
    if not shipment_ids:
        return {}
    return {
        shipment.id: shipment
        for shipment in session.scalars(
            select(Shipment)
            .where(one_of(session, Shipment.id, shipment_ids))
            .options(joinedload(Shipment.order).options(*map(defer, UNREAD_ORDER_COLUMNS)))
        )
    }


def _held(session: Session) -> dict[str, Parcel]:
    return per_transaction(session, _HELD, dict)


class RetryAfter(Exception):
    """A handler's target is throttling us: try the message again in exactly `seconds`
    (what the platform said), not after the failure backoff; nothing is logged as failed."""

    def __init__(self, seconds: float, message: str = "") -> None:
        super().__init__(message or f"retry after {seconds} s")
        self.seconds = seconds
