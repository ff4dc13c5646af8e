"""Every rule that depends on "now" takes a clock, so tests and the sandbox can move time."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    # Clock seconds per real second: what a period counted in real seconds (a job's schedule)
    # spans on this clock.
    speed: float

    def now(self) -> datetime: ...


class SystemClock:
    speed: float = 1.0

    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class FixedClock:
    """A clock that moves only when told to (tests), or one moment given where a clock is asked."""

    current: datetime = field(default_factory=lambda: datetime(2026, 11, 23, 15, tzinfo=UTC))
    speed: float = 1.0  # time moves when told to; a real second is one of its seconds

    def now(self) -> datetime:
        return self.current

    def advance(self, delta: timedelta) -> None:
        self.current += delta


@dataclass
class AcceleratedClock:
    """Simulated time running `speed` times faster than real time from `start` (the demo)."""

    start: datetime
    speed: float
    _real_start: datetime = field(default_factory=lambda: datetime.now(UTC))

    def now(self) -> datetime:
        return self.start + (datetime.now(UTC) - self._real_start) * self.speed
