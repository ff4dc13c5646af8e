import re
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from babel.messages.pofile import read_po

from shipflow.web import i18n

PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("zh-TW", "zh-Hant"),
        ("zh-hk", "zh-Hant"),
        ("zh_Hant", "zh-Hant"),
        ("zh-Hant-TW", "zh-Hant"),
        ("zh-CN", "zh-Hans"),
        ("zh", "zh-Hans"),
        ("fa-IR", "fa"),
        ("ja-JP", "ja"),
        ("en-GB", "en"),
        ("de-DE", None),
        ("", None),
    ],
)
def test_normalize_browser_tags(tag, expected):
    assert i18n.normalize(tag) == expected


def test_negotiation_prefers_query_then_cookie_then_browser_within_the_brand():
    allowed = ["en", "ja", "fa"]
    assert i18n.negotiate(allowed, "fa", "ja", ["en"]) == "fa"
    assert i18n.negotiate(allowed, None, "ja", ["fa"]) == "ja"
    assert i18n.negotiate(allowed, "de", None, ["zh-TW", "fa-IR"]) == "fa"
    assert i18n.negotiate(allowed, "zh-Hant", None, ["de"]) == "en"  # not offered: first


def test_brand_languages_keep_order_and_drop_unknown():
    assert i18n.brand_languages(["ja", "xx", "zh-TW", "ja"]) == ["ja", "zh-Hant"]
    assert i18n.brand_languages([]) == ["en"]


@pytest.mark.parametrize("language", ["zh-Hant", "zh-Hans", "ja", "fa"])
def test_every_message_is_translated_with_the_same_placeholders(language):
    path = i18n.TRANSLATIONS / i18n.babel_id(language) / "LC_MESSAGES" / "messages.po"
    with (i18n.TRANSLATIONS / "messages.pot").open("rb") as pot, path.open("rb") as po:
        template = {m.id for m in read_po(pot) if m.id}
        catalog = read_po(po)
    found = {m.id: m for m in catalog if m.id}
    assert template <= set(found), f"untranslated in {language}: {template - set(found)}"
    for message in found.values():
        sources = message.id if isinstance(message.id, tuple) else (message.id,)
        targets = message.string if isinstance(message.string, tuple) else (message.string,)
        for target in targets:
            assert target, f"{language}: empty translation of {sources[0]!r}"
            assert set(PLACEHOLDER.findall(target)) == set(PLACEHOLDER.findall(sources[-1]))


def test_catalogs_compile_in_memory_without_mo_files():
    assert not list(i18n.TRANSLATIONS.rglob("*.mo"))
    assert i18n.translations("ja").ugettext("Delivered") == "配達完了"
    assert i18n.translations("fa").ugettext("Delivered") == "تحویل شد"


def test_dates_and_numbers_are_written_the_local_way():
    day = date(2026, 11, 26)
    assert i18n.format_day(day, language="en") == "Thu, Nov 26"
    assert i18n.format_day(day, language="ja") == "11月26日(木)"
    assert i18n.format_day(day, language="fa") == "پنج‌شنبه ۵ آذر"  # Solar Hijri: 5 Azar 1405
    assert i18n.format_number(10, language="fa") == "۱۰"
    assert i18n.format_money(24900, "USD", language="en") == "$249.00"
    moment = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)
    assert (
        i18n.format_moment(moment, ZoneInfo("America/Chicago"), "en") == "Mon, Nov 23 7:00\u202fAM"
    )
    assert i18n.direction("fa") == "rtl"
    assert i18n.direction("zh-Hant") == "ltr"
