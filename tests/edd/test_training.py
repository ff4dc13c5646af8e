from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest

from shipflow.edd import training
from shipflow.edd.calibration import calibration_from
from shipflow.edd.training import (
    drifted,
    history_quote,
    miss_swings,
    settling_days,
    swing_charges,
    train,
    week_calibration,
)
from shipflow.edd.transit import ModelConfig

from .factories import NY, WEEKDAYS, history

QUOTE = history_quote("America/New_York", WEEKDAYS)


def test_training_calibrates_an_overconfident_model():
    # transit slows from 2 to 4 days on 1 March: the calibration window (orders of 16 Feb -
    # 17 Apr quoted by models trained before them) sees outcomes past their 0.95 level
    records = history([2] * 120, start=date(2026, 9, 1)) + history([4] * 60, start=date(2027, 3, 1))
    config = ModelConfig(half_life_days=30)
    model = train(
        records, datetime(2027, 6, 1, tzinfo=NY), QUOTE, config, min_calibration=20, settle_days=45
    )
    assert model.calibration is not None and model.calibration.samples >= 20
    assert model.upper(0.8) > 0.8 and model.upper(0.95) > 0.95
    # keeping 95 % of promises buys padding at a lower rate than keeping half of them
    assert model.promise_rate(0.95) < model.calibration.rate(0.5)


def test_the_calibration_window_waits_as_long_as_deliveries_take_to_settle():
    # 99 parcels arrive within 6 calendar days of the order (counting its day), one in 45
    quick = history([2] * 99 + [30])
    assert settling_days(quick, 45) == 6  # the slow one is the 1 % a window may still miss
    assert settling_days(quick, 3) == 3  # never longer ago than asked
    assert settling_days(history([2] * 98 + [30, 30]), 60) == 45  # 2 % slow: wait for them
    assert settling_days([], 45) == 45


def test_history_quote_gives_dates_for_a_past_order():
    records = history([3] * 60)
    model = train(records, datetime(2027, 1, 1, tzinfo=NY), QUOTE)
    dates = QUOTE(records[-1], model)
    assert dates.most_likely == records[-1].delivered_at.date()


def test_drift_is_a_significant_shortfall_not_any_shortfall():
    assert drifted(85, 100, 0.95)  # z = -4.6
    assert not drifted(92, 100, 0.95)  # z = -1.4: chance
    assert not drifted(0, 20, 0.95, min_resolved=50)  # too few to tell
    assert not drifted(1870, 2000, 0.95)  # 93.5 %: significant (z = -3.1) but within 2 points
    assert drifted(1850, 2000, 0.95)  # 92.5 %


def _promise(model, record):
    return QUOTE(record, model).promise(model.upper(0.95), model.promise_rate(0.95))


def test_a_recent_slowdown_is_corrected_before_the_settled_window_sees_it():
    # 2 days for ten months, then 6 from 3 May: on 1 June the settled calibration window
    # (orders of 16 February - 17 April) has not seen it; May's broken promises have
    records = history([2] * 215, start=date(2026, 7, 1)) + history([6] * 20, start=date(2027, 5, 3))
    as_of = datetime(2027, 6, 1, tzinfo=NY)
    plain = train(records, as_of, QUOTE, ModelConfig(), min_calibration=10, settle_days=45)
    corrected = train(
        records, as_of, QUOTE, ModelConfig(drift_days=28), min_calibration=10, settle_days=45
    )
    assert _promise(corrected, records[-1]) > _promise(plain, records[-1])


def test_no_drift_no_correction():
    records = history([2] * 200 + [3] * 20, start=date(2026, 7, 1))
    as_of = datetime(2027, 6, 1, tzinfo=NY)
    plain = train(records, as_of, QUOTE, ModelConfig(), min_calibration=10)
    watched = train(records, as_of, QUOTE, ModelConfig(drift_days=28), min_calibration=10)
    assert watched.calibration == plain.calibration


def _outcomes(missed_per_week):
    """100 orders a week, the given number of them delivered past every promise (rate 0)."""
    start = datetime(2027, 3, 1, tzinfo=NY)
    return [
        (start + timedelta(days=7 * week, hours=i), 0.0 if i < missed else 1.0, 1.0)
        for week, missed in enumerate(missed_per_week)
        for i in range(100)
    ]


def test_misses_swinging_from_week_to_week_beyond_chance_are_measured():
    # 10 % missed overall, 15 % one week and 5 % the next: a swing of 5 points, 3 of which
    # sampling explains (variance 0.0025 - 0.0009 = 0.0016), less the standard error of that
    # estimate (0.0009): sqrt(0.0007) = 0.0265
    missed, swing, _ = miss_swings(_outcomes([15, 5]))
    assert missed[90] == pytest.approx(0.1) and swing[90] == pytest.approx(0.0265, abs=1e-4)
    assert miss_swings(_outcomes([10, 10]))[1][90] == 0.0  # steady
    assert miss_swings(_outcomes([12, 8]))[1][90] == 0.0  # a swing chance explains
    assert miss_swings(_outcomes([20]))[1][90] == 0.0  # one week: nothing to compare


def _window(*missed_per_week):
    """A calibration window of 100 outcomes a week, the given number of them past every
    promise, in the shape `swing_charges` reads (ordered at, promise rate, weight)."""
    start = datetime(2027, 9, 6, tzinfo=NY)
    return [
        (start + timedelta(days=7 * week, hours=i), 0.0 if i < missed else 1.0, 1.0)
        for week, missed in enumerate(missed_per_week)
        for i in range(100)
    ]


def test_a_window_calmer_than_the_weeks_before_it_is_charged_for_them():
    swinging = _outcomes([15, 5])  # 10 % missed on average, 12.65 % in a week one swing worse
    # a window missing 5 % misses 2.53 times that in such a week: its 0.90 promise aims to
    # miss 0.10 x 0.05 / 0.1265 = 3.95 %, 6.05 points fewer
    assert swing_charges(swinging, _window(5))[90] == pytest.approx(0.0605, abs=1e-4)
    assert swing_charges(swinging, _window(10))[90] == pytest.approx(0.0209, abs=1e-4)
    # a window that already holds weeks that bad is calibrated for them: nothing to charge
    assert swing_charges(swinging, _window(13))[90] == 0.0
    # steady weeks before it: a calmer window is charged only its distance to their level
    assert swing_charges(_outcomes([10, 10]), _window(5))[90] == pytest.approx(0.05)
    assert swing_charges(_outcomes([10, 10]), _window(10))[90] == 0.0


def test_a_window_is_charged_from_its_typical_week_not_from_a_disruption_that_passed():
    swinging = _outcomes([15, 5])  # weeks one swing worse miss 12.65 %, as above
    # three weeks missing 5 % and one 25 % (a disruption, over): the window calibrates at its
    # typical week's 5 %, so it is charged as the calm 5 % window above, not as a window
    # missing 10 % throughout (0.0209)
    assert swing_charges(swinging, _window(5, 5, 5, 25))[90] == pytest.approx(0.0605, abs=1e-4)
    # a week holds 100 x 0.01 = 1 miss at 0.99, too few to read a typical week from (5): the
    # whole window's 0.99 threshold is charged as before
    assert (
        swing_charges(swinging, _window(5, 5, 5, 25))[99]
        == swing_charges(swinging, _window(40))[99]
    )


def test_a_window_calibrates_at_its_typical_week():
    # three calm weeks whose promise rates reaching the delivery spread evenly over 0-0.99,
    # then a disrupted week in which every parcel needed the most padding (rate 0)
    start = datetime(2027, 9, 6, tzinfo=NY)
    ordered = [start + timedelta(days=7 * week, hours=i) for week in range(4) for i in range(100)]
    rates = [i / 100 for i in range(100)] * 3 + [0.0] * 100
    calibration = week_calibration(ordered, [0.5] * 400, [0.5] * 400, [1.0] * 400, rates)
    pooled = calibration_from([0.5] * 400, [0.5] * 400, rates=rates)
    # keeping 90 %: a calm week's promises at the rate the slowest of its 10 % slowest parcels
    # needed (0.09), where the pooled window, a quarter of it disrupted, pads every promise (0)
    assert calibration.rates[10] == pytest.approx(0.09) and pooled.rates[10] == 0.0
    # 100 outcomes a week leave 3 beyond the 97th percentile, fewer than the 5 a week's
    # percentile needs: the pooled one (the 388th of 400) holds there
    assert calibration.rates[97] == pooled.rates[97] == pytest.approx(0.95)


def test_a_charged_calibration_aims_higher():
    rates = [i / 10000 for i in range(10000)]
    plain = calibration_from([0.5] * 10000, [0.5] * 10000, rates=rates)
    charged = replace(plain, charges=tuple([0.02] * 101))
    # sampling margin sqrt(0.95 * 0.05 / 10000) = 0.00218, and the charge of 0.02
    assert plain.margin(0.95) == pytest.approx(0.95218, abs=1e-5)
    assert charged.margin(0.95) == pytest.approx(0.97218, abs=1e-5)
    assert charged.rate(0.95) == pytest.approx(0.0278, abs=1e-4)
    assert plain.rate(0.95) == pytest.approx(0.0478, abs=1e-4)
    assert replace(plain, charges=tuple([0.3] * 101)).margin(0.95) == 0.975  # at most halfway


def test_by_default_the_weeks_before_the_window_are_measured(monkeypatch):
    measured = []
    monkeypatch.setattr(
        training, "swing_charges", lambda earlier, *_: measured.append(earlier) or (0.5,) * 101
    )
    records = history([2, 2, 2, 2, 5] * 44, start=date(2026, 7, 1))
    as_of = datetime(2027, 6, 1, tzinfo=NY)
    assert train(records, as_of, QUOTE, min_calibration=10).calibration.charges == (0.5,) * 101
    # the orders of the whole fortnights before the window from 90 days after the first
    # delivery (a young model misses more while it learns its lanes)
    assert len(measured[0]) == 117 and measured[0][0][0].date() == date(2026, 10, 12)
    off = train(records, as_of, QUOTE, ModelConfig(volatility_days=0), min_calibration=10)
    assert off.calibration.charges is None and len(measured) == 1
