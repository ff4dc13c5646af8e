"""Returns for a brand's ops and store: the list, a person's review of returns the policy
sends to review, and the store's word that it refunded."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from flask import Response, g
from flask_openapi3 import Tag
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from shipflow.carrier_accounts import UnknownCarrierAccount
from shipflow.label_purchases import PurchasePending
from shipflow.postpurchase import issue_return_label, money_text
from shipflow.returns.service import ReturnError, mark_refunded, review
from shipflow.store.db import for_update
from shipflow.store.postpurchase_models import ReturnPhotoRow, ReturnRequestRow
from shipflow.web.api.idempotency import idempotent
from shipflow.web.api.pagination import page, paginate
from shipflow.web.api.routes import bp
from shipflow.web.api.schemas import IdPath, Input, Output, PageQuery
from shipflow.web.problems import ApiProblem, Problem, not_found

TAG = Tag(name="returns")
STATUSES = Literal[
    "review", "approved", "refused", "label_created", "in_transit", "received", "refunded"
]


class ReturnItemOut(Output):
    sku: str
    quantity: int
    reason: str
    unit_price: int
    accepted: bool
    refusal: str | None
    photos: list[str] = []  # ids: GET /return-photos/<id>


class ReturnOut(Output):
    id: str
    order_id: str
    status: str
    decision: dict[str, Any]
    refund_amount: int
    currency: str
    shipment_id: str | None
    language: str
    created_at: datetime
    updated_at: datetime
    items: list[ReturnItemOut]


class ReturnPage(BaseModel):
    data: list[ReturnOut]
    next_cursor: str | None


class ReturnQuery(PageQuery):
    status: STATUSES | None = None


class ReviewIn(Input):
    note: Annotated[str, Field(max_length=500)] = ""


def return_json(request: ReturnRequestRow) -> dict:
    items = [
        ReturnItemOut.model_validate({**_columns(i), "photos": list(i.photos or [])})
        for i in request.items
    ]
    data = ReturnOut.model_validate({**_columns(request), "items": items})
    return data.model_dump(mode="json")


def _columns(row) -> dict:
    return {c.key: getattr(row, c.key) for c in row.__table__.columns}


def brand_return(return_id: str, lock: bool = False) -> ReturnRequestRow:
    """The brand's return; `lock` holds it until the transaction ends, so a change of its
    status (approve: buy a label) happens once however many calls come at once."""
    statement = (
        select(ReturnRequestRow)
        .where(ReturnRequestRow.id == return_id, ReturnRequestRow.brand_id == g.brand_id)
        .options(selectinload(ReturnRequestRow.items))
    )
    found = g.db.scalar(for_update(g.db, statement) if lock else statement)
    if found is None:
        raise not_found("return")
    return found


def _conflict(exc: Exception) -> ApiProblem:
    return ApiProblem(409, "Conflict", str(exc))


@bp.get("/returns", tags=[TAG], responses={200: ReturnPage})
def list_returns(query: ReturnQuery):
    """Newest first; `status=review` lists the returns waiting for a person."""
    statement = select(ReturnRequestRow).where(ReturnRequestRow.brand_id == g.brand_id)
    if query.status:
        statement = statement.where(ReturnRequestRow.status == query.status)
    statement = paginate(statement, ReturnRequestRow, query).options(
        selectinload(ReturnRequestRow.items)
    )
    rows, cursor = page(list(g.db.scalars(statement)), query.limit)
    return {"data": [return_json(r) for r in rows], "next_cursor": cursor}


@bp.get("/returns/<id>", tags=[TAG], responses={200: ReturnOut})
def get_return(path: IdPath):
    return return_json(brand_return(path.id))


@bp.post("/returns/<id>/approve", tags=[TAG], responses={200: ReturnOut, 409: Problem})
@idempotent
def approve_return(path: IdPath, body: ReviewIn):
    """Approve a return in review: the prepaid label is bought and sent to the customer."""
    request = brand_return(path.id, lock=True)
    try:
        review(request, approve=True, note=body.note)
        issue_return_label(g.runtime, g.db, request, g.runtime.clock.now())
    except (ReturnError, UnknownCarrierAccount, PurchasePending) as exc:
        raise _conflict(exc) from None
    return return_json(request), 200


@bp.post("/returns/<id>/refuse", tags=[TAG], responses={200: ReturnOut, 409: Problem})
@idempotent
def refuse_return(path: IdPath, body: ReviewIn):
    """Refuse a return in review; `note` says why (kept with the decision)."""
    request = brand_return(path.id, lock=True)
    try:
        review(request, approve=False, note=body.note)
    except ReturnError as exc:
        raise _conflict(exc) from None
    return return_json(request), 200


@bp.post("/returns/<id>/refunded", tags=[TAG], responses={200: ReturnOut, 409: Problem})
@idempotent
def return_refunded(path: IdPath):
    """The store refunded the customer: they get one message saying so."""
    request = brand_return(path.id, lock=True)
    if request.status in ("review", "refused", "approved"):
        raise _conflict(ReturnError(f"return {request.id} is {request.status}; nothing to refund"))
    mark_refunded(
        g.db, request, g.runtime.clock.now(), money_text(request.language), g.runtime.settings
    )
    return return_json(request), 200


@bp.get(
    "/return-photos/<id>",
    tags=[TAG],
    responses={200: {"content": {"image/*": {"schema": {"type": "string", "format": "binary"}}}}},
)
def get_return_photo(path: IdPath):
    """A photo the customer attached to a return item (ids are in the item's `photos`)."""
    photo = g.db.scalar(
        select(ReturnPhotoRow).where(
            ReturnPhotoRow.id == path.id, ReturnPhotoRow.brand_id == g.brand_id
        )
    )
    if photo is None:
        raise not_found("return photo")
    return Response(photo.data, mimetype=photo.content_type)
