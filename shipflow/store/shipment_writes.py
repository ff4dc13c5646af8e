"""A batch's shipments as plain rows: read by one Core statement, written by one per set of
columns, never through the ORM.

The tracking pipeline reads a few hundred shipments per batch (with two columns of their
orders) and sets a handful of columns on them (status, times, prediction, next poll,
pickup point, details). As ORM objects each one cost an identity-map entry, a state and an
attribute history the pipeline never needs, and its writes went through the flush; read as
`TrackedShipment`s instead, `stage` sets the values on the row and keeps them for
`write_staged`, which sends them as one UPDATE per set of columns.

Call `write_staged` before the next query that may read those columns, and before the
commit. The rows are the transaction's: after a rollback, read them again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from shipflow.store.db import for_update, per_transaction, update_all
from shipflow.store.models import Order, Shipment, table_of

_SHIPMENTS = table_of(Shipment)
_ORDERS = table_of(Order)
_STAGED = "shipment writes staged"  # per transaction: shipment id -> column -> value


@dataclass(slots=True)
class TrackedOrder:
    """What the reactions read of a shipment's order (the delivery date's quote, the
    destination of delay detection)."""

    ship_to: dict[str, Any]
    placed_at: datetime


@dataclass(slots=True, eq=False)
class TrackedShipment:
    """A shipment's columns the tracking pipeline and its reactions read or write (each
    field named as its column), after what they read of its order (None: it has none)."""

    order: TrackedOrder | None
    id: str
    brand_id: str
    kind: str
    carrier: str
    service: str
    tracking_number: str
    warehouse_code: str
    status: str
    status_reason: str | None
    promised_date: date | None
    predicted_date: date | None
    created_at: datetime
    shipped_at: datetime | None
    delivered_at: datetime | None
    last_event_at: datetime | None
    next_poll_at: datetime | None
    details: dict[str, Any]
    destination_state: str
    destination_postal_code: str
    pickup_point: dict[str, Any] | None
    pickup_deadline: datetime | None


# The shipment's columns in the fields' order, then its order's id (none: no order) and columns.
_READ = (
    select(
        *(_SHIPMENTS.c[field.name] for field in fields(TrackedShipment)[1:]),
        _ORDERS.c.id,
        _ORDERS.c.ship_to,
        _ORDERS.c.placed_at,
    )
    .outerjoin(_ORDERS, _SHIPMENTS.c.order_id == _ORDERS.c.id)
    .order_by(_SHIPMENTS.c.id)
)


def _tracked(row: Sequence[Any]) -> TrackedShipment:
    *values, order_id, ship_to, placed_at = row
    return TrackedShipment(TrackedOrder(ship_to, placed_at) if order_id else None, *values)


def read_tracked(
    session: Session, *where: ColumnElement[bool], lock: bool = False
) -> list[TrackedShipment]:
    """The shipments `where` selects, in id order; `lock`: held for the transaction's writes
    (`for_update`). The session's autoflush writes its pending changes first, as for an ORM
    query."""
    statement = _READ.where(*where)
    if lock:
        statement = for_update(session, statement, of=_SHIPMENTS)
    return [_tracked(row) for row in session.execute(statement)]


def stage(session: Session, shipment: TrackedShipment, **values: Any) -> None:
    """Set the columns on `shipment` and keep them for `write_staged`."""
    for name, value in values.items():
        setattr(shipment, name, value)
    staged: dict[str, dict[str, Any]] = per_transaction(session, _STAGED, dict)
    staged.setdefault(shipment.id, {}).update(values)


def write_staged(session: Session) -> None:
    """What was staged in this transaction, one statement per set of columns (`update_all`:
    the shipments' `updated_at` stamped as the ORM would)."""
    staged: dict[str, dict[str, Any]] = per_transaction(session, _STAGED, dict)
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for shipment_id, values in staged.items():
        columns = tuple(sorted(values))
        row = {"id": shipment_id, **{name: values[name] for name in columns}}
        groups.setdefault(columns, []).append(row)
    staged.clear()
    for rows in groups.values():
        update_all(session, _SHIPMENTS, "id", rows)
