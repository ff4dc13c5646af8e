"""Train a model the way production will use it, including a conformal-style calibration.

The model is re-fitted at a few past moments; each of those fits quotes the orders placed in the
following half-month (exactly as production would have), and the predictive-CDF values of the
actual delivery dates say how to move the quantile levels so stated confidence matches outcomes.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime, time, timedelta

from shipflow.domain import Address, CarrierService, Warehouse
from shipflow.edd.calibration import Calibration, calibration_from, with_margin
from shipflow.edd.dates import DatePMF
from shipflow.edd.engine import WINDOW_MASS, quote_from
from shipflow.edd.history import HistoryRecord
from shipflow.edd.lanes import record_location
from shipflow.edd.transit import END_OF_DAY, MIN_OBSERVED, ModelConfig, TransitModel

Quote = Callable[[HistoryRecord, TransitModel], DatePMF | None]
DRIFT_Z = 2.326  # one-sided 1 %: twelve retrains a year rarely see a false alarm
DRIFT_TOLERANCE = 0.02  # calibration is held within 2 points of the stated share
SETTLED_SHARE = 0.99  # a calibration window counts as settled once this share would have arrived
MAX_SETTLE_DAYS = 45  # the longest wait: Olist's deliveries settle in 42-45 days
# How much kept promises swing is measured on the misses at VOLATILITY_LEVEL (enough of them to
# count per week), per VOLATILITY_PERIOD of orders (a week: weekdays cancel out), over
# ModelConfig.volatility_days before the calibration window, and promises aim to keep their
# share in a period VOLATILITY_Z of those swings worse than the average.
VOLATILITY_LEVEL = 0.9
VOLATILITY_PERIOD = timedelta(days=7)
VOLATILITY_Z = 1.0
LEARNING_DAYS = 90  # a young history's first models miss more while they learn its lanes


def history_quote(
    zone: str, delivery_days: frozenset[int], cutoffs: Mapping[str, tuple[time, str]] | None = None
) -> Quote:
    """Quote a past order from its own shipper at its configured cut-off, else the one the model
    learned from its handovers, else end of day.

    A service delivers on the weekdays the model learned for it, else on `delivery_days`.

    The shipper's zone is its postal code's when known, else `zone`.
    """

    def quote(record: HistoryRecord, model: TransitModel) -> DatePMF | None:
        origin = record_location(record, "origin")
        cutoff, shipper_zone = (
            (cutoffs or {}).get(record.shipper_id)
            or model.cutoffs.get(record.shipper_id)
            or (END_OF_DAY, origin.timezone or zone)
        )
        destination = record_location(record, "destination")
        warehouse = Warehouse(
            code=record.shipper_id,
            name=record.shipper_id,
            address=Address(record.origin_country, record.origin_postal_code),
            latitude=origin.lat or 0.0,
            longitude=origin.lng or 0.0,
            timezone=shipper_zone,
            cutoff=cutoff,
            holiday_country=origin.country,
            holiday_subdivision=origin.subdivision,
            working_days=model.config.working_weekdays,
            pickup_days=model.config.working_weekdays,
        )
        weekdays = model.service_weekdays.get(record.service_key, delivery_days)
        service = CarrierService(record.carrier, record.service, delivery_days=weekdays)
        estimate = quote_from(warehouse, origin, service, model, destination, record.ordered_at)
        return estimate.dates

    return quote


def train(
    records: Sequence[HistoryRecord],
    as_of: datetime,
    quote: Quote,
    config: ModelConfig | None = None,
    calibration_days: int = 60,
    settle_days: int | None = None,
    step_days: int = 15,
    min_calibration: int = 50,
    cutoffs: Mapping[str, tuple[time, str]] | None = None,
) -> TransitModel:
    """Fit on everything delivered before `as_of`, calibrated on orders of an earlier window.

    Deliveries of the window still in flight are missing; the known ones are weighted by
    1 / P(delivered before `as_of`) under the model that quoted them. The window ends
    `settle_days` back, by default as far back as the history's deliveries take to settle
    (`settling_days`): the models it quotes with are fitted that much earlier, and a model still
    learning its lanes grows sharper meanwhile, so a later window calibrates the model in use
    more closely. With `config.volatility_days`, the orders of that many days before the window,
    quoted the same way, also measure how much the share of promises kept swings from week to
    week (`miss_volatility`): a network that drifts is promised for its worse weeks.
    """
    known = [r for r in records if r.delivered_at and r.delivered_at < as_of]
    if settle_days is None:
        settle_days = settling_days(known, MAX_SETTLE_DAYS)
    window_end = as_of - timedelta(days=settle_days)
    last_known_day = (as_of - timedelta(days=1)).date()
    calibrated_from = window_end - timedelta(days=calibration_days)
    before, at, needed, weights, rates = [], [], [], [], []
    swings: list[tuple[datetime, float, float]] = []  # (ordered, rate, weight) of the longer span
    step = timedelta(days=step_days)
    swing_days = (config or ModelConfig()).volatility_days
    start = calibrated_from - step * swing_steps(known, calibrated_from, step, swing_days)
    while start < window_end:
        past = TransitModel.fit(records, start, config, cutoffs)
        stop = min(start + step, window_end)
        for record in known:
            if not start <= record.ordered_at < stop:
                continue
            dates = quote(record, past)
            if dates is None:
                continue
            day = record.delivered_at.date()  # type: ignore[union-attr]
            # known only because it was fast enough: weight by 1 / P(delivered by now)
            weight = 1 / max(dates.cdf(last_known_day), MIN_OBSERVED)
            swings.append((record.ordered_at, dates.rate_to_reach(day), weight))
            if record.ordered_at < calibrated_from:
                continue
            before.append(dates.cdf(day - timedelta(days=1)))
            at.append(dates.cdf(day))
            needed.append(needed_mass(dates, day))
            rates.append(swings[-1][1])
            weights.append(weight)
        start = stop
    model = TransitModel.fit(records, as_of, config, cutoffs)
    if len(before) >= min_calibration:
        calibration = calibration_from(before, at, weights, rates)
        window = weighted_quantile(needed, weights, with_margin(WINDOW_MASS, len(needed)))
        volatility = miss_volatility(swings) if swing_days else 0.0
        model = replace(
            model,
            calibration=replace(calibration, window_mass=window, volatility=volatility),
        )
    if model.config.drift_days and model.calibration:
        recent = drift_calibration(records, as_of, quote, model, cutoffs, min_calibration)
        if recent is not None:
            model = replace(model, calibration=recent)
    return model


def swing_steps(
    known: Sequence[HistoryRecord], calibrated_from: datetime, step: timedelta, days: int
) -> int:
    """Steps before the calibration window whose orders also show how kept promises swing: as
    many as fit in `days`, from LEARNING_DAYS after the first delivery (a model still learning
    its lanes misses more at first, for reasons that pass)."""
    delivered = [r.delivered_at for r in known if r.delivered_at]
    if not days or not delivered:
        return 0
    learnt = min(delivered) + timedelta(days=LEARNING_DAYS)
    return max(min(timedelta(days=days), calibrated_from - learnt) // step, 0)


def miss_volatility(
    outcomes: Sequence[tuple[datetime, float, float]],
    level: float = VOLATILITY_LEVEL,
    period: timedelta = VOLATILITY_PERIOD,
) -> float:
    """How much the share of promises missed at `level` swung from one `period` of orders to
    the next beyond what sampling explains, relative to that share (0 when steady); `outcomes`
    are (ordered at, promise rate reaching the delivery, weight).

    A network whose lateness drifts (a peak, a carrier slowing down) misses far more in some
    weeks than on average; a steady one about as often every week. The missed promises are the
    `1 - level` share with the lowest rates, as a calibrated promise at `level` would miss them.
    """
    ranked = sorted((rate, weight) for _, rate, weight in outcomes)
    total = sum(weight for _, weight in ranked)
    cumulative = itertools.accumulate(weight for _, weight in ranked)
    threshold = next(
        (
            rate
            for (rate, _), c in zip(ranked, cumulative, strict=True)
            if c > (1 - level) * total + 1e-9
        ),
        math.inf,
    )
    first = min((at for at, _, _ in outcomes), default=datetime.min)
    periods: dict[int, list[float]] = {}  # weight, squared weights, weight missed
    for at, rate, weight in outcomes:
        counts = periods.setdefault((at - first) // period, [0.0, 0.0, 0.0])
        counts[0] += weight
        counts[1] += weight * weight
        counts[2] += weight * (rate < threshold)
    missed = sum(c[2] for c in periods.values()) / total if total else 0.0
    if len(periods) < 2 or not 0 < missed < 1:
        return 0.0
    noise = missed * (1 - missed)  # a period's sampling variance times its effective size
    excess = sum(w * ((m / w - missed) ** 2 - noise * w2 / w**2) for w, w2, m in periods.values())
    return VOLATILITY_Z * math.sqrt(max(excess / total, 0.0)) / missed


def settling_days(delivered: Sequence[HistoryRecord], most: int) -> int:
    """Days from order to delivery within which SETTLED_SHARE of `delivered` arrived (at most
    `most`, also without deliveries): the shortest wait after which a window's outcomes are
    known but for a few, whom the truncation weights stand for."""
    days = sorted((r.delivered_at - r.ordered_at).days + 1 for r in delivered)  # type: ignore[operator]
    if not days:
        return most
    return min(days[math.ceil(SETTLED_SHARE * len(days)) - 1], most)


def drift_calibration(
    records: Sequence[HistoryRecord],
    as_of: datetime,
    quote: Quote,
    model: TransitModel,
    cutoffs: Mapping[str, tuple[time, str]] | None,
    min_resolved: int,
) -> Calibration | None:
    """A calibration from the last `drift_days` of orders when their promises, as `model`'s
    calibration makes them, were kept significantly less often than stated; else None.

    The settled calibration window ends when a window's deliveries have settled (45 days back
    on a slow history), so a slowdown would reach it weeks late. Recent orders whose promised
    day has passed are resolved either way (a parcel not delivered by then is late, delivered
    or not); one still in flight counts as delivered no earlier than today, a bound that
    under-corrects rather than over-pads.
    """
    stated = model.config.drift_confidence
    start = as_of - timedelta(days=model.config.drift_days)
    past = replace(
        TransitModel.fit(records, start, model.config, cutoffs), calibration=model.calibration
    )
    today = as_of.date()
    before, at, rates, kept = [], [], [], 0
    for record in records:
        if not start <= record.ordered_at < as_of:
            continue
        dates = quote(record, past)
        if dates is None:
            continue
        promised = dates.promise(past.upper(stated), past.promise_rate(stated))
        if promised >= today:
            continue  # not resolved yet
        delivered = (
            record.delivered_at if record.delivered_at and record.delivered_at < as_of else None
        )
        day = delivered.date() if delivered else today
        kept += day <= promised
        before.append(dates.cdf(day - timedelta(days=1)))
        at.append(dates.cdf(day))
        rates.append(dates.rate_to_reach(day))
    if not drifted(kept, len(before), stated, min_resolved):
        return None
    return replace(
        calibration_from(before, at, rates=rates), window_mass=model.window_mass(WINDOW_MASS)
    )


def drifted(kept: int, resolved: int, stated: float, min_resolved: int = 50) -> bool:
    """Kept less often than stated by more than the calibration's tolerance, and
    significantly so (a one-sided binomial z-test at 1 %): on thousands of orders a shortfall
    of one point is significant and still within what calibration allows."""
    if resolved < max(min_resolved, 1) or kept / resolved >= stated - DRIFT_TOLERANCE:
        return False
    z = (kept - resolved * stated) / math.sqrt(resolved * stated * (1 - stated))
    return z <= -DRIFT_Z


def needed_mass(dates: DatePMF, day: date, steps: int = 10) -> float:
    """The least predictive mass whose shortest window holds `day` (bisection)."""
    if not dates.days[0] <= day <= dates.days[-1]:
        return 1.0
    low, high = 0.0, 1.0
    for _ in range(steps):
        middle = (low + high) / 2
        first, last = dates.window(middle)
        low, high = (low, middle) if first <= day <= last else (middle, high)
    return high


def weighted_quantile(values: Sequence[float], weights: Sequence[float], q: float) -> float:
    ranked = sorted(zip(values, weights, strict=True))
    total, cumulative = sum(weights), 0.0
    for value, weight in ranked:
        cumulative += weight
        if cumulative >= q * total - 1e-12:
            return value
    return ranked[-1][0]
