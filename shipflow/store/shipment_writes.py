"""A batch's shipment columns written by one Core statement instead of the ORM's flush.

The tracking pipeline sets a handful of columns (status, times, prediction, next poll) on
hundreds of loaded shipments per batch. Set as attributes, each shipment becomes dirty and
the ORM's flush weighs the history of every one of its columns (the largest cost of a batch
after the events themselves). Staged here instead, the values are set on the objects as if
loaded (the ORM sees nothing to flush) and kept for `write_staged`, which sends them as one
UPDATE per set of columns. Whatever else sets an attribute still goes through the ORM.

Call `write_staged` where the ORM's autoflush would have written them: before the next
query that may read those columns, and before the commit. An outer rollback expires the
objects, and the staged values with them, as it would the ORM's changes.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from shipflow.store.db import per_transaction, update_all
from shipflow.store.models import Shipment

_SHIPMENTS: Table = Shipment.__table__  # type: ignore[assignment]
_STAGED = "shipment writes staged"  # per transaction: shipment id -> column -> value


def stage(session: Session, shipment: Shipment, **values: Any) -> None:
    """Set the columns on `shipment` and keep them for `write_staged`."""
    for name, value in values.items():
        set_committed_value(shipment, name, value)
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
