from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from shipflow.calendars import apply_cutoff, calendar

WEEKDAYS = frozenset(range(5))
NY, BERLIN, SYDNEY = (
    ZoneInfo("America/New_York"),
    ZoneInfo("Europe/Berlin"),
    ZoneInfo("Australia/Sydney"),
)


@pytest.mark.parametrize(
    ("ordered_at", "zone", "country", "start", "deadline"),
    [
        # before / after a 15:00 cut-off on a plain Tuesday
        (
            datetime(2026, 11, 24, 14, 59, tzinfo=NY),
            "America/New_York",
            "US",
            date(2026, 11, 24),
            datetime(2026, 11, 24, 15, tzinfo=NY),
        ),
        (
            datetime(2026, 11, 24, 15, 0, tzinfo=NY),
            "America/New_York",
            "US",
            date(2026, 11, 25),
            datetime(2026, 11, 25, 15, tzinfo=NY),
        ),
        # the order's own zone differs from the warehouse's: 20:30 UTC is 15:30 in New York
        (
            datetime(2026, 11, 24, 20, 30, tzinfo=UTC),
            "America/New_York",
            "US",
            date(2026, 11, 25),
            datetime(2026, 11, 25, 15, tzinfo=NY),
        ),
        # ...but still 07:30 next morning in Sydney (before the cut-off there)
        (
            datetime(2026, 11, 24, 20, 30, tzinfo=UTC),
            "Australia/Sydney",
            "AU",
            date(2026, 11, 25),
            datetime(2026, 11, 25, 15, tzinfo=SYDNEY),
        ),
        # Friday after cut-off -> Monday; weekend -> Monday
        (
            datetime(2026, 11, 20, 16, tzinfo=NY),
            "America/New_York",
            "US",
            date(2026, 11, 23),
            datetime(2026, 11, 23, 15, tzinfo=NY),
        ),
        (
            datetime(2026, 11, 21, 9, tzinfo=NY),
            "America/New_York",
            "US",
            date(2026, 11, 23),
            datetime(2026, 11, 23, 15, tzinfo=NY),
        ),
        # Thanksgiving (Thu 26 Nov 2026) is closed
        (
            datetime(2026, 11, 25, 16, tzinfo=NY),
            "America/New_York",
            "US",
            date(2026, 11, 27),
            datetime(2026, 11, 27, 15, tzinfo=NY),
        ),
        # German Unity Day (Sat 3 Oct 2026 is a weekend anyway); Christmas in Berlin
        (
            datetime(2026, 12, 24, 16, tzinfo=BERLIN),
            "Europe/Berlin",
            "DE",
            date(2026, 12, 28),
            datetime(2026, 12, 28, 15, tzinfo=BERLIN),
        ),
    ],
)
def test_cutoff_start_day_and_deadline(ordered_at, zone, country, start, deadline):
    cut = apply_cutoff(ordered_at, zone, time(15), calendar(WEEKDAYS, country))
    assert cut.start_day == start
    assert cut.deadline == deadline
    assert cut.countdown == deadline - ordered_at


@pytest.mark.parametrize(
    ("ordered_at", "countdown"),
    [
        # Sat 7 Mar 2026 12:00 EST -> Mon 9 Mar 15:00 EDT: clocks sprang forward, 50 h not 51 h
        (datetime(2026, 3, 7, 12, tzinfo=NY), timedelta(hours=50)),
        # Sat 31 Oct 2026 12:00 EDT -> Mon 2 Nov 15:00 EST: clocks fell back, 52 h not 51 h
        (datetime(2026, 10, 31, 12, tzinfo=NY), timedelta(hours=52)),
    ],
)
def test_countdown_is_real_elapsed_time_across_dst(ordered_at, countdown):
    cut = apply_cutoff(ordered_at, "America/New_York", time(15), calendar(WEEKDAYS, "US"))
    assert cut.countdown == countdown


def test_cutoff_needs_an_aware_moment():
    with pytest.raises(ValueError):
        apply_cutoff(datetime(2026, 1, 5, 9), "UTC", time(15), calendar(WEEKDAYS, None))


@pytest.mark.parametrize(
    ("weekdays", "country", "subdivision", "day", "n", "expected"),
    [
        (WEEKDAYS, "US", None, date(2025, 7, 3), 1, date(2025, 7, 7)),  # skips July 4th + weekend
        (WEEKDAYS | {5}, "US", None, date(2025, 7, 3), 1, date(2025, 7, 5)),  # Saturday delivery
        (WEEKDAYS, "BR", "SP", date(2017, 7, 7), 1, date(2017, 7, 10)),  # 9 Jul 2017 (SP) is Sunday
        (WEEKDAYS, "BR", "SP", date(2017, 11, 14), 1, date(2017, 11, 16)),  # 15 Nov: Republic Day
        (
            WEEKDAYS,
            "BR",
            "SP",
            date(2017, 11, 1),
            1,
            date(2017, 11, 3),
        ),  # 2 Nov: All Souls
        (WEEKDAYS, "BR", "RJ", date(2017, 4, 21), 1, date(2017, 4, 24)),  # Tiradentes (Fri) -> Mon
        (WEEKDAYS, "US", None, date(2025, 12, 31), 0, date(2025, 12, 31)),  # same day
        (
            WEEKDAYS,
            "US",
            None,
            date(2025, 12, 27),
            0,
            date(2025, 12, 27),
        ),  # same day, even on a Saturday
    ],
)
def test_business_days_after(weekdays, country, subdivision, day, n, expected):
    assert calendar(weekdays, country, subdivision).after(day, n) == expected


def test_count_add_and_next_day_agree():
    cal = calendar(WEEKDAYS, "US")
    start = date(2025, 12, 19)
    for n in range(1, 30):
        end = cal.after(start, n)
        assert cal.count(start, end) == n
    assert cal.next_day(date(2025, 12, 25)) == date(2025, 12, 26)
    assert cal.add(date(2025, 12, 24), 1) == date(2025, 12, 26)
    assert cal.count(date(2026, 1, 10), date(2026, 1, 5)) == -4  # Tue..Fri


def test_unknown_country_has_weekdays_only():
    cal = calendar(WEEKDAYS, "ZZ")
    assert cal.after(date(2026, 12, 24), 1) == date(2026, 12, 25)


def test_a_subdivision_the_holidays_package_does_not_know_shares_the_national_calendar():
    """Postal tables and shoppers' addresses name regions any way they like: one calendar
    for all of those, not one built and kept for each name."""
    national = calendar(WEEKDAYS, "TW")
    assert calendar(WEEKDAYS, "TW", "Taipei/Zhongzheng") is national
    assert calendar(WEEKDAYS, "TW", "no such region 1") is national
    assert calendar(WEEKDAYS, "US", "Nowhere") is calendar(WEEKDAYS, "US")
    # a state the package knows, by its code or its name, keeps its own holidays
    assert calendar(WEEKDAYS, "US", "NY") is not calendar(WEEKDAYS, "US")
    assert calendar(WEEKDAYS, "US", "Alaska").is_business_day(date(2026, 3, 30)) is False
