"""What each sandbox service promises, and the calendar it keeps: no pickups or deliveries on
Sundays or public holidays (US federal ones in the US), Saturday deliveries only for the services
that offer them, and work on the weekend days a country makes working days by law (Taiwan's
Saturday before Lunar New Year), as its carriers do: `shipflow.calendars`, the calendar
shipflow counts in."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from shipflow.calendars import calendar
from shipflow.domain import ServiceLevel

MON_FRI = frozenset(range(5))
MON_SAT = frozenset(range(6))


@dataclass(frozen=True, slots=True)
class ServiceRule:
    """How a service moves: transit days by distance, the weekdays it delivers, by air or not."""

    level: ServiceLevel
    delivery_weekdays: frozenset[int]
    by_air: bool
    transit: Callable[[float], int]
    delivery_window: tuple[float, float] = (9.5, 19.5)  # local hours of the delivery scan


def ground_transit_days(km: float) -> int:
    """One delivery day, plus one per full 600 km, at most five."""
    return min(5, 1 + int(km // 600))


SERVICES = {
    "same_day": ServiceRule(ServiceLevel.SAME_DAY, MON_SAT, False, lambda km: 0, (14.0, 20.0)),
    "overnight": ServiceRule(ServiceLevel.EXPRESS, MON_SAT, True, lambda km: 1, (8.5, 10.5)),
    "express": ServiceRule(ServiceLevel.EXPRESS, MON_SAT, True, lambda km: 2, (9.5, 17.0)),
    "ground": ServiceRule(ServiceLevel.STANDARD, MON_FRI, False, ground_transit_days),
    "economy": ServiceRule(
        ServiceLevel.ECONOMY, MON_FRI, False, lambda km: ground_transit_days(km) + 2
    ),
    # Ground to a store (`places.STORES`) the customer collects from, stores open Saturdays.
    "pickup_point": ServiceRule(ServiceLevel.PICKUP_POINT, MON_SAT, False, ground_transit_days),
}
PICKUP_SERVICE = "pickup_point"


def transit_days(service: str, km: float) -> int:
    """Delivery days from pickup to the first attempt, as promised (before any delay)."""
    return SERVICES[service].transit(km)


def is_working_day(day: date, weekdays: frozenset[int], country: str = "US") -> bool:
    return calendar(weekdays, country).is_business_day(day)


def add_working_days(day: date, count: int, weekdays: frozenset[int], country: str = "US") -> date:
    """The `count`-th working day after `day` (`day` itself when count is 0 and it works), in
    `country`'s holidays (the sandbox network runs within one country)."""
    days = calendar(weekdays, country)
    return days.after(day, count) if count else days.next_day(day)
