"""Day and duration formatting for messages sent outside any web request (e-mails, SMS)."""

from datetime import date, timedelta

from shipflow.i18n import format_day, format_duration


def test_days_are_written_in_the_given_language_without_a_request():
    day = date(2026, 11, 26)
    assert format_day(day, with_year=True, language="en") == "Thu, Nov 26, 2026"
    assert format_day(day, language="ja") == "11月26日(木)"
    assert format_day(day, language="fa") == "پنج‌شنبه ۵ آذر"  # Solar Hijri: 5 Azar 1405
    assert format_day(day, language="xx") == "Thu, Nov 26"  # unknown to Babel: English
    assert format_day(None, language="ja") == ""


def test_durations_are_written_with_each_languages_units_digits_and_joiner():
    span = timedelta(hours=4, minutes=43)
    assert format_duration(span, "en") == "4 hours, 43 minutes"
    assert format_duration(span, "ja") == "4時間43分"
    assert format_duration(span, "zh-Hant") == "4小時43分鐘"
    assert format_duration(span, "zh-Hans") == "4小时43分钟"
    assert format_duration(span, "fa") == "۴ ساعت و ۴۳ دقیقه"
    assert format_duration(timedelta(days=2, minutes=5), "fa") == "۲ روز و ۵ دقیقه"
    assert format_duration(timedelta(hours=3), "ja") == "3時間"
    assert format_duration(timedelta(seconds=20), "en") == "0 minutes"
