"""Delivery dates as a distribution, and the promise chosen from it.

A brand's confidence is the share of its promises kept: each order's promise is the date on
the trade-off between P(on time) and expected days early that a calibrated rate picks.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from datetime import date

from shipflow.edd.transit import MIN_PROMISE_LEVEL


@dataclass(frozen=True, slots=True)
class DatePMF:
    """Delivery dates as sorted (date, probability, cumulative) rows.

    The trade-offs are kept once asked for: the promise and the window's end both walk them.
    """

    days: tuple[date, ...]
    cumulative: tuple[float, ...]
    most_likely: date
    _offers: tuple[tuple[int, float], ...] | None = field(
        init=False, repr=False, compare=False, default=None
    )

    def quantile(self, level: float) -> date:
        i = bisect_left(self.cumulative, level - 1e-12)
        return self.days[min(i, len(self.days) - 1)]

    def cdf(self, day: date) -> float:
        """P(delivered on or before `day`)."""
        i = bisect_right(self.days, day)
        return self.cumulative[i - 1] if i else 0.0

    def window(self, mass: float) -> tuple[date, date]:
        """The shortest span of dates holding at least `mass` (the most mass among equals):
        with most parcels on one day, that day and the next beat two symmetric tails."""
        best, best_rank = (self.days[0], self.days[-1]), None
        totals, j = (0.0, *self.cumulative), 0
        for i, first in enumerate(self.days):  # two pointers: the end only moves forward
            j = max(j, i)
            while j < len(self.days) - 1 and totals[j + 1] - totals[i] < mass - 1e-9:
                j += 1
            held = totals[j + 1] - totals[i]
            if held < mass - 1e-9:
                break
            rank = ((self.days[j] - first).days, -held)
            if best_rank is None or rank < best_rank:
                best, best_rank = (first, self.days[j]), rank
        return best

    def probabilities(self) -> list[float]:
        return [b - a for a, b in zip((0.0, *self.cumulative[:-1]), self.cumulative, strict=True)]

    def promise(self, level: float, rate: float | None) -> date:
        """The promised date: with a calibrated `rate`, the last date on the trade-off curve that
        still buys at least `rate` of on-time probability per day of padding; without one, the
        quantile at `level`."""
        if rate is None:
            return self.quantile(level)
        chosen = self.days[0]
        for i, bought in self.trade_offs():
            if bought < rate:
                break
            chosen = self.days[i]
        return chosen

    def rate_to_reach(self, day: date) -> float:
        """The largest promise rate whose promise is on or after `day` (0: none reaches it)."""
        for i, bought in self.trade_offs():
            if self.days[i] >= day:
                return bought
        return 0.0

    def trade_offs(self) -> tuple[tuple[int, float], ...]:
        """The dates worth promising, each with the on-time probability it buys per day of
        expected padding over the previous one (decreasing; the first buys `math.inf`).

        The upper concave hull of (expected days early, P(on time)) from the MIN_PROMISE_LEVEL
        quantile on: a brand keeps its share of promises with the least padding by stretching
        each promise only while a day of padding buys enough, so one more delivery day over a
        weekend (three calendar days) is bought less often than one midweek.
        """
        if self._offers is None:
            object.__setattr__(self, "_offers", self._trade_offs())
        return self._offers  # type: ignore[return-value]

    def _trade_offs(self) -> tuple[tuple[int, float], ...]:
        first = bisect_left(self.cumulative, MIN_PROMISE_LEVEL - 1e-12)
        first = min(first, len(self.days) - 1)
        hull: list[tuple[int, float, float]] = []  # (index, expected padding, P(on time))
        padding = 0.0  # relative to the first candidate; only differences matter
        for i in range(first, len(self.days)):
            if i > first:
                padding += self.cumulative[i - 1] * (self.days[i] - self.days[i - 1]).days
            point = (i, padding, self.cumulative[i])
            while len(hull) >= 2 and _below(hull[-2], hull[-1], point):
                hull.pop()
            hull.append(point)
        slopes = [math.inf] + [
            (b[2] - a[2]) / (b[1] - a[1]) if b[1] > a[1] else math.inf
            for a, b in zip(hull, hull[1:], strict=False)
        ]
        return tuple((point[0], slope) for point, slope in zip(hull, slopes, strict=True))


def _below(a: tuple[int, float, float], b: tuple[int, float, float], c: tuple) -> bool:
    """Whether `b` lies on or under the chord from `a` to `c` (so it leaves the upper hull)."""
    return (b[2] - a[2]) * (c[1] - a[1]) <= (c[2] - a[2]) * (b[1] - a[1])


def date_pmf(mass: dict[date, float]) -> DatePMF:
    """Normalise probability mass per date into a DatePMF."""
    return ordinal_pmf({day.toordinal(): m for day, m in mass.items()})


def ordinal_pmf(mass: dict[int, float]) -> DatePMF:
    """Normalise probability mass per date ordinal into a DatePMF (ordinals sort and compare
    faster than dates; only the kept days become dates)."""
    ordinals = sorted(mass)
    total, cumulative = 0.0, []
    norm = sum(mass.values())
    for ordinal in ordinals:
        total += mass[ordinal] / norm
        cumulative.append(total)
    most_likely = max(ordinals, key=mass.__getitem__)
    return DatePMF(
        tuple(map(date.fromordinal, ordinals)), tuple(cumulative), date.fromordinal(most_likely)
    )
