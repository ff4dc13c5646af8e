"""Alerts over the API: list with filters (cursor pagination), acknowledge, resolve."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from flask import g
from flask_openapi3 import Tag
from pydantic import BaseModel, Field
from sqlalchemy import select

from shipflow.delays import alerts as alert_store
from shipflow.delays.config import Kind, Severity
from shipflow.store.models import Alert
from shipflow.web.api.idempotency import idempotent
from shipflow.web.api.pagination import page, paginate
from shipflow.web.api.routes import bp
from shipflow.web.api.schemas import Input, Output, PageQuery
from shipflow.web.problems import ApiProblem, Problem, not_found

TAG = Tag(name="alerts")
API_ACTOR = "api"


class AlertQuery(PageQuery):
    kind: Kind | None = None
    severity: Severity | None = None
    carrier: Annotated[str, Field(max_length=32, pattern=r"^[A-Za-z0-9_-]+$")] | None = None
    status: Literal["open", "acknowledged", "resolved", "unresolved", "all"] | None = Field(
        None, description="default or `all`: every status; `unresolved` = open or acknowledged"
    )


class AlertPath(Input):
    id: Annotated[str, Field(max_length=40, pattern=r"^[A-Za-z0-9_]+$")]


class AlertOut(Output):
    id: str
    kind: str
    severity: str
    status: str
    title: str
    details: dict
    shipment_id: str | None
    carrier: str | None
    region: str | None
    created_at: datetime
    updated_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    resolved_at: datetime | None


class AlertPage(BaseModel):
    data: list[AlertOut]
    next_cursor: str | None


def alert_json(alert: Alert) -> dict:
    return AlertOut.model_validate(alert).model_dump(mode="json")


@bp.get("/alerts", tags=[TAG], responses={200: AlertPage})
def list_alerts(query: AlertQuery):
    """Newest first; pass `next_cursor` back as `cursor` for the next page."""
    status = None if query.status == "all" else query.status
    statement = alert_store.alert_query(
        g.brand_id, query.kind, query.severity, query.carrier, status
    )
    rows, cursor = page(list(g.db.scalars(paginate(statement, Alert, query))), query.limit)
    return {"data": [alert_json(a) for a in rows], "next_cursor": cursor}


def _step(alert_id: str, step) -> tuple[dict, int]:
    alert = g.db.scalar(select(Alert).where(Alert.id == alert_id, Alert.brand_id == g.brand_id))
    if alert is None:
        raise not_found("alert")
    try:
        step(alert, API_ACTOR, g.runtime.clock.now())
    except alert_store.AlertStateError as exc:
        raise ApiProblem(409, "Conflict", f"{exc}; nothing to acknowledge.") from None
    g.db.flush()
    return alert_json(alert), 200


@bp.post("/alerts/<id>/acknowledge", tags=[TAG], responses={200: AlertOut, 409: Problem})
@idempotent
def acknowledge_alert(path: AlertPath):
    """Someone is on it: stops the escalation. Acknowledging twice is harmless."""
    return _step(path.id, alert_store.acknowledge)


@bp.post("/alerts/<id>/resolve", tags=[TAG], responses={200: AlertOut, 409: Problem})
@idempotent
def resolve_alert(path: AlertPath):
    """Done. The same problem showing up again later raises a new alert."""
    return _step(path.id, alert_store.resolve)
