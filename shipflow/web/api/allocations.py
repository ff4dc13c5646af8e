"""Allocation: explain the choice for one order, ship an order, and plan a batch."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from flask import g
from flask_openapi3 import Tag
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from carriers.base import CarrierError
from shipflow.allocation.batches import queue_batch
from shipflow.allocation.rules import RuleConfigError
from shipflow.allocation.service import Allocation, NotAllocated
from shipflow.brands import brand_config
from shipflow.fulfilment import replace_brand_rules, restore_config_rules
from shipflow.label_purchases import PurchasePending
from shipflow.store.allocation_models import AllocationBatch, AllocationRules
from shipflow.store.db import for_update
from shipflow.store.models import Brand, Order
from shipflow.text import SingleLine
from shipflow.web.api.idempotency import idempotent, submit_after_commit
from shipflow.web.api.routes import bp
from shipflow.web.api.schemas import IdPath, Input, ShipmentDetailOut
from shipflow.web.api.shipments import shipment_json
from shipflow.web.problems import ApiProblem, Problem, field_problem, not_found

TAG = Tag(name="allocation")


class AllocationIn(Input):
    order_id: Annotated[SingleLine, Field(max_length=40)]


class ScoreOut(BaseModel):
    option: str
    carrier: str
    service: str
    warehouse: str
    cost_cents: int
    p_late: float
    total_cents: float
    promise_date: date
    explanation: str


class RejectionOut(BaseModel):
    option: str
    rule: str
    reason: str


class AllocationOut(BaseModel):
    order_id: str
    chosen: ScoreOut | None
    runner_up: ScoreOut | None
    promised_date: date | None
    rejected: list[RejectionOut]
    ranked: list[ScoreOut]


class BatchIn(Input):
    order_ids: Annotated[
        list[Annotated[SingleLine, Field(max_length=40)]], Field(min_length=1, max_length=100_000)
    ]
    constraints: dict[str, Any] = {}
    lateness_lambda: Annotated[float, Field(ge=0, le=1000)] | None = None
    time_limit_s: Annotated[float, Field(gt=0, le=600)] = 10.0


class RulesIn(Input):
    rules: dict[str, Any]


class BatchOut(BaseModel):
    id: str
    status: Literal["queued", "running", "done", "failed"]
    created_at: datetime
    finished_at: datetime | None
    error: str | None
    result: dict[str, Any]


def _score(score) -> dict | None:
    if score is None:
        return None
    service_key, _, warehouse = score.option.partition("@")
    carrier, _, service = service_key.partition(":")
    return {
        "option": score.option,
        "carrier": carrier,
        "service": service,
        "warehouse": warehouse,
        "cost_cents": score.cost_cents,
        "p_late": round(score.p_late, 4),
        "total_cents": round(score.total, 2),
        "promise_date": score.promise_date,
        "explanation": score.explain(),
    }


def allocation_json(decision: Allocation) -> dict:
    return AllocationOut(
        order_id=decision.order_id,
        chosen=_score(decision.chosen),
        runner_up=_score(decision.runner_up),
        promised_date=decision.expected_by,
        rejected=[
            {"option": r.option, "rule": r.rule, "reason": r.reason} for r in decision.rejected
        ],
        ranked=[_score(s) for s in decision.ranked],
    ).model_dump(mode="json")


def _order(order_id: str, lock: bool = False) -> Order | None:
    """The brand's order; None for an unknown id and for another brand's alike."""
    statement = (
        select(Order)
        .where(Order.id == order_id, Order.brand_id == g.brand_id)
        .options(selectinload(Order.lines), selectinload(Order.shipments))
    )
    return g.db.scalar(for_update(g.db, statement) if lock else statement)


def _fulfilment():
    code = g.db.get(Brand, g.brand_id).code
    try:
        return g.runtime.fulfilment(code)
    except NotAllocated:
        raise ApiProblem(
            409,
            "Brand not configured",
            f"Brand {code!r} has no warehouses or carriers here; add it to config.yaml.",
        ) from None


@bp.post("/allocations", tags=[TAG], responses={200: AllocationOut})
@idempotent
def post_allocation(body: AllocationIn):
    """Which warehouse, carrier and service would ship this order, at what cost and promise,
    the runner-up, and every rejected option with the rule that rejected it."""
    order = _order(body.order_id)
    if order is None:  # a field of the body: 422, where an unknown order in the path is 404
        raise field_problem("order_id", "no order with this id exists for your brand")
    try:
        _, decision = _fulfilment().allocate(g.db, order)
    except NotAllocated as exc:
        raise field_problem("order_id", str(exc)) from None
    return allocation_json(decision), 200


@bp.post("/orders/<id>/ship", tags=[TAG], responses={201: ShipmentDetailOut, 409: Problem})
@idempotent
def ship_order(path: IdPath):
    """Allocate the order, buy its label and open the shipment with its promised date. The
    order stays locked until the shipment commits: one label, however many calls at once."""
    order = _order(path.id, lock=True)
    if order is None:
        raise not_found("order")
    if any(s.kind == "forward" for s in order.shipments):
        raise field_problem("id", "this order already has a shipment", status=409)
    try:
        shipment = _fulfilment().ship(g.db, order)
    except NotAllocated as exc:
        raise field_problem("id", str(exc)) from None
    except PurchasePending as exc:
        raise ApiProblem(409, "Label purchase pending", str(exc)) from None
    except CarrierError as exc:
        raise ApiProblem(502, "Carrier error", f"{exc.carrier}: {exc}") from None
    return shipment_json(shipment, detail=True), 201


@bp.post("/allocation-batches", tags=[TAG], responses={202: BatchOut})
@idempotent
def post_batch(body: BatchIn):
    """Plan a batch (the day's orders before pickup) with capacities and commitments; solved
    in the background: poll the batch until it is `done`."""
    try:
        batch = queue_batch(g.db, g.brand_id, body.model_dump())
    except RuleConfigError as exc:
        field, _, message = str(exc).partition(": ")
        raise field_problem(field, message) from None
    submit_after_commit("allocation.run_batch", batch_id=batch.id)
    return _batch_json(batch), 202


@bp.get("/allocation-batches/<id>", tags=[TAG], responses={200: BatchOut})
def get_batch(path: IdPath):
    batch = g.db.scalar(
        select(AllocationBatch).where(
            AllocationBatch.id == path.id, AllocationBatch.brand_id == g.brand_id
        )
    )
    if batch is None:
        raise not_found("allocation batch")
    return _batch_json(batch)


def _batch_json(batch: AllocationBatch) -> dict:
    return BatchOut.model_validate(batch, from_attributes=True).model_dump(mode="json")


class RulesOut(BaseModel):
    source: Literal["config", "api"]
    rules: dict[str, Any]


@bp.get("/allocation-rules", tags=[TAG], responses={200: RulesOut})
def get_rules():
    """The allocation rules in force: config.yaml's until replaced through this API."""
    stored = g.db.get(AllocationRules, g.brand_id)
    if stored is not None:
        return {"source": "api", "rules": stored.rules}
    brand = brand_config(g.db, g.brand_id, g.runtime.settings)
    return {"source": "config", "rules": dict(brand.rules) if brand else {}}


@bp.put("/allocation-rules", tags=[TAG], responses={200: RulesOut})
def put_rules(body: RulesIn):
    """Replace the brand's allocation rules (same shape as `rules` in config.yaml)."""
    try:
        replace_brand_rules(g.db, g.brand_id, body.rules)
    except RuleConfigError as exc:
        field, _, message = str(exc).partition(": ")
        raise field_problem(field, message) from None
    g.db.commit()
    return {"source": "api", "rules": body.rules}


@bp.delete("/allocation-rules", tags=[TAG], responses={200: RulesOut})
def delete_rules():
    """Go back to config.yaml's rules."""
    restore_config_rules(g.db, g.brand_id)
    g.db.commit()
    return get_rules()
