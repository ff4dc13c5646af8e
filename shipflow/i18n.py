"""Dates written the way a customer's language writes them, for the pages and for the
messages sent outside any request (Babel's locale data; Persian in the Solar Hijri calendar
that Iran uses, through `jdatetime`, with Persian digits)."""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache, lru_cache

import jdatetime
from babel import Locale, UnknownLocaleError
from babel import dates as babel_dates
from babel.lists import format_list
from babel.units import format_unit

DEFAULT = "en"
_PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
# Chinese and Japanese write no space between a number and its unit, nor between units.
_UNSPACED = ("zh", "ja")


def babel_id(tag: str) -> str:
    return tag.replace("-", "_")


@cache  # one object per language: Babel keeps its parsed patterns on it, not re-parsed per call
def locale(language: str) -> Locale:
    """Babel's locale of a supported language tag; English if Babel does not know it."""
    try:
        return Locale.parse(babel_id(language))
    except (UnknownLocaleError, ValueError):
        return Locale.parse(DEFAULT)


def native_digits(text: str, locale: Locale) -> str:
    """Persian is written with Persian digits; Babel's dates come with Latin ones."""
    return text.translate(_PERSIAN_DIGITS) if locale.language == "fa" else text


@lru_cache(maxsize=4096)  # a batch of messages names a handful of days, in a few languages
def format_day(value: date | None, with_year: bool = False, language: str = DEFAULT) -> str:
    """A delivery date: "Thu, Nov 26" / "11月26日(木)" / "پنجشنبه ۵ آذر" (Solar Hijri)."""
    if value is None:
        return ""
    written = locale(language)
    if written.language == "fa":
        return solar_hijri(value, with_year)
    skeleton = "yMMMEd" if with_year else "MMMEd"
    return native_digits(babel_dates.format_skeleton(skeleton, value, locale=written), written)


def solar_hijri(value: date, with_year: bool = False) -> str:
    """A date in the Solar Hijri calendar, as Iranians write it: weekday, day, month (year)."""
    day = jdatetime.date.fromgregorian(date=value)
    words = [day.j_weekdays_fa[day.weekday()], str(day.day), day.j_months_fa[day.month - 1]]
    return native_digits(" ".join([*words, str(day.year)] if with_year else words), Locale("fa"))


def format_duration(value: timedelta, language: str = DEFAULT) -> str:
    """A duration in days, hours and minutes, as the language says it: "4 hours, 43 minutes",
    "4時間43分", "4小時43分鐘", "۴ ساعت و ۴۳ دقیقه" (Babel's unit and list patterns)."""
    written = locale(language)
    minutes = max(0, int(value.total_seconds()) // 60)
    amounts = (("duration-day", minutes // 1440), ("duration-hour", minutes // 60 % 24))
    parts = [format_unit(n, unit, "long", locale=written) for unit, n in amounts if n]
    if minutes % 60 or not parts:
        parts.append(format_unit(minutes % 60, "duration-minute", "long", locale=written))
    text = format_list(parts, style="unit", locale=written)
    if written.language in _UNSPACED:
        text = text.replace(" ", "")
    return native_digits(text, written)
