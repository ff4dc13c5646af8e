"""A transit or handling time as a probability per whole business day."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np


@dataclass(frozen=True, slots=True)
class Distribution:
    """P(days = i) for i = 0..len-1, the finest level with enough data and its sample weight.

    Quoting hashes and walks the same few distributions thousands of times a second, so the
    hash is computed when the distribution is made and the support when first asked for (most
    lanes of an estimate are ruled out by their quantile alone).
    """

    pmf: tuple[float, ...]
    level: str
    samples: float = 0.0
    _hash: int = field(init=False, repr=False, compare=False)
    _support: tuple[tuple[int, float], ...] | None = field(
        init=False, repr=False, compare=False, default=None
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "_hash", hash((self.pmf, self.level, self.samples)))

    def __hash__(self) -> int:
        return self._hash

    def quantile(self, p: float) -> int:
        total = 0.0
        for days, mass in enumerate(self.pmf):
            total += mass
            if total >= p - 1e-12:
                return days
        return len(self.pmf) - 1

    @property
    def mode(self) -> int:
        return max(range(len(self.pmf)), key=self.pmf.__getitem__)

    def at_least(self, days: int) -> Distribution:
        """Conditioned on taking `days` or more (the parcel is still on its way)."""
        tail = [0.0] * days + list(self.pmf[days:])
        total = sum(tail)
        if total <= 0:  # later than anything seen: the longest transit the model knows
            tail = [0.0] * min(days, len(self.pmf) - 1) + [1.0]
            total = 1.0
        return Distribution(tuple(m / total for m in tail), self.level, self.samples)

    def stretched(self, factor: float) -> Distribution:
        """Every transit `factor` times as long: day d's mass moved to d * factor, split
        between the whole days either side so the mean stretches exactly (the last day keeps
        what would fall beyond it)."""
        if factor == 1:
            return self
        moved = np.array(self.pmf) @ _stretching(factor, len(self.pmf))
        return Distribution(tuple(moved.tolist()), self.level, self.samples)

    def support(self) -> tuple[tuple[int, float], ...]:
        """(days, mass) pairs worth combining, renormalised."""
        if self._support is None:
            object.__setattr__(self, "_support", _support(self.pmf))
        return self._support  # type: ignore[return-value]


def _support(pmf: tuple[float, ...], floor: float = 1e-4) -> tuple[tuple[int, float], ...]:
    kept = [(d, m) for d, m in enumerate(pmf) if m >= floor]
    total = sum(m for _, m in kept)
    return tuple((d, m / total) for d, m in kept)


@lru_cache(maxsize=64)
def _stretching(factor: float, size: int) -> np.ndarray:
    """The matrix taking a pmf over days to the same pmf `factor` times as long (a new lane
    is stretched on the quote path: one product instead of a loop over its days)."""
    matrix = np.zeros((size, size))
    for days in range(size):
        scaled = min(days * factor, size - 1)
        whole = int(scaled)
        matrix[days, whole] += 1 - (scaled - whole)
        if scaled > whole:
            matrix[days, whole + 1] += scaled - whole
    return matrix


@lru_cache(maxsize=256)
def point_mass(days: int, level: str) -> Distribution:
    return Distribution(tuple([0.0] * days + [1.0]), level)
