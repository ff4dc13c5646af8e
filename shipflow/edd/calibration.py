"""How stated confidence maps to predictive levels, from the outcomes of past promises."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

MAX_RATE = 1e6  # stands for "any rate" (the first candidate date already held), JSON-safe
# A week's percentile counts where its typical week holds this many outcomes on either side of
# it (the usual rule for reading a share as normal): beyond, a week's extremes are too few.
ENOUGH_OUTCOMES = 5


def enough_outcomes(week_size: float, percent):
    """Whether a week of `week_size` outcomes holds ENOUGH_OUTCOMES on either side of the
    `percent` level (a whole percent, or an array of them): where a week's percentile or miss
    share can be read. Whole percents, so 100 - p is exact."""
    return week_size * np.minimum(percent, 100 - percent) / 100 >= ENOUGH_OUTCOMES


@dataclass(frozen=True, slots=True)
class Calibration:
    """Recent predictive-CDF values of actual outcomes (percentiles 0..100), to recalibrate levels;
    as training makes it, at the level of its window's typical week (`typical_of`).

    `before[i]`: CDF just before the actual date; `at[i]`: CDF at the actual date.
    """

    before: tuple[float, ...]
    at: tuple[float, ...]
    samples: int
    window_mass: float | None = None  # the mass whose shortest window held 90 % of outcomes
    # Percentiles of the largest promise rate (on-time probability bought per day of padding)
    # at which each outcome would still have been on time; see DatePMF.trade_offs.
    rates: tuple[float, ...] | None = None
    # Per percent level of stated confidence (0..100), how much higher its promises aim: the
    # half year before the window swung to weeks worse than the window's typical week
    # (training.swing_charges).
    charges: tuple[float, ...] | None = None

    def upper(self, p: float) -> float:
        """Level whose quantile date is on/after the actual date with frequency p."""
        return min(_percentile(self.before, self.margin(p)) + 1e-9, 1.0)

    def lower(self, p: float) -> float:
        """Level whose quantile date is on/before the actual date with frequency 1 - p."""
        return _percentile(self.at, p)

    def rate(self, p: float) -> float | None:
        """Promise rate at which a share p of the calibration outcomes were on time."""
        return _percentile(self.rates, 1 - self.margin(p)) if self.rates else None

    def margin(self, p: float) -> float:
        """The share the calibration aims at for a stated `p`: its sampling margin, and its
        swing charge, so a week as bad as the worse ones before the window still keeps about
        `p`."""
        return with_margin(p, self.samples, _percentile(self.charges, p) if self.charges else 0.0)


def with_margin(p: float, samples: int, drift: float = 0.0) -> float:
    """`p` raised by one standard error of a share measured on `samples` outcomes (calibrated on
    few orders, a promise errs towards keeping more than it states rather than fewer) and by
    `drift`, at most halfway to always."""
    return min(p + math.sqrt(p * (1 - p) / max(samples, 1)) + drift, (1 + p) / 2)


def _percentile(points: Sequence[float], p: float) -> float:
    x = p * (len(points) - 1)
    i = min(int(x), len(points) - 2)
    return points[i] + (points[i + 1] - points[i]) * (x - i)


def calibration_from(
    before: Sequence[float],
    at: Sequence[float],
    weights: Sequence[float] | None = None,
    rates: Sequence[float] | None = None,
) -> Calibration:
    """Summarise (weighted) CDF values and promise rates of outcomes as 101 percentiles."""
    weights = weights or [1.0] * len(before)

    def percentiles(values: Sequence[float]) -> tuple[float, ...]:
        ranked = sorted(zip(values, weights, strict=True))
        total, cumulative, points, i = sum(weights), 0.0, [], 0
        for value, weight in ranked:
            cumulative += weight
            while i <= 100 and cumulative >= total * i / 100 - 1e-12:
                points.append(value)
                i += 1
        return tuple(points + [ranked[-1][0]] * (101 - len(points)))

    return Calibration(
        percentiles(before),
        percentiles(at),
        len(before),
        rates=percentiles([min(r, MAX_RATE) for r in rates]) if rates else None,
    )


def typical_of(pooled: Calibration, weeks: Sequence[Calibration]) -> Calibration:
    """`pooled` at the level of its typical week: each percentile the median of `weeks`' (the
    same outcomes, a week at a time) where a week of the median size holds ENOUGH_OUTCOMES on
    either side of it, else the pooled one; never decreasing.

    A disruption that has passed fills a few weeks of a calibration window; pooled, it would
    hold every promise calibrated on the window to its level until it leaves the window, and the
    swing charge, which prices weeks that bad on top of the window's level
    (training.swing_charges), would count it twice.
    """
    if len(weeks) < 2:
        return pooled
    size = statistics.median(week.samples for week in weeks)

    def typical(points: tuple[float, ...], name: str) -> tuple[float, ...]:
        found, highest = [], -math.inf
        for i, point in enumerate(points):
            if enough_outcomes(size, i):
                point = statistics.median(getattr(week, name)[i] for week in weeks)
            highest = max(highest, point)
            found.append(highest)
        return tuple(found)

    return replace(
        pooled,
        before=typical(pooled.before, "before"),
        at=typical(pooled.at, "at"),
        rates=typical(pooled.rates, "rates") if pooled.rates else None,
    )
