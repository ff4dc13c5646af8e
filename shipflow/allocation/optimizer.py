"""Allocate a whole batch under capacities and volume commitments with OR-Tools.

Orders are grouped into classes whose key holds everything rules and rate cards look at
(destination, service level, attributes, and each parcel's position between the weight and size
thresholds that any rule or rate card uses), so one representative is scored per class and the
result is exact for rate cards. Classes with the same scored options are merged, so a million
orders make a graph of a few thousand nodes.

Only carrier or service capacities: a min-cost flow (integral, optimal). Commitments, pickup caps
per warehouse or soft capacities: an LP (GLOP) on the merged classes, rounded down and completed
greedily. Orders no option can take are left unassigned with a reason, and every constraint the
plan misses is named in `Plan.unmet`.
"""

from __future__ import annotations

import bisect
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from ortools.graph.python import min_cost_flow
from ortools.linear_solver import pywraplp

from shipflow.allocation.model import Option, Order, Rejection, is_po_box
from shipflow.allocation.rules import (
    DESTINATION_CHECKS,
    RuleConfigError,
    _first,
    _get,
    _unknown,
    billable_weight_g,
    length_plus_girth_mm,
)
from shipflow.allocation.scoring import Score, distance
from shipflow.allocation.service import (
    AllocationContext,
    destination_region,
    evaluate,
    p_late,
    promise_date,
)
from shipflow.domain import CarrierService, Parcel

UNASSIGNED_COST = 10_000_000  # cents per order left out: only when nothing else fits
COMMITMENT_SHORTFALL_COST = 100_000  # cents per order a commitment misses: worth a lot, not all
LP_FIRST_ARCS = 4  # options per group in the first restricted LP


# --- constraints ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Capacity:
    """At most `limit` orders on the options matching carrier/service/warehouse (None = any).

    A hard capacity is never exceeded; a soft one may be, and the plan says by how much.
    """

    limit: int
    carrier: str | None = None
    service: str | None = None  # a service key, "ups:ground"
    warehouse: str | None = None
    hard: bool = True

    @property
    def name(self) -> str:
        what = self.service or self.carrier or "all"
        return f"{what}@{self.warehouse}" if self.warehouse else what

    def matches(self, option: Option) -> bool:
        s = option.service
        return (
            (self.carrier is None or s.carrier == self.carrier)
            and (self.service is None or s.key == self.service)
            and (self.warehouse is None or option.warehouse.code == self.warehouse)
        )


@dataclass(frozen=True)
class Commitment:
    """At least `min_share` of the batch's allocated orders to a carrier (or a service key)."""

    carrier: str
    min_share: float

    @property
    def name(self) -> str:
        return f"commitment {self.carrier}>={self.min_share:.0%}"

    def matches(self, option: Option) -> bool:
        return option.service.carrier == self.carrier or option.service_key == self.carrier


@dataclass(frozen=True)
class Constraints:
    capacities: tuple[Capacity, ...] = ()
    commitments: tuple[Commitment, ...] = ()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "allocation") -> Constraints:
        _unknown(data, ("capacities", "commitments"), where)
        capacities = []
        for i, item in enumerate(_get(data, "capacities", list, where, [])):
            at = f"{where}.capacities[{i}]"
            _unknown(item, ("limit", "carrier", "service", "warehouse", "hard"), at)
            limit = _get(item, "limit", int, at)
            if limit is None or limit < 0:
                raise RuleConfigError(f"{at}.limit: expected a non-negative number of orders")
            capacities.append(
                Capacity(
                    limit,
                    _get(item, "carrier", str, at),
                    _get(item, "service", str, at),
                    _get(item, "warehouse", str, at),
                    _get(item, "hard", bool, at, True),
                )
            )
        commitments = []
        for i, item in enumerate(_get(data, "commitments", list, where, [])):
            at = f"{where}.commitments[{i}]"
            _unknown(item, ("carrier", "min_share"), at)
            share = _get(item, "min_share", (int, float), at)
            carrier = _get(item, "carrier", str, at)
            if not carrier or share is None or not 0 <= share <= 1:
                raise RuleConfigError(f"{at}: expected carrier and min_share between 0 and 1")
            commitments.append(Commitment(carrier, float(share)))
        return cls(tuple(capacities), tuple(commitments))

    @property
    def needs_lp(self) -> bool:
        """Min-cost flow handles a laminar family: per service and per carrier, hard."""
        return bool(self.commitments) or any(
            c.warehouse is not None or not c.hard or (c.carrier is None and c.service is None)
            for c in self.capacities
        )


# --- classes ----------------------------------------------------------------------------------


class Banding:
    """Class keys: everything a rule, a rate card or the estimator can tell apart, and no more.

    A parcel is reduced to its position between every weight/size threshold in use. A
    destination is reduced to its profile: for every option, the destination rules' verdict,
    the rate-card zone and P(late) for each promise date in the batch, plus the lane region.
    """

    def __init__(
        self,
        context: AllocationContext,
        candidates: Sequence[CarrierService],
        promise_dates: Iterable[date],
    ) -> None:
        rules = list(context.rules.services.values())
        cards = list(context.pricer.rate_cards.values())
        self.weight = sorted({r.max_weight_g for r in rules if r.max_weight_g is not None})
        self.side = sorted({r.max_side_mm for r in rules if r.max_side_mm is not None})
        self.girth = sorted(
            {r.max_length_plus_girth_mm for r in rules if r.max_length_plus_girth_mm is not None}
        )
        self.value = sorted(
            {r.max_declared_value_cents for r in rules if r.max_declared_value_cents is not None}
        )
        billable: dict[int | None, set[int]] = defaultdict(set)
        for r in rules:
            if r.max_billable_weight_g is not None:
                billable[r.dim_divisor].add(r.max_billable_weight_g)
        for card in cards:
            billable[card.dim_divisor].update(card.bands_g)
        self.billable = [(d, sorted(edges)) for d, edges in billable.items()]
        self.context = context
        self.options = [Option(w, s) for w in context.warehouses.values() for s in candidates]
        self.promise_dates = sorted(set(promise_dates))
        self._profiles: dict[tuple, int] = {}
        self._profile_of: dict[tuple, int] = {}

    def parcel(self, p: Parcel) -> tuple:
        bl = bisect.bisect_left
        side = max(p.length_mm, p.width_mm, p.height_mm)
        return (
            bl(self.weight, p.weight_g),
            bl(self.side, side),
            bl(self.girth, length_plus_girth_mm(p)),
            *(bl(edges, billable_weight_g(p, d)) for d, edges in self.billable),
        )

    def destination(self, o: Order) -> int:
        d = o.destination
        key = (d.country, d.postal_code, d.state, o.lat, o.lng)
        found = self._profile_of.get(key)
        if found is None:
            profile = self._profile(o)
            found = self._profile_of[key] = self._profiles.setdefault(profile, len(self._profiles))
        return found

    def _profile(self, o: Order) -> tuple:
        ctx, d = self.context, o.destination
        facts: list = [destination_region(d)]
        for option in self.options:
            rules = ctx.rules.for_service(option.service_key)
            verdict = _first(DESTINATION_CHECKS, o, option, rules)
            card = ctx.pricer.rate_cards.get(option.service_key)
            zone = (
                card.zone(option.warehouse.code, d.postal_code, distance(o, option))
                if card
                else None
            )
            lateness = tuple(round(p_late(o, option, ctx, by), 9) for by in self.promise_dates)
            facts.append((verdict and verdict[0], zone, lateness))
        return tuple(facts)

    def order_key(self, o: Order) -> tuple:
        return (tuple(sorted(o.warehouses)), self.shipment_key(o))  # the preference order: no score

    def shipment_key(self, o: Order) -> tuple:
        """The key without the warehouses: an option's verdict and score depend on its own
        warehouse only, so classes sharing this key share each warehouse's scored options."""
        d, a = o.destination, o.attributes
        return (
            self.destination(o),
            d.residential,
            is_po_box(d) if (d.line1 or d.line2) else False,
            o.level,
            o.deliver_by,
            a.cash_on_delivery_cents > 0,
            bisect.bisect_left(self.value, a.declared_value_cents),
            a.hazmat,
            a.signature,
            tuple(self.parcel(p) for p in o.parcels),
        )


@dataclass
class OrderClass:
    """Orders that every rule and score treats alike; `arcs` are (option index, score), best first."""

    orders: list[int]
    arcs: list[tuple[int, Score]]
    rejected: list[Rejection]


def classify(
    orders: Sequence[Order], candidates: Sequence[CarrierService], context: AllocationContext
) -> tuple[list[Option], list[OrderClass]]:
    """Group orders and score one representative per group (exact: see `Banding`)."""
    promise_dates = {promise_date(o, context) for o in _distinct_promises(orders)}
    banding = Banding(context, candidates, promise_dates)
    members: dict[tuple, list[int]] = defaultdict(list)
    for i, order in enumerate(orders):
        members[banding.order_key(order)].append(i)
    options: list[Option] = []
    index: dict[str, int] = {}
    per_warehouse: dict[tuple, tuple[list[tuple[int, Score]], list[Rejection]]] = {}
    classes = []
    for (codes, shipment), indices in members.items():
        order = orders[indices[0]]
        arcs: list[tuple[int, Score]] = []
        rejected: list[Rejection] = []
        for code in codes:
            found = per_warehouse.get((code, shipment))
            if found is None:
                alone = replace(order, warehouses=(code,))
                scored, refused = evaluate(alone, candidates, context)
                found = per_warehouse[(code, shipment)] = ([], refused)
                for option, score in scored:
                    if option.key not in index:
                        index[option.key] = len(options)
                        options.append(option)
                    found[0].append((index[option.key], score))
            arcs.extend(found[0])
            rejected.extend(found[1])
        if len(codes) > 1:
            arcs.sort(key=lambda arc: (arc[1].total, arc[1].option))  # as `evaluate` ranks
        classes.append(OrderClass(indices, arcs, rejected))
    return options, classes


def _distinct_promises(orders: Sequence[Order]) -> list[Order]:
    seen: dict[tuple, Order] = {}
    for o in orders:
        seen.setdefault((o.level, o.deliver_by), o)
    return list(seen.values())


# --- plan -------------------------------------------------------------------------------------


@dataclass
class Plan:
    """A batch's allocation. `choices[order_id] = (option key, runner-up key or None)`."""

    choices: dict[str, tuple[str, str | None]]
    unassigned: dict[str, str]
    volumes: dict[str, int]
    total_cost_cents: int
    objective: float
    bound: float | None
    gap: float | None
    expected_on_time: float
    solver: str
    status: str
    unmet: list[str] = field(default_factory=list)
    classes: int = 0
    groups: int = 0
    seconds: dict[str, float] = field(default_factory=dict)


@dataclass
class _Group:
    """Classes with the same options and rounded scores: interchangeable for the solver."""

    count: int
    arcs: list[tuple[int, int, Score]]  # option index, integer objective, score
    classes: list[OrderClass]


def _groups(classes: Iterable[OrderClass]) -> list[_Group]:
    merged: dict[tuple, _Group] = {}
    for c in classes:
        if not c.arcs:
            continue
        arcs = [(j, round(s.total), s) for j, s in c.arcs]
        key = tuple((j, obj) for j, obj, _ in arcs)
        group = merged.get(key)
        if group is None:
            merged[key] = _Group(len(c.orders), arcs, [c])
        else:
            group.count += len(c.orders)
            group.classes.append(c)
    return list(merged.values())


def _solve_flow(groups: list[_Group], options: list[Option], constraints: Constraints):
    """Class -> (per option arc) service node -> carrier node -> sink, caps on the last two."""
    flow = min_cost_flow.SimpleMinCostFlow()
    services = sorted({o.service.key for o in options})
    carriers = sorted({o.service.carrier for o in options})
    base = len(groups)
    service_node = {s: base + i for i, s in enumerate(services)}
    carrier_node = {c: base + len(services) + i for i, c in enumerate(carriers)}
    sink = base + len(services) + len(carriers)
    total = sum(g.count for g in groups)
    service_cap = {s: total for s in services}
    carrier_cap = {c: total for c in carriers}
    for cap in constraints.capacities:
        if cap.service:
            service_cap[cap.service] = min(service_cap.get(cap.service, total), cap.limit)
        elif cap.carrier:
            carrier_cap[cap.carrier] = min(carrier_cap.get(cap.carrier, total), cap.limit)
    arc_of: list[tuple[int, int, int]] = []  # (arc id, group, option)
    for g, group in enumerate(groups):
        flow.set_node_supply(g, group.count)
        for j, obj, _ in group.arcs:
            arc = flow.add_arc_with_capacity_and_unit_cost(
                g, service_node[options[j].service_key], group.count, obj
            )
            arc_of.append((arc, g, j))
        flow.add_arc_with_capacity_and_unit_cost(g, sink, group.count, UNASSIGNED_COST)
    for s in services:
        carrier = s.split(":", 1)[0]
        flow.add_arc_with_capacity_and_unit_cost(
            service_node[s], carrier_node[carrier], service_cap[s], 0
        )
    for c in carriers:
        flow.add_arc_with_capacity_and_unit_cost(carrier_node[c], sink, carrier_cap[c], 0)
    flow.set_node_supply(sink, -total)
    status = flow.solve()
    if status != flow.OPTIMAL:
        return None, f"min-cost flow status {status}"
    counts: dict[tuple[int, int], float] = {}
    for arc, g, j in arc_of:
        f = flow.flow(arc)
        if f:
            counts[(g, j)] = f
    return counts, "optimal"


def _solve_lp(
    groups: list[_Group], options: list[Option], constraints: Constraints, time_limit_s: float
):
    """The LP by column generation: each group starts with its best few options; any option
    whose reduced cost at the LP's duals is negative joins, until none does (then the
    restricted LP's optimum is the full LP's). Columns join the same model, so GLOP starts
    each re-solve from the previous basis."""
    deadline = time.perf_counter() + time_limit_s
    master = _MasterLP(groups, options, constraints)
    columns = [set(range(min(LP_FIRST_ARCS, len(g.arcs)))) for g in groups]
    for g, ks in enumerate(columns):
        for k in sorted(ks):
            master.add(g, k)
    while True:
        remaining = deadline - time.perf_counter()
        if remaining <= 0:
            return None, None, "time limit hit"
        status = master.solve(remaining)
        if status != "optimal":
            return None, None, status
        group_duals = [r.dual_value() for r in master.group_rows]
        total_duals = [r.dual_value() for r in master.total_rows]
        added = 0
        for g, group in enumerate(groups):
            for k, (j, obj, _) in enumerate(group.arcs):
                if k not in columns[g] and obj - group_duals[g] - total_duals[j] < -1e-6:
                    columns[g].add(k)
                    master.add(g, k)
                    added += 1
        if not added:
            counts = {(g, j): x.solution_value() for x, g, j in master.variables}
            counts = {key: v for key, v in counts.items() if v > 1e-9}
            return counts, master.objective.Value(), status


class _MasterLP:
    """x[g, j] orders of group g on option j; side constraints on option totals.

    Each x sits in two sparse rows (its group, its option's total), which keeps GLOP fast.
    """

    def __init__(self, groups: list[_Group], options: list[Option], constraints: Constraints):
        self.groups = groups
        solver = self.solver = pywraplp.Solver.CreateSolver("GLOP")
        inf = solver.infinity()
        self.objective = solver.Objective()
        totals = [solver.NumVar(0, inf, "") for _ in options]
        self.total_rows = []
        for v in totals:
            row = solver.Constraint(0, 0)
            row.SetCoefficient(v, -1)
            self.total_rows.append(row)
        for cap in constraints.capacities:
            row = solver.Constraint(-inf, cap.limit)
            if not cap.hard:
                row.SetCoefficient(self._penalized(COMMITMENT_SHORTFALL_COST), -1)
            for j, option in enumerate(options):
                if cap.matches(option):
                    row.SetCoefficient(totals[j], 1)
        for commitment in constraints.commitments:  # on carrier - share * all + short >= 0
            row = solver.Constraint(0, inf)
            row.SetCoefficient(self._penalized(COMMITMENT_SHORTFALL_COST), 1)
            for j, option in enumerate(options):
                row.SetCoefficient(
                    totals[j], (1 if commitment.matches(option) else 0) - commitment.min_share
                )
        self.group_rows = []
        for group in groups:
            row = solver.Constraint(group.count, group.count)
            row.SetCoefficient(self._penalized(UNASSIGNED_COST), 1)
            self.group_rows.append(row)
        self.variables: list[tuple[Any, int, int]] = []
        self.objective.SetMinimization()

    def _penalized(self, cost: int):
        slack = self.solver.NumVar(0, self.solver.infinity(), "")
        self.objective.SetCoefficient(slack, cost)
        return slack

    def add(self, g: int, k: int) -> None:
        j, obj, _ = self.groups[g].arcs[k]
        x = self.solver.NumVar(0, self.solver.infinity(), "")
        self.group_rows[g].SetCoefficient(x, 1)
        self.total_rows[j].SetCoefficient(x, 1)
        self.objective.SetCoefficient(x, obj)
        self.variables.append((x, g, j))

    def solve(self, time_limit_s: float) -> str:
        self.solver.SetTimeLimit(int(time_limit_s * 1000))
        status = self.solver.Solve()
        if status == pywraplp.Solver.OPTIMAL:
            return "optimal"
        return "time limit hit" if status == pywraplp.Solver.NOT_SOLVED else f"LP status {status}"


class _Ledger:
    """Remaining room on every capacity, per option; soft capacities only count."""

    def __init__(self, options: list[Option], constraints: Constraints, respect: bool) -> None:
        self.caps = list(constraints.capacities)
        self.room = [c.limit for c in self.caps]
        self.used = [0] * len(self.caps)
        self.of_option = [[k for k, c in enumerate(self.caps) if c.matches(o)] for o in options]
        self.respect = respect

    def fits(self, j: int, n: int = 1) -> int:
        """How many of n more orders option j can take."""
        if not self.respect:
            return n
        for k in self.of_option[j]:
            if self.caps[k].hard:
                n = min(n, self.room[k] - self.used[k])
        return max(n, 0)

    def take(self, j: int, n: int) -> None:
        for k in self.of_option[j]:
            self.used[k] += n

    def full(self, arcs: Iterable[int]) -> list[str]:
        names = {self.caps[k].name for j in arcs for k in self.of_option[j] if self.caps[k].hard}
        return sorted(n for n in names if self._is_full(n))

    def _is_full(self, name: str) -> bool:
        return any(c.name == name and self.used[k] >= c.limit for k, c in enumerate(self.caps))

    def overruns(self) -> list[str]:
        return [
            f"capacity {c.name} {c.limit} exceeded by {self.used[k] - c.limit}"
            for k, c in enumerate(self.caps)
            if self.used[k] > c.limit
        ]


def _expand(
    orders: Sequence[Order],
    groups: list[_Group],
    counts: Mapping[tuple[int, int], float],
    options: list[Option],
    constraints: Constraints,
    unfit: Mapping[str, str],
    *,
    rank_by_cost: bool = False,
    respect: bool = True,
) -> tuple[dict, dict, _Ledger, list[tuple[int, Score]]]:
    """Integral plan: the solver's counts rounded down, then the rest greedily (best arc with room)."""
    ledger = _Ledger(options, constraints, respect)
    choices: dict[str, tuple[str, str | None]] = {}
    unassigned = dict(unfit)
    taken: list[tuple[int, Score]] = []
    pending: list[tuple[float, list[int], list]] = []
    for g, group in enumerate(groups):
        arcs = sorted(group.arcs, key=lambda a: (a[2].cost_cents, a[1]) if rank_by_cost else a[1])
        queue = [i for c in group.classes for i in c.orders]
        for j, _, score in arcs:
            n = ledger.fits(j, int(counts.get((g, j), 0) + 1e-6))
            runner = _runner_up(arcs, j, options)
            for i in queue[:n]:
                choices[orders[i].id] = (options[j].key, runner)
                taken.append((j, score))
            ledger.take(j, n)
            queue = queue[n:]
        if queue:
            regret = arcs[1][1] - arcs[0][1] if len(arcs) > 1 else float("inf")
            pending.append((regret, queue, arcs))
    pending.sort(key=lambda p: -p[0])  # greedy completion: the costliest to move first
    for _, queue, arcs in pending:
        for i in queue:
            for j, _, score in arcs:
                if ledger.fits(j):
                    ledger.take(j, 1)
                    choices[orders[i].id] = (options[j].key, _runner_up(arcs, j, options))
                    taken.append((j, score))
                    break
            else:
                full = ledger.full(j for j, _, _ in arcs)
                unassigned[orders[i].id] = "no capacity left on its options: " + ", ".join(full)
    return choices, unassigned, ledger, taken


def _runner_up(arcs: list, chosen: int, options: list[Option]) -> str | None:
    return next((options[j].key for j, _, _ in arcs if j != chosen), None)


def _unfit(
    orders: Sequence[Order], classes: list[OrderClass], candidates, context
) -> dict[str, str]:
    """Orders no option may carry, each with its own rejections (texts name its address)."""
    out = {}
    for c in classes:
        if not c.arcs:
            for i in c.orders:
                _, rejected = evaluate(orders[i], candidates, context)
                out[orders[i].id] = "no option left: " + "; ".join(str(r) for r in rejected[:4])
    return out


def optimize(
    orders: Sequence[Order],
    candidates: Sequence[CarrierService],
    context: AllocationContext,
    constraints: Constraints = Constraints(),
    time_limit_s: float = 10.0,
) -> Plan:
    """The cheapest plan (cost + lambda * expected lateness + penalties) that meets the constraints.

    Never raises for an infeasible batch: the plan is completed greedily and says what it missed.
    """
    t0 = time.perf_counter()
    options, classes = classify(orders, candidates, context)
    groups = _groups(classes)
    t1 = time.perf_counter()
    bound: float | None = None
    if constraints.needs_lp:
        counts, bound, status = _solve_lp(groups, options, constraints, time_limit_s)
        solver = "glop"
    else:
        counts, status = _solve_flow(groups, options, constraints)
        solver = "min_cost_flow"
    t2 = time.perf_counter()
    if counts is None:
        solver, counts = f"greedy ({solver}: {status})", {}
    plan = _plan(
        orders,
        groups,
        counts,
        options,
        constraints,
        _unfit(orders, classes, candidates, context),
        solver,
        status,
    )
    if bound is None and counts and solver == "min_cost_flow":
        bound = plan.objective  # the flow is integral and optimal
    if bound is not None:
        plan.bound = bound
        plan.gap = (plan.objective - bound) / abs(plan.objective) if plan.objective else 0.0
    plan.classes, plan.groups = len(classes), len(groups)
    plan.seconds = {
        "classify": t1 - t0,
        "solve": t2 - t1,
        "expand": time.perf_counter() - t2,
        "total": time.perf_counter() - t0,
    }
    return plan


def greedy(
    orders: Sequence[Order],
    candidates: Sequence[CarrierService],
    context: AllocationContext,
    constraints: Constraints = Constraints(),
    *,
    respect_capacities: bool = True,
) -> Plan:
    """Baseline: each order, in arrival order, to its cheapest serviceable option (with room)."""
    t0 = time.perf_counter()
    options, classes = classify(orders, candidates, context)
    by_class = [c for c in classes if c.arcs]
    for c in by_class:
        c.arcs.sort(key=lambda a: (a[1].cost_cents, a[1].total))
    arrival = sorted(((i, c) for c in by_class for i in c.orders), key=lambda pair: pair[0])
    ledger = _Ledger(options, constraints, respect_capacities)
    choices, taken = {}, []
    unassigned = _unfit(orders, classes, candidates, context)
    for i, c in arrival:
        for j, score in c.arcs:
            if ledger.fits(j):
                ledger.take(j, 1)
                runner = next((options[k].key for k, _ in c.arcs if k != j), None)
                choices[orders[i].id] = (options[j].key, runner)
                taken.append((j, score))
                break
        else:
            full = ledger.full(j for j, _ in c.arcs)
            unassigned[orders[i].id] = "no capacity left on its options: " + ", ".join(full)
    plan = _summary(
        choices, unassigned, ledger, taken, options, constraints, "greedy cheapest", "done"
    )
    plan.classes = len(classes)
    plan.seconds = {"total": time.perf_counter() - t0}
    return plan


def _plan(orders, groups, counts, options, constraints, unfit, solver, status) -> Plan:
    choices, unassigned, ledger, taken = _expand(
        orders, groups, counts, options, constraints, unfit
    )
    return _summary(choices, unassigned, ledger, taken, options, constraints, solver, status)


def _summary(choices, unassigned, ledger, taken, options, constraints, solver, status) -> Plan:
    volumes: dict[str, int] = defaultdict(int)
    by_carrier: dict[str, int] = defaultdict(int)
    cost, objective, late = 0, 0.0, 0.0
    for j, score in taken:
        volumes[options[j].key] += 1
        by_carrier[options[j].service.carrier] += 1
        cost += score.cost_cents
        objective += round(score.total)
        late += score.p_late
    assigned = len(taken)
    objective += UNASSIGNED_COST * sum(
        1 for r in unassigned.values() if r.startswith("no capacity")
    )
    unmet = ledger.overruns()
    for c in constraints.commitments:
        got = sum(v for k, v in volumes.items() if c.matches(_option_of(k, options)))
        share = got / assigned if assigned else 0.0
        if share + 1e-9 < c.min_share:
            unmet.append(f"{c.name}: got {share:.1%}")
            objective += COMMITMENT_SHORTFALL_COST * (c.min_share * assigned - got)
    left = sum(1 for r in unassigned.values() if r.startswith("no capacity"))
    if left:
        unmet.append(f"{left} orders unassigned: capacities full")
    return Plan(
        choices=choices,
        unassigned=unassigned,
        volumes=dict(volumes),
        total_cost_cents=cost,
        objective=objective,
        bound=None,
        gap=None,
        expected_on_time=1 - late / assigned if assigned else 0.0,
        solver=solver,
        status=status,
        unmet=unmet,
    )


def _option_of(key: str, options: list[Option]) -> Option:
    return next(o for o in options if o.key == key)
