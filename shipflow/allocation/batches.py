"""Batch allocation of a brand's orders, run by the job runner: the request is stored first
(queued), so a lost submission or a crashed worker only delays the plan, never loses it."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from shipflow.allocation.constraints import Constraints
from shipflow.allocation.optimizer import optimize
from shipflow.allocation.rules import RuleConfigError
from shipflow.allocation.service import NotAllocated
from shipflow.store.allocation_models import AllocationBatch
from shipflow.store.models import Brand, Order

if TYPE_CHECKING:
    from shipflow.runtime import Runtime

log = logging.getLogger(__name__)

# Ids per IN list: under PostgreSQL's 65,535 bind parameters a statement and SQLite's 32,766.
IDS_PER_QUERY = 10_000


def brand_orders(session: Session, brand_id: str, order_ids: Sequence[str]) -> list[Order]:
    """The brand's orders among `order_ids` (with their lines), however many ids a batch has."""
    orders: list[Order] = []
    for start in range(0, len(order_ids), IDS_PER_QUERY):
        chunk = order_ids[start : start + IDS_PER_QUERY]
        orders += session.scalars(
            select(Order)
            .where(Order.brand_id == brand_id, Order.id.in_(chunk))
            .options(selectinload(Order.lines))
        ).all()
    return orders


def queue_batch(session: Session, brand_id: str, request: dict) -> AllocationBatch:
    """Store the batch request, queued (not committed); raises RuleConfigError naming the
    constraint that is wrong. Submit `allocation.run_batch` once it commits."""
    Constraints.from_dict(request.get("constraints") or {}, "constraints")
    batch = AllocationBatch(brand_id=brand_id, request=request, result={})
    session.add(batch)
    session.flush()
    return batch


def solve(runtime: Runtime, batch: AllocationBatch) -> dict:
    """The plan of one batch as JSON."""
    with runtime.sessions() as session:
        brand_code = session.get_one(Brand, batch.brand_id).code
        fulfilment = runtime.fulfilment(brand_code)
        orders = brand_orders(session, batch.brand_id, batch.request["order_ids"])
        context = fulfilment.context(session, batch.brand_id)
    if batch.request.get("lateness_lambda") is not None:
        lateness_lambda = float(batch.request["lateness_lambda"])
        context.weights = replace(context.weights, lateness_lambda=lateness_lambda)
    wanted = [fulfilment.allocation_order(o) for o in orders]
    found = {o.id for o in orders}
    missing = [i for i in batch.request["order_ids"] if i not in found]
    constraints = Constraints.from_dict(batch.request.get("constraints") or {}, "constraints")
    plan = optimize(
        wanted, fulfilment.label_services, context, constraints, batch.request["time_limit_s"]
    )
    unassigned = dict(plan.unassigned) | {
        i: "no order with this id for your brand" for i in missing
    }
    return {
        "solver": plan.solver,
        "solver_status": plan.status,
        "total_cost_cents": plan.total_cost_cents,
        "objective": plan.objective,
        "bound": plan.bound,
        "gap": plan.gap,
        "expected_on_time": plan.expected_on_time,
        "volumes": plan.volumes,
        "unmet": plan.unmet,
        "unassigned": unassigned,
        "orders": [
            {"order_id": order_id, "choice": choice, "runner_up": runner_up}
            for order_id, (choice, runner_up) in sorted(plan.choices.items())
        ],
        "seconds": plan.seconds,
    }


def run_batch(runtime: Runtime, batch_id: str) -> int:
    """Claim a queued batch and solve it; returns 1 if this call solved it."""
    with runtime.sessions() as session:
        batch = session.get(AllocationBatch, batch_id)
        if batch is None or batch.status != "queued":
            return 0
        batch.status, batch.started_at = "running", runtime.clock.now()
        session.commit()
        try:
            batch.result = solve(runtime, batch)
            batch.status = "done"
        except Exception as exc:  # the batch says why; nothing else depends on it
            log.exception("allocation batch %s failed", batch_id)
            batch.status, batch.error = "failed", failure_message(exc)
        batch.finished_at = runtime.clock.now()
        session.commit()
    return 1


def failure_message(exc: Exception) -> str:
    """What the batch's owner reads: our own explanations, never SQL, parameters or a
    traceback (those go to the log, under the batch id)."""
    if isinstance(exc, RuleConfigError | NotAllocated):
        return str(exc)[:500]
    return "the batch could not be planned because of an internal error; it is logged under this batch's id"


def queued_batches(runtime: Runtime) -> int:
    """Batches whose immediate submission was lost (restart, broker outage)."""
    with runtime.sessions() as session:
        ids = list(
            session.scalars(select(AllocationBatch.id).where(AllocationBatch.status == "queued"))
        )
    return sum(run_batch(runtime, batch_id) for batch_id in ids)
