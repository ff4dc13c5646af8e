"""Delivery-date distributions: the window and the promise a padding rate chooses."""

import math
from datetime import date

import pytest

from shipflow.edd.calibration import calibration_from
from shipflow.edd.dates import date_pmf
from shipflow.edd.engine import Levels


def test_window_is_the_shortest_span_holding_the_mass():
    days = [date(2026, 11, d) for d in (23, 24, 25, 26, 27)]
    dates = date_pmf(dict(zip(days, [0.02, 0.85, 0.08, 0.03, 0.02], strict=True)))
    assert dates.window(0.90) == (days[1], days[2])  # not the symmetric 5 %..95 % span
    assert dates.window(0.99) == (days[0], days[4])
    assert dates.window(0.5) == (days[1], days[1])


# Friday 27 Nov 2026, then Monday 30 Nov .. Wednesday 2 Dec: a weekend lies between.
FRI, MON, TUE, WED = date(2026, 11, 27), date(2026, 11, 30), date(2026, 12, 1), date(2026, 12, 2)
OVER_WEEKEND = date_pmf({FRI: 0.85, MON: 0.09, TUE: 0.06})  # one more day costs three
MIDWEEK = date_pmf({MON: 0.85, TUE: 0.09, WED: 0.06})


def test_trade_offs_skip_a_weekend_day_that_buys_too_little():
    # Monday buys 0.09 for 2.55 days of padding; Tuesday buys 0.15 for 3.49: Monday is off the hull
    (first, any_rate), (second, rate) = OVER_WEEKEND.trade_offs()
    assert (OVER_WEEKEND.days[first], any_rate) == (FRI, math.inf)
    assert OVER_WEEKEND.days[second] == TUE and rate == pytest.approx(0.15 / 3.49)
    assert [MIDWEEK.days[i] for i, _ in MIDWEEK.trade_offs()] == [MON, TUE, WED]


@pytest.mark.parametrize(
    "rate, over_weekend, midweek",
    [(None, TUE, WED), (1.0, FRI, MON), (0.08, FRI, TUE), (0.05, FRI, WED), (0.04, TUE, WED)],
)
def test_promise_stretches_while_a_day_of_padding_buys_enough(rate, over_weekend, midweek):
    assert OVER_WEEKEND.promise(0.95, rate) == over_weekend  # None: the 0.95 quantile
    assert MIDWEEK.promise(0.95, rate) == midweek


def test_promise_never_below_the_minimum_level():
    spread = date_pmf({MON: 0.5, TUE: 0.2, WED: 0.3})
    assert spread.promise(0.5, 1e6) == WED  # Tuesday (0.7) is below MIN_PROMISE_LEVEL


def test_rate_to_reach_is_the_rate_at_which_the_promise_first_covers_a_day():
    assert OVER_WEEKEND.rate_to_reach(FRI) == math.inf
    assert (
        OVER_WEEKEND.rate_to_reach(MON)
        == OVER_WEEKEND.rate_to_reach(TUE)
        == pytest.approx(0.15 / 3.49)
    )
    assert OVER_WEEKEND.rate_to_reach(WED) == 0.0
    for day in (FRI, MON, TUE):
        assert OVER_WEEKEND.promise(0.95, OVER_WEEKEND.rate_to_reach(day)) >= day


def test_calibrated_rate_keeps_the_brand_share_with_the_least_padding():
    # half the orders would stretch over a weekend, half midweek, outcomes as each PMF says;
    # 90 % of promises kept: the weekend orders stay on Friday (85 %), the midweek ones go to
    # Wednesday (100 %), instead of stretching everyone
    outcomes = [
        (dates, day)
        for dates, pattern in ((OVER_WEEKEND, (FRI, MON, TUE)), (MIDWEEK, (MON, TUE, WED)))
        for day, n in zip(pattern, (850, 90, 60), strict=True)
        for _ in range(n)
    ]
    ones = [1.0] * len(outcomes)
    calibration = calibration_from(
        ones, ones, rates=[dates.rate_to_reach(day) for dates, day in outcomes]
    )
    rate = calibration.rate(0.9)
    assert OVER_WEEKEND.promise(0.9, rate) == FRI and MIDWEEK.promise(0.9, rate) == WED
    kept = sum(day <= dates.promise(0.9, rate) for dates, day in outcomes) / len(outcomes)
    assert kept >= 0.9


def test_a_small_calibration_sample_keeps_a_margin():
    few = calibration_from([0.5] * 50, [0.5] * 50, rates=[i / 50 for i in range(50)])
    many = calibration_from([0.5] * 5000, [0.5] * 5000, rates=[i / 5000 for i in range(5000)])
    assert few.rate(0.9) < many.rate(0.9) == pytest.approx(0.1, abs=0.01)


@pytest.mark.parametrize(
    "mass, rate, window",
    [(0.8, 0.08, (MON, TUE)), (0.8, 1.0, (MON, MON)), (0.99, 0.08, (MON, WED))],
)
def test_window_ends_no_sooner_than_the_promise_keeping_its_share(mass, rate, window):
    # a calibrated mass of 0.8 holds Monday alone (0.85); the rate that keeps 90 % of promises
    # buys Tuesday for this order (0.09 for 0.85 days of padding), so the window takes it too
    levels = Levels(0.95, None, window_mass=mass, window_level=0.9, window_rate=rate)
    assert levels.window(MIDWEEK) == window
