from datetime import date, datetime

from shipflow.edd.training import history_quote, train
from shipflow.edd.transit import ModelConfig

from .factories import NY, WEEKDAYS, history

QUOTE = history_quote("America/New_York", WEEKDAYS)


def test_training_calibrates_an_overconfident_model():
    # transit slows from 2 to 4 days on 1 March: the calibration window (orders of 16 Feb -
    # 17 Apr quoted by models trained before them) sees outcomes past their 0.95 level
    records = history([2] * 120, start=date(2026, 9, 1)) + history([4] * 60, start=date(2027, 3, 1))
    config = ModelConfig(half_life_days=30)
    model = train(records, datetime(2027, 6, 1, tzinfo=NY), QUOTE, config, min_calibration=20)
    assert model.calibration is not None and model.calibration.samples >= 20
    assert model.upper(0.8) > 0.8 and model.upper(0.95) > 0.95
    # keeping 95 % of promises buys padding at a lower rate than keeping half of them
    assert model.promise_rate(0.95) < model.calibration.rate(0.5)


def test_history_quote_gives_dates_for_a_past_order():
    records = history([3] * 60)
    model = train(records, datetime(2027, 1, 1, tzinfo=NY), QUOTE)
    dates = QUOTE(records[-1], model)
    assert dates.most_likely == records[-1].delivered_at.date()
