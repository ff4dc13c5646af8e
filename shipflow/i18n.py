"""Dates written the way a customer's language writes them, for the pages and for the
messages sent outside any request (Babel's locale data; Persian in the Solar Hijri calendar
that Iran uses, through `jdatetime`, with Persian digits)."""

from __future__ import annotations

from datetime import date
from functools import cache, lru_cache

import jdatetime
from babel import Locale, UnknownLocaleError
from babel import dates as babel_dates

DEFAULT = "en"
_PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


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
