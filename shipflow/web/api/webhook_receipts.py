"""Webhooks as received from carriers and shops, for ops: find the failed ones and retry them after a fix."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from flask import g
from flask_openapi3 import Tag
from pydantic import BaseModel, Field
from sqlalchemy import select

from shipflow.store.tracking_models import WebhookReceipt
from shipflow.tracking.webhooks import retry_failed
from shipflow.web.api.idempotency import idempotent, submit_after_commit
from shipflow.web.api.routes import bp
from shipflow.web.api.schemas import Input, Output
from shipflow.web.problems import ApiProblem, Problem, not_found

TAG = Tag(name="webhook receipts")


ReceiptId = Annotated[int, Field(ge=1, le=2**63 - 1)]


class ReceiptQuery(Input):
    status: Literal["received", "processed", "failed"] | None = None
    source_kind: Literal["carrier", "channel"] | None = None
    cursor: Annotated[ReceiptId, Field(description="next_cursor of the previous page")] | None = (
        None
    )
    limit: Annotated[int, Field(ge=1, le=100)] = 20


class ReceiptPath(Input):
    id: ReceiptId


class ReceiptOut(Output):
    id: int
    source_kind: str
    carrier: str  # the carrier, or the channel of a shop's receipt
    account: str
    status: str
    error: str | None
    attempts: int
    received_at: datetime
    processed_at: datetime | None
    body: str

    @classmethod
    def of(cls, receipt: WebhookReceipt) -> dict:
        data = {name: getattr(receipt, name) for name in cls.model_fields if name != "body"}
        data["body"] = receipt.body.decode("utf-8", errors="replace")
        return cls.model_validate(data).model_dump(mode="json")


class ReceiptPage(BaseModel):
    data: list[ReceiptOut]
    next_cursor: int | None


@bp.get("/webhook-receipts", tags=[TAG], responses={200: ReceiptPage})
def list_receipts(query: ReceiptQuery):
    """Newest first; `?status=failed` lists what did not process, with the error;
    `?source_kind=channel` only shops' webhooks."""
    statement = select(WebhookReceipt).where(WebhookReceipt.brand_id == g.brand_id)
    if query.status:
        statement = statement.where(WebhookReceipt.status == query.status)
    if query.source_kind:
        statement = statement.where(WebhookReceipt.source_kind == query.source_kind)
    if query.cursor:
        statement = statement.where(WebhookReceipt.id < query.cursor)
    rows = list(g.db.scalars(statement.order_by(WebhookReceipt.id.desc()).limit(query.limit + 1)))
    more = len(rows) > query.limit
    rows = rows[: query.limit]
    return {"data": [ReceiptOut.of(r) for r in rows], "next_cursor": rows[-1].id if more else None}


@bp.post("/webhook-receipts/<int:id>/retry", tags=[TAG], responses={202: ReceiptOut, 409: Problem})
@idempotent
def retry_receipt(path: ReceiptPath):
    """Queue a failed receipt again, e.g. after a parser fix."""
    receipt = g.db.scalar(
        select(WebhookReceipt).where(
            WebhookReceipt.id == path.id, WebhookReceipt.brand_id == g.brand_id
        )
    )
    if receipt is None:
        raise not_found("webhook receipt")
    if receipt.status != "failed":
        raise ApiProblem(
            409, "Not failed", f"Receipt {receipt.id} is {receipt.status}; only failed ones retry."
        )
    retry_failed(g.db, g.runtime.clock.now(), g.brand_id, receipt.id)
    g.db.refresh(receipt)
    submit_after_commit("tracking.process_receipt", receipt_id=receipt.id)
    return ReceiptOut.of(receipt), 202
