"""Alerts in the database: raised once per dedupe key while unresolved, then acknowledged
and resolved by ops people."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from shipflow.store.alert_models import OPEN_ALERT
from shipflow.store.models import Alert, new_id

OPEN, ACKNOWLEDGED, RESOLVED = "open", "acknowledged", "resolved"
STATUSES = (OPEN, ACKNOWLEDGED, RESOLVED)
CHUNK = 5000


class AlertStateError(Exception):
    """The requested step does not follow from the alert's status (resolved is final)."""


def insert_ignoring(
    session: Session, model, rows: Sequence[dict[str, Any]], conflict: list[str], where=None
) -> None:
    """Bulk insert that skips rows clashing with a unique index: safe against a concurrent
    sweep doing the same, on PostgreSQL and SQLite alike."""
    if not rows:
        return
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(model).on_conflict_do_nothing(
        index_elements=conflict, index_where=where
    )
    for start in range(0, len(rows), CHUNK):
        session.execute(statement, list(rows[start : start + CHUNK]))


def alert_row(brand_id: str, now: datetime, **fields: Any) -> dict[str, Any]:
    """Column values of a new open alert (ids made here, so rows can go in in bulk)."""
    return {
        "id": new_id("alr")(),
        "brand_id": brand_id,
        "status": OPEN,
        "details": {},
        "created_at": now,
        "updated_at": now,
        "shipment_id": None,
        "carrier": None,
        "region": None,
        **fields,
    }


def insert_alerts(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    insert_ignoring(session, Alert, rows, ["brand_id", "dedupe_key"], OPEN_ALERT)


def unresolved_keys(session: Session, brand_id: str, keys: Iterable[str]) -> set[str]:
    keys = list(keys)
    found: set[str] = set()
    for start in range(0, len(keys), CHUNK):
        found.update(
            session.scalars(
                select(Alert.dedupe_key).where(
                    Alert.brand_id == brand_id,
                    Alert.status != RESOLVED,
                    Alert.dedupe_key.in_(keys[start : start + CHUNK]),
                )
            )
        )
    return found


def raise_alert(session: Session, brand_id: str, now: datetime, **fields: Any) -> Alert | None:
    """Add an alert unless one with its dedupe key is still unresolved; None if it was."""
    if unresolved_keys(session, brand_id, [fields["dedupe_key"]]):
        return None
    insert_alerts(session, [alert_row(brand_id, now, **fields)])
    return session.scalar(
        select(Alert).where(
            Alert.brand_id == brand_id,
            Alert.dedupe_key == fields["dedupe_key"],
            Alert.status != RESOLVED,
        )
    )


def acknowledge(alert: Alert, by: str, now: datetime) -> None:
    if alert.status == RESOLVED:
        raise AlertStateError("this alert is already resolved")
    if alert.status == OPEN:
        alert.status, alert.acknowledged_at, alert.acknowledged_by = ACKNOWLEDGED, now, by
        alert.updated_at = now


def resolve(alert: Alert, by: str, now: datetime) -> None:
    if alert.status == RESOLVED:
        return
    if alert.acknowledged_by is None:
        alert.acknowledged_by = by
    alert.status, alert.resolved_at, alert.updated_at = RESOLVED, now, now
