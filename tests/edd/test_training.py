from datetime import date, datetime

from shipflow.edd.training import drifted, history_quote, settling_days, train
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
