from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest

from shipflow.edd import training
from shipflow.edd.calibration import calibration_from
from shipflow.edd.training import drifted, history_quote, miss_volatility, settling_days, train
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


def test_misses_swinging_from_week_to_week_beyond_chance_are_volatile():
    # 10 % missed overall, 15 % one week and 5 % the next: a swing of 5 points, 3 of which
    # sampling explains (variance 0.0025 - 0.0009 = 0.0016), 0.04 / 0.10
    assert miss_volatility(_outcomes([15, 5])) == pytest.approx(0.4)
    assert miss_volatility(_outcomes([10, 10])) == 0.0  # steady
    assert miss_volatility(_outcomes([12, 8])) == 0.0  # a swing chance explains
    assert miss_volatility(_outcomes([20])) == 0.0  # one week: nothing to compare


def test_a_volatile_calibration_aims_higher_for_the_worse_weeks():
    rates = [i / 10000 for i in range(10000)]
    steady = calibration_from([0.5] * 10000, [0.5] * 10000, rates=rates)
    volatile = replace(steady, volatility=0.4)
    # sampling margin sqrt(0.95 * 0.05 / 10000) = 0.00218, misses 0.05 raised by 40 %: 0.02
    assert steady.margin(0.95) == pytest.approx(0.95218, abs=1e-5)
    assert volatile.margin(0.95) == pytest.approx(0.97218, abs=1e-5)
    assert volatile.rate(0.95) == pytest.approx(0.0278, abs=1e-4)
    assert steady.rate(0.95) == pytest.approx(0.0478, abs=1e-4)
    assert replace(steady, volatility=3.0).margin(0.95) == 0.975  # at most halfway to always


def test_training_measures_how_much_its_promises_kept_swing():
    # a fifth of the parcels take 5 days instead of 2: spread evenly, or all in alternate
    # fortnights; only the second swings beyond chance (its misses, all in half the weeks)
    steady = history([2, 2, 2, 2, 5] * 44, start=date(2026, 7, 1))
    swinging = history(([2] * 10 + [2, 5] * 5) * 11, start=date(2026, 7, 1))
    as_of = datetime(2027, 6, 1, tzinfo=NY)
    config = ModelConfig(volatility_days=180)
    models = [
        train(records, as_of, QUOTE, config, min_calibration=10) for records in (steady, swinging)
    ]
    steady_calibration, swinging_calibration = (m.calibration for m in models)
    assert steady_calibration.volatility == 0.0
    assert swinging_calibration.volatility == pytest.approx(3.17, abs=0.01)
    assert swinging_calibration.margin(0.95) == 0.975  # as far as it goes: halfway to always


def test_by_default_the_swing_is_not_measured(monkeypatch):
    monkeypatch.setattr(training, "miss_volatility", lambda outcomes: 0.5)
    records = history([2, 2, 2, 2, 5] * 44, start=date(2026, 7, 1))
    as_of = datetime(2027, 6, 1, tzinfo=NY)
    assert train(records, as_of, QUOTE, min_calibration=10).calibration.volatility == 0.0
    measured = train(records, as_of, QUOTE, ModelConfig(volatility_days=180), min_calibration=10)
    assert measured.calibration.volatility == 0.5
