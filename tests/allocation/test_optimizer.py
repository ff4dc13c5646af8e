from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shipflow.allocation import optimizer
from shipflow.allocation.constraints import Capacity, Commitment, Constraints
from shipflow.allocation.optimizer import greedy, optimize
from shipflow.allocation.rules import RuleConfigError
from shipflow.allocation.service import evaluate
from shipflow.domain import ServiceLevel
from tests.allocation.factories import (
    AUSTIN,
    FEDEX,
    NEWARK,
    SERVICES,
    UPS,
    UPS_AIR,
    USPS,
    WAREHOUSES,
    context,
    option,
    order,
)

# PO-box orders can only go USPS (700) or by air (2000); street addresses USPS (700) or UPS (900).
PO_BOX_RULES = {"services": {"usps:ground_advantage": {"po_box": True}, "ups:2nd_day_air": {"po_box": True}}}  # fmt: skip
USPS_CAP_2 = Constraints((Capacity(2, service="usps:ground_advantage"),))


def known_batch():
    street = [order(f"s{i}") for i in range(2)]
    boxes = [order(f"b{i}", line1="PO Box 9") for i in range(2)]
    return street + boxes  # street orders arrive first: greedy gives them USPS


def test_optimizer_beats_greedy_on_a_known_optimum():
    ctx = context(PO_BOX_RULES, lam=0)
    batch = known_batch()
    base = greedy(batch, [UPS, USPS, UPS_AIR], ctx, USPS_CAP_2)
    plan = optimize(batch, [UPS, USPS, UPS_AIR], ctx, USPS_CAP_2)
    assert base.total_cost_cents == 700 + 700 + 2000 + 2000
    assert plan.total_cost_cents == 700 + 700 + 900 + 900  # the optimum
    assert plan.solver == "min_cost_flow" and plan.gap == 0
    assert plan.choices["b0"] == ("usps:ground_advantage@EWR", "ups:2nd_day_air@EWR")
    assert plan.choices["s0"] == ("ups:ground@EWR", "usps:ground_advantage@EWR")


def test_lp_path_reaches_the_same_optimum_with_a_bound():
    ctx = context(PO_BOX_RULES, lam=0)
    constraints = Constraints(USPS_CAP_2.capacities, (Commitment("ups", 0.25),))
    plan = optimize(known_batch(), [UPS, USPS, UPS_AIR], ctx, constraints)
    assert plan.solver == "glop" and plan.total_cost_cents == 3200
    assert plan.bound == pytest.approx(3200) and plan.gap == pytest.approx(0, abs=1e-9)
    assert plan.unmet == []


def test_conflicting_commitment_and_capacity_give_a_full_plan_naming_the_miss():
    ctx = context(lam=0)
    constraints = Constraints(
        (Capacity(1, carrier="fedex"), Capacity(2, service="ups:ground")),
        (Commitment("fedex", 0.6),),
    )
    batch = [order(f"o{i}") for i in range(5)]
    plan = optimize(batch, [UPS, FEDEX], ctx, constraints)
    assert plan.volumes == {"fedex:ground@EWR": 1, "ups:ground@EWR": 2}
    assert set(plan.unassigned) == {"o3", "o4"} or len(plan.unassigned) == 2
    assert all("no capacity left" in why and "fedex" in why for why in plan.unassigned.values())
    assert "commitment fedex>=60%: got 33.3%" in plan.unmet
    assert "2 orders unassigned: capacities full" in plan.unmet
    assert len(plan.choices) + len(plan.unassigned) == len(batch)


def test_soft_capacity_may_be_exceeded_and_says_by_how_much():
    plan = optimize(
        [order(f"o{i}") for i in range(3)],
        [UPS],
        context(),
        Constraints((Capacity(1, service="ups:ground", hard=False),)),
    )
    assert len(plan.choices) == 3
    assert plan.unmet == ["capacity ups:ground 1 exceeded by 2"]


def test_solver_failure_falls_back_to_a_greedy_plan(monkeypatch):
    monkeypatch.setattr(optimizer, "_solve_lp", lambda *a: (None, None, "time limit hit"))
    constraints = Constraints((), (Commitment("fedex", 0.5),))
    plan = optimize([order(f"o{i}") for i in range(4)], [UPS, FEDEX], context(lam=0), constraints)
    assert plan.solver == "greedy (glop: time limit hit)" and plan.gap is None
    assert len(plan.choices) == 4 and plan.unmet == ["commitment fedex>=50%: got 0.0%"]


def test_orders_nothing_can_carry_are_listed_with_their_own_reasons():
    batch = [order("ok"), order("heavy", kg=40), order("heavy2", kg=45)]
    rules = {"services": {"ups:ground": {"max_weight_kg": 31.5}}}
    plan = optimize(batch, [UPS], context(rules), Constraints())
    assert list(plan.choices) == ["ok"]
    assert "parcel 40.0 kg > 31.5 kg" in plan.unassigned["heavy"]
    assert "parcel 45.0 kg > 31.5 kg" in plan.unassigned["heavy2"]


def test_greedy_ignoring_capacities_reports_overruns():
    plan = greedy(
        [order(f"o{i}") for i in range(3)],
        [UPS, USPS],
        context(),
        USPS_CAP_2,
        respect_capacities=False,
    )
    assert plan.unmet == ["capacity usps:ground_advantage 2 exceeded by 1"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"capacities": [{"carrier": "ups"}]}, "capacities[0].limit: expected a non-negative"),
        ({"capacities": [{"limit": 5, "carier": "ups"}]}, "unknown key(s) carier"),
        ({"commitments": [{"carrier": "ups", "min_share": 30}]}, "min_share between 0 and 1"),
    ],
)
def test_constraints_from_dict_errors(data, message):
    with pytest.raises(RuleConfigError) as error:
        Constraints.from_dict(data)
    assert message in str(error.value)


RULES = {
    "services": {
        "ups:ground": {"max_weight_kg": 20, "max_side_cm": 60},
        "fedex:ground": {"max_weight_kg": 10, "postal_ranges": [["07000", "07999"]]},
        "usps:ground_advantage": {"max_length_plus_girth_cm": 150, "po_box": True},
        "ups:2nd_day_air": {"max_weight_kg": 30, "signature": False},
    }
}
orders_strategy = st.lists(
    st.builds(
        order,
        place=st.sampled_from([NEWARK, AUSTIN]),
        kg=st.floats(0.1, 35).map(lambda x: round(x, 1)),
        box=st.sampled_from([(300, 200, 100), (700, 300, 300), (500, 500, 400)]),
        warehouses=st.sampled_from([("EWR",), ("DFW",), ("EWR", "DFW")]),
        level=st.sampled_from([ServiceLevel.STANDARD, ServiceLevel.EXPRESS]),
        line1=st.sampled_from(["1 Main St", "PO Box 4"]),
        signature=st.booleans(),
    ),
    min_size=1,
    max_size=30,
)
caps_strategy = st.lists(
    st.builds(Capacity, st.integers(0, 12), service=st.sampled_from([s.key for s in SERVICES])),
    max_size=3,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(orders_strategy, caps_strategy, st.floats(0, 0.6), st.booleans())
def test_plans_respect_rules_and_hard_capacities(batch, caps, share, commit):
    batch = [o.__class__(**{**_fields(o), "id": f"o{i}"}) for i, o in enumerate(batch)]
    ctx = context(RULES)
    constraints = Constraints(tuple(caps), (Commitment("ups", share),) if commit else ())
    plan = optimize(batch, SERVICES, ctx, constraints)
    by_key = {option(s, w).key: option(s, w) for s in SERVICES for w in WAREHOUSES.values()}
    for o in batch:
        assert (o.id in plan.choices) != (o.id in plan.unassigned)  # never a silent partial plan
        if o.id in plan.choices:
            chosen = by_key[plan.choices[o.id][0]]
            assert chosen.warehouse.code in o.warehouses
            assert ctx.rules.check(o, chosen) is None
    used = Counter(plan.choices[o][0] for o in plan.choices)
    for cap in caps:
        assert sum(n for key, n in used.items() if cap.matches(by_key[key])) <= cap.limit


def _fields(o):
    return {name: getattr(o, name) for name in o.__dataclass_fields__}


def test_classes_score_like_evaluate_when_warehouse_scores_are_shared():
    """Classes reuse each warehouse's scored options across warehouse sets; the ranking and the
    rejections must be the ones `evaluate` gives the order itself."""
    ctx = context({"services": {"usps:ground_advantage": {"po_box": False}}})
    batch = [
        order("a", warehouses=("EWR",)),
        order("b", warehouses=("DFW", "EWR")),
        order("c", warehouses=("EWR", "DFW")),
        order("d", place=AUSTIN, warehouses=("EWR", "DFW")),
        order("e", line1="PO Box 9", warehouses=("DFW", "XXX", "EWR")),
    ]
    options, classes = optimizer.classify(batch, SERVICES, ctx)
    assert sorted(c.orders for c in classes) == [[0], [1, 2], [3], [4]]  # b, c: same warehouses
    for c in classes:
        for i in c.orders:
            scored, rejected = evaluate(batch[i], SERVICES, ctx)
            assert [(options[j].key, s) for j, s in c.arcs] == [(o.key, s) for o, s in scored]
            assert sorted(map(str, c.rejected)) == sorted(map(str, rejected))
