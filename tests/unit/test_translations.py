"""Every customer-facing wording keeps to the glossary of docs/translations.md: one word per
language for carrier, parcel, pickup point and driver, and Chinese and Japanese punctuation
not followed by an ASCII space. Scans the page catalogues, the e-mail/SMS wordings and the
widget's own string table."""

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from shipflow.notify.templates import DEFAULTS, PARCEL_OF

ROOT = Path(__file__).resolve().parents[2]
CATALOGUES = ROOT / "shipflow" / "web" / "translations"
WIDGET = ROOT / "shipflow" / "web" / "widget" / "static" / "edd-widget.js"

# language -> concept -> (the word used, the variants that must not appear)
GLOSSARY = {
    "en": {
        "carrier": ("carrier", [r"courier", r"shipping company"]),
        "parcel": ("parcel", [r"\bpackage"]),
        "pickup point": (
            "pickup point",
            [r"collection point", r"pick-up point", r"pickup location"],
        ),
        "driver": ("driver", [r"delivery person", r"courier"]),
    },
    "zh-Hant": {
        "carrier": ("物流商", ["物流業者", "貨運公司", "快遞公司", "承運商"]),
        "parcel": ("包裹", ["貨件"]),
        "pickup point": ("取貨門市", ["取件點", "取貨點", "自取點"]),
        "driver": ("配送員", ["司機", "配送人員", "送貨員"]),
        "delivering": ("配送", ["派送"]),  # 派送 is the mainland's word
    },
    "zh-Hans": {
        "carrier": ("快递公司", ["承运商", "物流商", "物流公司"]),
        "parcel": ("包裹", ["货件"]),
        "pickup point": ("自提点", ["取件点", "取货点"]),
        "driver": ("快递员", ["司机", "配送员", "派送员"]),
    },
    "ja": {
        "carrier": ("配送業者", ["運送会社", "運送業者", "宅配業者", "キャリア"]),
        "parcel": ("荷物", ["パッケージ", "小包"]),
        "pickup point": ("受取場所", ["受け取り場所", "受取スポット", "受取拠点"]),
        "driver": ("配達員", ["ドライバー", "配送員"]),
        "in transit": ("輸送中", ["お届け途中"]),
    },
    "fa": {
        "carrier": ("شرکت حمل‌ونقل", ["متصدی حمل", "شرکت حمل(?!‌ونقل)", "باربری"]),
        "parcel": ("مرسوله", [r"(?<![\w‌])بسته(?!‌بندی)"]),
        "pickup point": ("نقطهٔ تحویل", ["نقطه تحویل", "نقطه‌ی تحویل", "پایگاه تحویل"]),
        "driver": ("پیک", ["راننده", "مأمور", "نامه‌رسان"]),
    },
}
UNSPACED = ("zh-Hant", "zh-Hans", "ja")
# 。、！？，：；）」』 and the other full-width marks, then an ASCII space.
SPACE_AFTER_FULL_WIDTH = re.compile(r"[\u3000-\u303f\uff01-\uff0f\uff1a-\uff1f\uff08-\uff09] ")


def catalogue(language: str) -> list[str]:
    path = CATALOGUES / language.replace("-", "_") / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        messages = [m for m in read_po(handle) if m.id]
    texts = []
    for message in messages:
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        texts += list(ids if language == "en" else strings)
    return [t for t in texts if t]


def widget_strings(language: str) -> list[str]:
    key = f'"{language}"' if "-" in language else language
    block = re.search(rf"\n\s*{re.escape(key)}: \{{(.*?)\n\s*\}}", WIDGET.read_text(), re.S)
    assert block, f"the widget has no string table for {language}"
    return re.findall(r'"((?:[^"\\]|\\.)*)"', block.group(1))


def message_strings(language: str) -> list[str]:
    wordings = DEFAULTS[language].values()
    return [PARCEL_OF[language], *(t.subject for t in wordings), *(t.body for t in wordings)]


def everything(language: str) -> list[str]:
    return catalogue(language) + widget_strings(language) + message_strings(language)


@pytest.mark.parametrize("language", GLOSSARY)
def test_each_concept_is_said_with_the_glossarys_one_word(language):
    texts = everything(language)
    for concept, (word, banned) in GLOSSARY[language].items():
        assert any(word in text.lower() for text in texts), f"{language}: no {word} for {concept}"
        for variant in banned:
            found = [t for t in texts if re.search(variant, t, re.I)]
            assert not found, f"{language} says {concept} as {variant!r}, not {word}: {found}"


@pytest.mark.parametrize("language", UNSPACED)
def test_chinese_and_japanese_punctuation_is_not_followed_by_an_ascii_space(language):
    spaced = [t for t in everything(language) if SPACE_AFTER_FULL_WIDTH.search(t)]
    assert not spaced, f"{language}: {spaced}"


def test_the_checks_catch_what_they_are_for():
    assert re.search(GLOSSARY["fa"]["carrier"][1][1], "شرکت حمل نتوانست")
    assert not re.search(GLOSSARY["fa"]["carrier"][1][1], "شرکت حمل‌ونقل نتوانست")
    assert not re.search(GLOSSARY["fa"]["parcel"][1][0], "سرزمین وابسته‌ی آمریکا")
    assert SPACE_AFTER_FULL_WIDTH.search("已取消。 請再試一次")
    assert not SPACE_AFTER_FULL_WIDTH.search("已取消。請再試一次")
