"""Allocate one order: rules reject, scores rank, the best option wins and the next is kept."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from shipflow.allocation.model import Option, Order, Rejection
from shipflow.allocation.rules import BrandRules
from shipflow.allocation.scoring import (
    LanePerformance,
    Pricer,
    Score,
    ScoringWeights,
    TransitEstimator,
    add_business_days,
    destination_location,
    origin_location,
)
from shipflow.domain import CarrierService, Warehouse

MAX_PROMISE_DAYS = 15


@dataclass
class AllocationContext:
    """Everything allocation needs besides the order: the brand's rules, prices and models."""

    warehouses: Mapping[str, Warehouse]
    rules: BrandRules
    pricer: Pricer
    estimator: TransitEstimator
    ship_date: date
    weights: ScoringWeights = field(default_factory=ScoringWeights)
    performance: LanePerformance | None = None
    promise_confidence: float = 0.95


@dataclass(frozen=True)
class Allocation:
    """The decision for one order. `chosen` is None when every option was rejected."""

    order_id: str
    chosen: Score | None
    runner_up: Score | None
    rejected: tuple[Rejection, ...]
    ranked: tuple[Score, ...]
    expected_by: date | None = None  # earliest date the chosen option meets the confidence

    @property
    def reason(self) -> str:
        if self.chosen:
            return self.chosen.explain()
        return "no option left: " + "; ".join(str(r) for r in self.rejected)


def options_for(
    order: Order, candidates: Sequence[CarrierService], context: AllocationContext
) -> tuple[list[Option], list[Rejection]]:
    options, missing = [], []
    for code in order.warehouses:
        warehouse = context.warehouses.get(code)
        if warehouse is None:
            missing.append(Rejection(code, "warehouse", f"unknown warehouse {code}"))
            continue
        options.extend(Option(warehouse, service) for service in candidates)
    return options, missing


def promise_date(order: Order, context: AllocationContext) -> date:
    if order.deliver_by is not None:
        return order.deliver_by
    return add_business_days(context.ship_date, context.weights.promise_days[order.level])


def p_late(order: Order, option: Option, context: AllocationContext, by: date) -> float:
    return context.estimator.p_late(
        option.service.key,
        origin_location(option),
        destination_location(order),
        context.ship_date,
        by,
    )


def score(order: Order, option: Option, context: AllocationContext) -> Score | Rejection:
    """The option's score, or a `rate` rejection when nothing prices it."""
    cents, how = context.pricer.price(order, option)
    if cents is None:
        return Rejection(option.key, "rate", how)
    by = promise_date(order, context)
    p = p_late(order, option, context, by)
    w = context.weights
    performance = 0.0
    if context.performance is not None:
        rates = context.performance.rates(
            option.service.key, option.warehouse.code, order.destination.state
        )
        performance = sum(w.penalty_cents.get(m, 0) * share for m, share in rates.items())
    return Score(
        option=option.key,
        cost_cents=cents,
        p_late=p,
        lateness_cents=w.lateness_lambda * p * w.late_cost_cents,
        performance_cents=performance,
        preference_cents=context.rules.bonus_cents(option),
        promise_date=by,
        priced_by=how,
    )


def evaluate(
    order: Order, candidates: Sequence[CarrierService], context: AllocationContext
) -> tuple[list[tuple[Option, Score]], list[Rejection]]:
    """Every option for the order: the scored ones best first, and the rejected ones with why."""
    options, rejected = options_for(order, candidates, context)
    by = promise_date(order, context)
    accepted, refused = context.rules.evaluate(
        order, options, lambda o: p_late(order, o, context, by)
    )
    rejected.extend(refused)
    scored = []
    for option in accepted:
        result = score(order, option, context)
        if isinstance(result, Rejection):
            rejected.append(result)
        else:
            scored.append((option, result))
    scored.sort(key=lambda pair: (pair[1].total, pair[1].option))
    return scored, rejected


def expected_by(order: Order, option: Option, context: AllocationContext) -> date | None:
    """The earliest date this option reaches the promise confidence (None beyond the horizon)."""
    allowed = 1 - context.promise_confidence
    for days in range(MAX_PROMISE_DAYS + 1):
        day = add_business_days(context.ship_date, days)
        if p_late(order, option, context, day) <= allowed:
            return day
    return None


def allocate(
    order: Order, candidates: Sequence[CarrierService], context: AllocationContext
) -> Allocation:
    scored, rejected = evaluate(order, candidates, context)
    best = scored[0] if scored else None
    return Allocation(
        order_id=order.id,
        chosen=best[1] if best else None,
        runner_up=scored[1][1] if len(scored) > 1 else None,
        rejected=tuple(rejected),
        ranked=tuple(s for _, s in scored),
        expected_by=expected_by(order, best[0], context) if best else None,
    )
