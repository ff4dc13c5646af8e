from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest

from shipflow.edd.calibration import calibration_from
from shipflow.edd.training import (
    drifted,
    history_quote,
    miss_volatility,
    settling_days,
    swing_charges,
    train,
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


def _outcomes(*weeks):
    """100 orders a week: per week, how many were delivered past every promise (rate 0) and
    how many past all but the loosest ones (rate 0.5); the others kept every promise."""
    start = datetime(2027, 3, 1, tzinfo=NY)
    return [
        (
            start + timedelta(days=7 * week, hours=i),
            0.0 if i < slow else 0.5 if i < late else 1.0,
            1.0,
        )
        for week, (slow, late) in enumerate((slow, slow + late) for slow, late in weeks)
        for i in range(100)
    ]


def test_each_level_is_charged_the_swing_of_its_own_misses():
    # the slowest parcels come 15 and 5 a week, the late ones 5 and 15: the 0.90 promise misses
    # the slowest (10 %: 15 % one week, 5 % the next, a swing of 5 points, 3 of which sampling
    # explains: excess variance 0.0016 x 200 orders = 0.32, less its standard error 0.18, is
    # 0.0007 an order, a swing of 0.0265 or 0.265 of the misses); the 0.80 promise misses both,
    # 20 every week: steady
    swing = miss_volatility(_outcomes((15, 5), (5, 15)))
    assert swing[90] == pytest.approx(0.26458, abs=1e-5)
    assert swing[80] == 0.0
    assert swing[95] == 0.0  # no promise at 0.95 misses: nothing swings
    assert miss_volatility(_outcomes((10, 0), (10, 0)))[90] == 0.0  # steady
    assert miss_volatility(_outcomes((13, 0), (7, 0)))[90] == 0.0  # a swing chance explains
    assert miss_volatility(_outcomes((20, 0)))[90] == 0.0  # one week: nothing to compare


def test_a_level_never_aims_lower_than_a_lower_level():
    charges = swing_charges(_outcomes((15, 5), (5, 15)))
    assert charges[80] == 0.0
    assert charges[90] == pytest.approx(0.1 * 0.26458, abs=1e-6)
    # 0.91 misses nothing that swings, but aims where 0.90 does: 0.92646
    assert charges[91] == pytest.approx(0.92646 - 0.91, abs=1e-5)


def test_a_volatile_calibration_aims_higher_for_the_worse_weeks():
    rates = [i / 10000 for i in range(10000)]
    steady = calibration_from([0.5] * 10000, [0.5] * 10000, rates=rates)
    volatile = replace(steady, swing=tuple(0.02 if i >= 90 else 0.0 for i in range(101)))
    # sampling margin sqrt(0.95 * 0.05 / 10000) = 0.00218, misses raised by 0.02 from 0.90 up
    assert steady.margin(0.95) == pytest.approx(0.95218, abs=1e-5)
    assert volatile.margin(0.95) == pytest.approx(0.97218, abs=1e-5)
    assert volatile.margin(0.8) == steady.margin(0.8)
    assert volatile.rate(0.95) == pytest.approx(0.0278, abs=1e-4)
    assert steady.rate(0.95) == pytest.approx(0.0478, abs=1e-4)
    assert replace(steady, swing=(0.1,) * 101).margin(0.95) == 0.975  # at most halfway to always


def test_training_measures_how_much_its_promises_kept_swing():
    # a fifth of the parcels take 5 days instead of 2: spread evenly, or all in alternate
    # fortnights; only the second swings beyond chance (its misses, all in half the weeks)
    steady = history([2, 2, 2, 2, 5] * 44, start=date(2026, 7, 1))
    swinging = history(([2] * 10 + [2, 5] * 5) * 11, start=date(2026, 7, 1))
    as_of = datetime(2027, 6, 1, tzinfo=NY)
    models = [train(records, as_of, QUOTE, min_calibration=10) for records in (steady, swinging)]
    steady_calibration, swinging_calibration = (m.calibration for m in models)
    assert max(steady_calibration.swing) == 0.0
    assert swinging_calibration.swing[95] == pytest.approx(1.91, abs=0.01)
    assert swinging_calibration.margin(0.95) == 0.975  # as far as it goes: halfway to always
    off = train(swinging, as_of, QUOTE, ModelConfig(volatility_days=0), min_calibration=10)
    assert off.calibration.swing is None
