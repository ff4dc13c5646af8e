"""Train a model the way production will use it, including a conformal-style calibration.

The model is re-fitted at a few past moments; each of those fits quotes the orders placed in the
following half-month (exactly as production would have), and the predictive-CDF values of the
actual delivery dates say how to move the quantile levels so stated confidence matches outcomes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime, time, timedelta

import numpy as np

from shipflow.domain import Address, CarrierService, Warehouse
from shipflow.edd.calibration import (
    Calibration,
    calibration_from,
    enough_outcomes,
    typical_of,
    with_margin,
)
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
# How much kept promises swing is measured at each of PERCENT_LEVELS on their misses, per
# VOLATILITY_PERIOD of orders (a week: weekdays cancel out), over ModelConfig.volatility_days
# before the calibration window; promises aim to keep their share in a period VOLATILITY_Z of
# those swings worse than that span's average.
PERCENT_LEVELS = np.linspace(0.0, 1.0, 101)
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
    more closely. The window calibrates at the level of its typical week (`week_calibration`).
    With `config.volatility_days`, the orders of that many days before the window, quoted the
    same way, also show how much worse than that a week's misses can be (`swing_charges`): a
    network that drifts is promised for its worse weeks.
    """
    known = [r for r in records if r.delivered_at and r.delivered_at < as_of]
    if settle_days is None:
        settle_days = settling_days(known, MAX_SETTLE_DAYS)
    window_end = as_of - timedelta(days=settle_days)
    last_known_day = (as_of - timedelta(days=1)).date()
    calibrated_from = window_end - timedelta(days=calibration_days)
    ordered, before, at, needed, weights, rates = [], [], [], [], [], []
    earlier: list[tuple[datetime, float, float]] = []  # (ordered, rate, weight) before the window
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
            if record.ordered_at < calibrated_from:
                earlier.append((record.ordered_at, dates.rate_to_reach(day), weight))
                continue
            ordered.append(record.ordered_at)
            before.append(dates.cdf(day - timedelta(days=1)))
            at.append(dates.cdf(day))
            needed.append(needed_mass(dates, day))
            rates.append(dates.rate_to_reach(day))
            weights.append(weight)
        start = stop
    model = TransitModel.fit(records, as_of, config, cutoffs)
    if len(before) >= min_calibration:
        calibration = week_calibration(ordered, before, at, weights, rates)
        window = weighted_quantile(needed, weights, with_margin(WINDOW_MASS, len(needed)))
        outcomes = list(zip(ordered, rates, weights, strict=True))
        charges = swing_charges(earlier, outcomes) if len(earlier) >= min_calibration else None
        model = replace(
            model, calibration=replace(calibration, window_mass=window, charges=charges)
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


def swing_charges(
    earlier: Sequence[tuple[datetime, float, float]],
    window: Sequence[tuple[datetime, float, float]],
) -> tuple[float, ...]:
    """For each of PERCENT_LEVELS p, how much higher than p a promise aims so that a week of
    the span before the calibration window VOLATILITY_Z swings worse than that span's average
    would still keep p; `earlier` and `window` are (ordered at, promise rate reaching the
    delivery, weight).

    At the promise rate the span missed 1 - p of, it missed m on average, weeks of it m + z
    swing, and the window's typical week w (`typical_misses`, the level it calibrates at):
    promises calibrated on the window miss (1 - p) (m + z swing) / w in such a week, so the
    window's misses are cut to (1 - p) w / (m + z swing). A window whose typical week is
    already that bad is charged nothing: its calibration has it. A calmer one is charged for
    the weeks it did not see; never aims lower than p.
    """
    missed, swing, thresholds = miss_swings(earlier)
    typical = typical_misses(window, thresholds)
    worse = missed + VOLATILITY_Z * swing
    share = np.minimum(np.divide(typical, worse, out=np.ones_like(worse), where=worse > 0), 1.0)
    return tuple(float(c) for c in (1 - PERCENT_LEVELS) * (1 - share))


def week_calibration(
    ordered: Sequence[datetime],
    before: Sequence[float],
    at: Sequence[float],
    weights: Sequence[float],
    rates: Sequence[float],
) -> Calibration:
    """The calibration of these outcomes at the level of their typical VOLATILITY_PERIOD of
    orders (`typical_of`): a disruption that has passed stops counting once it is only some
    weeks of the window, and the swing charge prices weeks as bad as it."""
    periods = period_index(ordered)
    columns = [np.array(column) for column in (before, at, weights, rates)]
    weeks = [
        calibration_from(*(column[periods == k].tolist() for column in columns))
        for k in range(periods.max() + 1)
    ]
    return typical_of(calibration_from(before, at, weights, rates), weeks)


def typical_misses(
    outcomes: Sequence[tuple[datetime, float, float]], thresholds: np.ndarray
) -> np.ndarray:
    """The share of `outcomes` (ordered at, promise rate reaching the delivery, weight) missed
    at each of `thresholds` (those of PERCENT_LEVELS) in their typical VOLATILITY_PERIOD: the
    median over periods where a period of the median size holds enough outcomes on either side
    of the level, as `typical_of` reads percentiles, else over all the outcomes at once."""
    ordered, rates, weights = (np.array(column) for column in zip(*outcomes, strict=True))
    periods = period_index(ordered)
    weight, missed_in = period_misses(periods, rates, weights, thresholds)
    pooled = missed_in.sum(axis=0) / weight.sum()
    size = np.median(np.bincount(periods))
    enough = enough_outcomes(
        size, np.arange(len(PERCENT_LEVELS))
    )  # PERCENT_LEVELS in whole percents
    typical = np.median(missed_in / weight[:, None], axis=0)
    return np.where(enough & (len(weight) >= 2), typical, pooled)


def period_index(
    ordered: Collection[datetime], period: timedelta = VOLATILITY_PERIOD
) -> np.ndarray:
    """Each order's `period` counted from the first order, numbered 0.. without gaps."""
    since = min(ordered)
    return np.unique([(at - since) // period for at in ordered], return_inverse=True)[1]


def period_misses(
    periods: np.ndarray, rates: np.ndarray, weights: np.ndarray, thresholds: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per period: its weight, and its weight missed at each of `thresholds` (a promise rate
    below the threshold)."""
    size = periods.max() + 1
    missed_in = np.stack(
        [np.bincount(periods, weights * (rates < t), size) for t in thresholds], axis=1
    )
    return np.bincount(periods, weights, size), missed_in


def miss_swings(
    outcomes: Sequence[tuple[datetime, float, float]], period: timedelta = VOLATILITY_PERIOD
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each of PERCENT_LEVELS p, the share of `outcomes` (ordered at, promise rate reaching
    the delivery, weight) missed at the promise rate that misses 1 - p of them, how much that
    share swung from one `period` of orders to the next beyond what sampling explains, and the
    rate itself.

    A network whose lateness drifts (a peak, a carrier slowing down) misses far more in some
    weeks than on average; a steady one about as often every week. The swing is counted less
    one standard error of its own estimate, so that sampling noise alone, which grows as the
    misses thin out at high levels, reads no swing.
    """
    ordered, rates, weights = (np.array(column) for column in zip(*outcomes, strict=True))
    ranked = np.argsort(rates, kind="stable")
    cumulative = np.cumsum(weights[ranked])
    total = cumulative[-1]
    first = np.searchsorted(cumulative, (1 - PERCENT_LEVELS) * total + 1e-9, side="right")
    thresholds = np.append(rates[ranked], np.inf)[first]
    periods = period_index(ordered, period)
    size = periods.max() + 1
    weight, missed_in = period_misses(periods, rates, weights, thresholds)
    squared = np.bincount(periods, weights * weights, size)
    missed = missed_in.sum(axis=0) / total
    noise = missed * (1 - missed) * (squared / weight**2)[:, None]  # a period's sampling variance
    excess = (weight[:, None] * ((missed_in / weight[:, None] - missed) ** 2 - noise)).sum(axis=0)
    error = np.sqrt(2 * ((weight[:, None] * noise) ** 2).sum(axis=0))
    swing = np.sqrt(np.maximum(excess - error, 0.0) / total)
    return missed, np.where(size >= 2, swing, 0.0), thresholds


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
