from datetime import date

from shipflow.allocation.scoring import LanePerformance, Outcome
from shipflow.allocation.service import allocate
from shipflow.domain import ServiceLevel
from tests.allocation.factories import (
    AUSTIN,
    FEDEX,
    SERVICES,
    UPS,
    UPS_AIR,
    USPS,
    context,
    order,
)


def test_cheapest_serviceable_wins_and_runner_up_is_kept():
    rules = {"services": {"usps:ground_advantage": {"max_weight_kg": 1}}}
    result = allocate(order(kg=2), [UPS, FEDEX, USPS], context(rules, lam=0))
    assert result.chosen.option == "ups:ground@EWR" and result.chosen.cost_cents == 900
    assert result.runner_up.option == "fedex:ground@EWR"
    assert [str(r) for r in result.rejected] == [
        "usps:ground_advantage@EWR rejected by max_weight: parcel 2.0 kg > 1.0 kg"
    ]
    assert result.chosen.explain().startswith("ups:ground@EWR: 9.00 = cost 9.00 (zone 1)")


def test_lateness_moves_the_choice_from_cheap_to_reliable():
    far = order(place=AUSTIN)  # Edison -> Austin: ground needs 3-5 business days
    cheap = allocate(far, [UPS, FEDEX], context(lam=0))
    careful = allocate(far, [UPS, FEDEX], context(lam=5))
    assert cheap.chosen.option == "fedex:ground@EWR"  # 1250 < 1300
    assert careful.chosen.p_late <= cheap.chosen.p_late
    assert careful.chosen.lateness_cents == 5 * careful.chosen.p_late * 1000


def test_nearer_warehouse_and_express_level():
    result = allocate(
        order(place=AUSTIN, warehouses=("EWR", "DFW"), level=ServiceLevel.EXPRESS),
        SERVICES,
        context(lam=1),
    )
    assert result.chosen.option == "ups:2nd_day_air@DFW"
    assert {r.rule for r in result.rejected} == {"service_level"}
    assert result.expected_by is not None and result.chosen.promise_date == date(2026, 11, 25)


def test_performance_penalty_and_preference_are_in_the_breakdown():
    history = [Outcome("ups:ground", "EWR", "northeast", on_time=True, rto=True)] * 20
    ctx = context({"prefer": {"fedex": 30}}, lam=0, performance=LanePerformance.learn(history))
    result = allocate(order(), [UPS, FEDEX], ctx)
    ups = next(s for s in result.ranked if s.option == "ups:ground@EWR")
    assert ups.performance_cents > 0
    fedex = next(s for s in result.ranked if s.option == "fedex:ground@EWR")
    assert (
        fedex.preference_cents == 30
        and fedex.total == fedex.cost_cents + fedex.performance_cents - 30
    )


def test_no_option_left_says_why():
    result = allocate(order(hazmat=True), [UPS, UPS_AIR], context())
    assert result.chosen is None and result.runner_up is None
    assert "rejected by hazmat" in result.reason


def test_deadline_rejects_options_likely_late():
    result = allocate(order(place=AUSTIN, deliver_by=date(2026, 11, 25)), [UPS, UPS_AIR], context())
    assert result.chosen.option == "ups:2nd_day_air@EWR"
    assert [r.rule for r in result.rejected] == ["deadline"]
