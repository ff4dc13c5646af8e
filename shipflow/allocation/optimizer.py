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

import time
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ortools.graph.python import min_cost_flow
from ortools.linear_solver import pywraplp

from shipflow.allocation.classes import OrderClass, classify
from shipflow.allocation.constraints import UNCONSTRAINED, Constraints
from shipflow.allocation.model import Option, Order
from shipflow.allocation.scoring import Score
from shipflow.allocation.service import AllocationContext, evaluate
from shipflow.domain import CarrierService

UNASSIGNED_COST = 10_000_000  # cents per order left out: only when nothing else fits
COMMITMENT_SHORTFALL_COST = 100_000  # cents per order a commitment misses: worth a lot, not all
LP_FIRST_ARCS = 4  # options per group in the first restricted LP


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
    constraints: Constraints = UNCONSTRAINED,
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
    constraints: Constraints = UNCONSTRAINED,
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
