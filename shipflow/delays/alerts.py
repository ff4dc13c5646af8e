"""Alerts in the database: raised once per dedupe key while unresolved, then acknowledged
and resolved by ops people."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session

from shipflow.store.alert_models import OPEN_ALERT
from shipflow.store.db import in_values, insert_all_or_skip, one_of
from shipflow.store.models import Alert, new_id

OPEN, ACKNOWLEDGED, RESOLVED = "open", "acknowledged", "resolved"
STATUSES = (OPEN, ACKNOWLEDGED, RESOLVED)
UNRESOLVED = "unresolved"  # a filter: open or acknowledged
CHUNK = 5000
PG_CHUNK = 50_000


class AlertStateError(Exception):
    """The requested step does not follow from the alert's status (resolved is final)."""


def insert_ignoring(
    session: Session, model, rows: Sequence[dict[str, Any]], conflict: list[str], where=None
) -> None:
    """Bulk insert that skips rows clashing with a unique index: safe against a concurrent
    sweep doing the same (`insert_all_or_skip`: the rows travel as one JSON document, tens of
    thousands a statement on PostgreSQL, thousands on SQLite)."""
    if not rows:
        return
    session.flush()  # rows may point at objects still pending in the session
    chunk = PG_CHUNK if session.get_bind().dialect.name == "postgresql" else CHUNK
    for start in range(0, len(rows), chunk):
        insert_all_or_skip(session, model.__table__, rows[start : start + chunk], conflict, where)


def existing_values(session: Session, column, values: Iterable[str], *where) -> set[str]:
    """Which of `values` `column` holds (rows filtered by `where`)."""
    values = list(values)
    found: set[str] = set()
    if values:
        for clause in in_values(session, column, values):
            found.update(session.scalars(select(column).where(clause, *where)))
    return found


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
    return existing_values(
        session, Alert.dedupe_key, keys, Alert.brand_id == brand_id, Alert.status != RESOLVED
    )


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


def resolve_all(session: Session, ids: Sequence[str], by: str, now: datetime) -> None:
    """`resolve` for each of these alerts, in one UPDATE: a batch of tracking events resolves
    its shipments' alerts without an ORM object and a flush each."""
    if ids:
        session.execute(
            update(Alert)
            .where(one_of(session, Alert.id, ids), Alert.status != RESOLVED)
            .values(
                status=RESOLVED,
                resolved_at=now,
                updated_at=now,
                acknowledged_by=func.coalesce(Alert.acknowledged_by, by),
            )
            .execution_options(synchronize_session=False)
        )


def alert_query(
    brand_id: str,
    kind: str | None = None,
    severity: str | None = None,
    carrier: str | None = None,
    status: str | None = UNRESOLVED,
) -> Select:
    """The brand's alerts, filtered; what the ops page and the API list."""
    statement = select(Alert).where(Alert.brand_id == brand_id)
    if status == UNRESOLVED:
        statement = statement.where(Alert.status != RESOLVED)
    elif status:
        statement = statement.where(Alert.status == status)
    for column, value in ((Alert.kind, kind), (Alert.severity, severity), (Alert.carrier, carrier)):
        if value:
            statement = statement.where(column == value)
    return statement


def alert_prediction_passed(session: Session, shipment, now: datetime) -> None:
    """The date we predicted has passed with the parcel still on its way: the customer now
    reads "we're checking with the carrier", so ops must. Once per shipment and predicted
    date, even after the alert is resolved."""
    key = f"prediction_passed:{shipment.id}:{shipment.predicted_date}"
    seen = select(Alert.id).where(Alert.brand_id == shipment.brand_id, Alert.dedupe_key == key)
    if session.scalar(seen.limit(1)) is not None:
        return
    fields = {
        "shipment_id": shipment.id,
        "carrier": shipment.carrier,
        "kind": "late",
        "severity": "warning",
        "dedupe_key": key,
        "title": f"Predicted delivery {shipment.predicted_date} passed: "
        f"ask {shipment.carrier} about {shipment.tracking_number}"[:300],
    }
    insert_alerts(session, [alert_row(shipment.brand_id, now, **fields)])
