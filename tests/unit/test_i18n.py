"""Day formatting for messages sent outside any web request (post-purchase e-mails, SMS)."""

from datetime import date

from shipflow.i18n import format_day


def test_days_are_written_in_the_given_language_without_a_request():
    day = date(2026, 11, 26)
    assert format_day(day, with_year=True, language="en") == "Thu, Nov 26, 2026"
    assert format_day(day, language="ja") == "11月26日(木)"
    assert format_day(day, language="fa") == "پنج‌شنبه ۵ آذر"  # Solar Hijri: 5 Azar 1405
    assert format_day(day, language="xx") == "Thu, Nov 26"  # unknown to Babel: English
    assert format_day(None, language="ja") == ""
