"""Failed-delivery cases for a brand's systems and ops: the queue by state, and per-carrier
figures (failed-attempt, resolution and return-to-origin rates)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import g
from flask_openapi3 import Tag
from pydantic import BaseModel
from sqlalchemy import select

from shipflow.ndr.service import ndr_metrics
from shipflow.ndr.workflow import CaseState
from shipflow.store.models import Shipment
from shipflow.store.postpurchase_models import NdrCaseRow
from shipflow.web.api.pagination import page, paginate
from shipflow.web.api.routes import bp
from shipflow.web.api.schemas import Output, PageQuery

TAG = Tag(name="failed deliveries")


class NdrCaseOut(Output):
    id: str
    shipment_id: str
    state: CaseState
    attempts: int
    reason: str | None
    action: str | None
    action_details: dict[str, Any]
    carrier_reference: str
    follow_ups: int
    opened_at: datetime
    last_contact_at: datetime
    resolved_at: datetime | None
    carrier: str = ""
    tracking_number: str = ""


class NdrCasePage(BaseModel):
    data: list[NdrCaseOut]
    next_cursor: str | None


class NdrCaseQuery(PageQuery):
    state: CaseState | None = None


class CarrierNdrMetrics(BaseModel):
    carrier: str
    shipments: int
    failed_attempt_rate: float
    resolution_rate: float | None
    mean_hours_to_resolution: float | None
    return_to_origin_rate: float | None


class NdrMetrics(BaseModel):
    data: list[CarrierNdrMetrics]


def case_json(case: NdrCaseRow, shipment: Shipment) -> dict:
    out = NdrCaseOut.model_validate(case).model_copy(
        update={"carrier": shipment.carrier, "tracking_number": shipment.tracking_number}
    )
    return out.model_dump(mode="json")


def brand_cases(state: CaseState | None, query: PageQuery) -> list[tuple[NdrCaseRow, Shipment]]:
    """The brand's cases, newest first, with their shipments (one query)."""
    statement = select(NdrCaseRow, Shipment).join(Shipment, Shipment.id == NdrCaseRow.shipment_id)
    statement = statement.where(NdrCaseRow.brand_id == g.brand_id)
    if state is not None:
        statement = statement.where(NdrCaseRow.state == state.value)
    return [
        (case, shipment) for case, shipment in g.db.execute(paginate(statement, NdrCaseRow, query))
    ]


@bp.get("/ndr-cases", tags=[TAG], responses={200: NdrCasePage})
def list_ndr_cases(query: NdrCaseQuery):
    """Newest first; `state=ops_task` is the queue of cases waiting for a person."""
    rows = brand_cases(query.state, query)
    kept, cursor = page([case for case, _ in rows], query.limit)
    shipments = {case.id: shipment for case, shipment in rows}
    return {"data": [case_json(c, shipments[c.id]) for c in kept], "next_cursor": cursor}


@bp.get("/ndr-metrics", tags=[TAG], responses={200: NdrMetrics})
def get_ndr_metrics():
    """Per carrier: failed attempts per shipment, how many cases resolve, how fast, and RTO."""
    return {"data": ndr_metrics(g.db, g.brand_id)}
