"""Business days, cut-offs and carrier delivery days.

A calendar is a set of weekdays minus public holidays of one country/subdivision, plus the
make-up working days that country moves onto its weekend (mainland China and Taiwan work a
Saturday or Sunday to bridge a holiday; the `holidays` package lists them). Business days
are kept as a sorted list of ordinals so "add n business days" is a bisect, not a loop: quoting
must stay well under a millisecond.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache, lru_cache
from zoneinfo import ZoneInfo, available_timezones

import holidays


@cache
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def known_zone(name: str | None) -> str | None:
    """`name` when it is an IANA time zone, else None: postal data sets carry the odd city name
    in that column (ZIP 99634 says "Napakiak"), which must not break a quote or a timeline."""
    return name if name in _zone_names() else None


ALL_WEEK = frozenset(range(7))
WEEKEND_YEAR = 2025  # the weekend is a class attribute; any year the package covers will do


@cache
def _country(
    country: str | None, subdivision: str | None, year: int
) -> holidays.HolidayBase | None:
    """The `holidays` package's calendar of one country/subdivision and year (None for an
    unknown country); `subdivision` is one the package knows (`_known_subdivision`)."""
    if not country:
        return None
    try:
        return holidays.country_holidays(country, subdiv=subdivision, years=year)
    except NotImplementedError:
        return None  # the package does not know this country: weekdays only


@cache
def _subdivisions(country: str | None) -> frozenset[str]:
    """Every subdivision name the package takes for `country`, as it checks them: codes,
    aliases, deprecated names and its parent entity's."""
    found = _country(country, None, WEEKEND_YEAR)
    if found is None:
        return frozenset()
    parent = found.parent_entity.subdivisions if found.parent_entity else ()
    # the deprecated names are private to the package: a release without them takes none
    deprecated = getattr(found, "_deprecated_subdivisions", ())
    names = (found.subdivisions, found.subdivisions_aliases, deprecated)
    return frozenset(name for group in (*names, parent) for name in group)


def _known_subdivision(country: str | None, subdivision: str | None) -> str | None:
    """`subdivision` if the package knows it, else None: the national holidays. Postal tables
    name regions their own way ("Taipei/Zhongzheng", "Delhi/New Delhi"), which the package
    refuses, and a shopper's address may name any; all of those share the national
    calendar, not one copy each."""
    return subdivision if subdivision and subdivision in _subdivisions(country) else None


def weekend(country: str | None) -> frozenset[int]:
    """The country's weekend (0=Monday) as the `holidays` package records it: Saturday and
    Sunday for most, Friday for Iran. Countries it does not know keep Saturday and Sunday."""
    found = _country(country, None, WEEKEND_YEAR)
    return frozenset(found.weekend) if found is not None else frozenset({5, 6})


def working_week(country: str | None) -> frozenset[int]:
    """The weekdays a country works: the week minus its weekend."""
    return ALL_WEEK - weekend(country)


@cache
def make_up_days(country: str | None, subdivision: str | None, year: int) -> frozenset[date]:
    """Weekend days of `year` that are working days by law (China's and Taiwan's
    "adjusted working days"), from the package's `weekend_workdays`."""
    found = _country(country, _known_subdivision(country, subdivision), year)
    if found is None:
        return frozenset()
    return frozenset(day for day in found.weekend_workdays if day.year == year)


@cache
def holiday_dates(country: str | None, subdivision: str | None, year: int) -> frozenset[date]:
    """Public holidays of one country/subdivision and year (empty for no or unknown country)."""
    found = _country(country, _known_subdivision(country, subdivision), year)
    return frozenset(found) if found is not None else frozenset()


class BusinessCalendar:
    """Open weekdays (0=Monday) minus the holidays of `country`/`subdivision`, plus its make-up
    working days (a legal working day is one for carriers and warehouses too)."""

    def __init__(
        self, weekdays: frozenset[int], country: str | None = None, subdivision: str | None = None
    ) -> None:
        if not weekdays:
            raise ValueError("a calendar needs at least one open weekday")
        self.weekdays, self.country, self.subdivision = weekdays, country, subdivision
        self._first_year = self._last_year = 0
        self._days: list[int] = []

    def _cover(self, day: date) -> None:
        """Extend the ordinal list so it spans `day`'s year and the next one."""
        if self._first_year <= day.year < self._last_year:
            return
        first = min(day.year, self._first_year or day.year)
        last = max(day.year + 2, self._last_year)
        days = []
        for year in range(first, last):
            closed = holiday_dates(self.country, self.subdivision, year)
            made_up = make_up_days(self.country, self.subdivision, year)
            current, end = date(year, 1, 1), date(year + 1, 1, 1)
            while current < end:
                open_day = current.weekday() in self.weekdays or current in made_up
                if open_day and current not in closed:
                    days.append(current.toordinal())
                current += timedelta(days=1)
        self._first_year, self._last_year, self._days = first, last, days

    def after(self, day: date, n: int) -> date:
        """The n-th business day strictly after `day`; n=0 is `day` itself (same-day)."""
        if n <= 0:
            return day
        return self.add(day + timedelta(days=1), n - 1)

    def ordinals_from(self, day: date, count: int) -> list[int]:
        """Ordinals of "n business days after `day`" for n = 0..count (one bisect, then a slice):
        n=0 is `day` itself, or when it is closed the next business day, which is then n=1 too."""
        self._cover(day)
        ordinal = day.toordinal()
        i = bisect_right(self._days, ordinal)
        while i + count >= len(self._days):
            self._cover(date.fromordinal(self._days[-1]) + timedelta(days=366))
            i = bisect_right(self._days, ordinal)
        if i and self._days[i - 1] == ordinal:
            return self._days[i - 1 : i + count]
        return [self._days[i], *self._days[i : i + count]]

    def is_business_day(self, day: date) -> bool:
        self._cover(day)
        i = bisect_left(self._days, day.toordinal())
        return i < len(self._days) and self._days[i] == day.toordinal()

    def add(self, day: date, n: int) -> date:
        """The n-th business day after `day`; n=0 is `day` itself or the next business day."""
        self._cover(day)
        i = bisect_left(self._days, day.toordinal()) + n
        while i >= len(self._days):
            self._cover(date.fromordinal(self._days[-1]) + timedelta(days=366))
            i = bisect_left(self._days, day.toordinal()) + n
        return date.fromordinal(self._days[i])

    def next_day(self, day: date) -> date:
        """The first business day on or after `day`."""
        return self.add(day, 0)

    def count(self, start: date, end: date) -> int:
        """Business days in (start, end]; negative when end is before start."""
        if end < start:
            return -self.count(end, start)
        self._cover(start)
        self._cover(end)
        return bisect_right(self._days, end.toordinal()) - bisect_right(
            self._days, start.toordinal()
        )


@lru_cache(maxsize=4096)
def calendar(
    weekdays: frozenset[int], country: str | None, subdivision: str | None = None
) -> BusinessCalendar:
    """Shared calendars: one per (weekdays, country, subdivision the package knows), every
    other name sharing the national one. A quote asks for a calendar dozens of times, so the
    names asked are remembered too (a bounded number of them: they may be any string), and
    one asked before costs a lookup, not the check."""
    return _calendar(weekdays, country, _known_subdivision(country, subdivision))


@cache
def _calendar(
    weekdays: frozenset[int], country: str | None, subdivision: str | None
) -> BusinessCalendar:
    return BusinessCalendar(weekdays, country, subdivision)


def preload(weekdays: frozenset[int], country: str, years: range) -> None:
    """Build a country's calendars (every subdivision) ahead of traffic: a cold one costs ~1 ms."""
    try:
        subdivisions = [None, *holidays.country_holidays(country).subdivisions]
    except NotImplementedError:
        subdivisions = [None]
    for subdivision in subdivisions:
        cal = calendar(weekdays, country, subdivision)
        cal._cover(date(years.start, 1, 1))
        cal._cover(date(years.stop - 1, 1, 1))


@dataclass(frozen=True, slots=True)
class CutOff:
    """When an order placed at `ordered_at` starts being handled, and how long until the cut-off."""

    start_day: date  # first working day the warehouse handles the order
    deadline: datetime  # the cut-off moment that order makes (tz-aware, warehouse zone)
    countdown: timedelta  # ordered_at -> deadline


def apply_cutoff(
    ordered_at: datetime, zone: str, cutoff: time, working: BusinessCalendar
) -> CutOff:
    """Orders after the cut-off, or on a closed day, start on the next working day.

    The cut-off is wall-clock time in the warehouse's zone, so it holds across DST changes.
    """
    if ordered_at.tzinfo is None:
        raise ValueError("ordered_at must be time-zone aware")
    tz = ZoneInfo(zone)
    local = ordered_at.astimezone(tz)
    today = local.date()
    start = today if local.time() < cutoff else today + timedelta(days=1)
    start = working.next_day(start)
    deadline = datetime.combine(start, cutoff, tzinfo=tz)
    # via UTC: subtracting two datetimes sharing a tzinfo would ignore a DST change between them
    return CutOff(start, deadline, deadline.astimezone(UTC) - ordered_at.astimezone(UTC))
