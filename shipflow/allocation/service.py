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
from shipflow.domain import Address, CarrierService, Warehouse
from shipflow.geo import US_CENSUS_REGIONS

MAX_PROMISE_DAYS = 15
MEMO_LIMIT = 500_000
_MISSING = object()


class NotAllocated(Exception):
    """No warehouse and carrier can ship the order; the message names every rejection."""


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
    _memo: dict = field(default_factory=dict, repr=False)

    def memo(self, key: tuple, compute):
        """Remember pure look-ups (promises, P(late), lane rates) shared by many orders."""
        value = self._memo.get(key, _MISSING)
        if value is _MISSING:
            if len(self._memo) > MEMO_LIMIT:
                self._memo.clear()
            value = self._memo[key] = compute()
        return value


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
        options.extend(
            context.memo(
                ("options", code, tuple(candidates)),
                lambda w=warehouse: [Option(w, service) for service in candidates],
            )
        )
    return options, missing


def destination_region(address: Address) -> str:
    """The lane's destination end: a US census region (enough history per lane), else the state."""
    if address.country == "US":
        return US_CENSUS_REGIONS.get(address.state, address.state)
    return f"{address.country}:{address.state}" if address.state else address.country


def promise_date(order: Order, context: AllocationContext) -> date:
    if order.deliver_by is not None:
        return order.deliver_by
    days = context.weights.promise_days[order.level]
    return context.memo(("promise", days), lambda: add_business_days(context.ship_date, days))


def p_late(order: Order, option: Option, context: AllocationContext, by: date) -> float:
    d = order.destination
    key = ("p_late", option.key, d.country, d.postal_code, d.state, order.lat, order.lng, by)
    return context.memo(
        key,
        lambda: context.estimator.p_late(
            option.service_key,
            origin_location(option),
            destination_location(order),
            context.ship_date,
            by,
        ),
    )


def score(order: Order, option: Option, context: AllocationContext) -> Score | Rejection:
    """The option's score, or a `rate` rejection when nothing prices it."""
    cents, how = context.pricer.price(order, option, context.memo)
    if cents is None:
        return Rejection(option.key, "rate", how)
    by = promise_date(order, context)
    p = p_late(order, option, context, by)
    w = context.weights
    performance = 0.0
    if context.performance is not None:
        lane = (option.service_key, option.warehouse.code, destination_region(order.destination))
        rates = context.memo(("lane",) + lane, lambda: context.performance.rates(*lane))
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
        order, options, lambda o: p_late(order, o, context, by), context.memo
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
