"""Languages of the customer-facing pages: which one a visitor gets, the translated strings,
and dates, times and numbers written the way that language writes them.

The visitor's language is chosen from `?lang=`, then the remembered cookie, then the
browser's Accept-Language, always among the brand's configured languages. Catalogs are the
`.po` files under `translations/`, compiled in memory on first use, so a fresh
`pip install -e .` needs no build step and no `.mo` files.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from datetime import date, datetime, timedelta, tzinfo
from functools import cache, lru_cache
from pathlib import Path

from babel import Locale
from babel import dates as babel_dates
from babel import numbers as babel_numbers
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from flask import Flask, g, request
from markupsafe import Markup

from carriers.directory import contact
from shipflow import i18n
from shipflow.i18n import DEFAULT, babel_id, native_digits

TRANSLATIONS = Path(__file__).resolve().parent / "translations"
SUPPORTED = ("en", "zh-Hant", "zh-Hans", "ja", "fa")
COOKIE = "shipflow_lang"
COOKIE_MAX_AGE = 365 * 24 * 3600

# Region subtags that say which Chinese script a browser wants (zh-TW -> Traditional).
_CHINESE_SCRIPT = {"tw": "zh-Hant", "hk": "zh-Hant", "mo": "zh-Hant", "hant": "zh-Hant"}


def normalize(tag: str | None) -> str | None:
    """A BCP 47 tag as browsers, URLs and config write it -> one of SUPPORTED, or None."""
    if not tag:
        return None
    parts = tag.strip().replace("_", "-").lower().split("-")
    if parts[0] == "zh":
        return next((_CHINESE_SCRIPT[p] for p in parts[1:] if p in _CHINESE_SCRIPT), "zh-Hans")
    return next((s for s in SUPPORTED if s.lower() == parts[0]), None)


def brand_languages(configured: Iterable[str]) -> list[str]:
    """The brand's languages this code can serve, in the brand's order; English if none."""
    found: list[str] = []
    for tag in configured:
        language = normalize(tag)
        if language and language not in found:
            found.append(language)
    return found or [DEFAULT]


def negotiate(
    allowed: list[str],
    asked: str | None = None,
    remembered: str | None = None,
    accept: Iterable[str] = (),
) -> str:
    """The first of ?lang=, cookie, Accept-Language (best first) that the brand offers."""
    for candidate in (asked, remembered, *accept):
        language = normalize(candidate)
        if language in allowed:
            return language
    return allowed[0]


@cache
def translations(language: str) -> Translations:
    """The language's catalog, compiled from its .po file in memory (cached per process)."""
    po = TRANSLATIONS / babel_id(language) / "LC_MESSAGES" / "messages.po"
    if not po.exists():
        return Translations()
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=babel_id(language))
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer)


# -- the current request's language -------------------------------------------------------


def use_language(configured: Iterable[str]) -> str:
    """Pick and remember the visitor's language for this request, among a brand's languages."""
    allowed = brand_languages(configured)
    asked = request.args.get("lang")
    language = negotiate(
        allowed,
        asked,
        request.cookies.get(COOKIE),
        (tag for tag, _quality in request.accept_languages),
    )
    g.language = language
    g.language_choices = allowed
    g.remember_language = normalize(asked) == language
    return language


def current_language() -> str:
    return g.get("language", DEFAULT)


def gettext(message: str, **variables) -> str:
    text = translations(current_language()).ugettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, **variables) -> str:
    text = translations(current_language()).ungettext(singular, plural, n)
    return text % {"num": n, **variables}


def _remember_language(response):
    if g.get("remember_language"):
        response.set_cookie(
            COOKIE, g.language, max_age=COOKIE_MAX_AGE, samesite="Lax", httponly=True
        )
    if "language" in g:
        response.vary.add("Accept-Language")
        response.vary.add("Cookie")
    return response


# -- formatting ---------------------------------------------------------------------------


def _locale(language: str | None = None) -> Locale:
    return i18n.locale(language or current_language())


def format_day(value: date | None, with_year: bool = False, language: str | None = None) -> str:
    """A delivery date in the request's language (or the one given), see `i18n.format_day`."""
    return i18n.format_day(value, with_year, language or current_language())


def format_moment(value: datetime, zone: tzinfo, language: str | None = None) -> str:
    """An event time in the destination's zone: day and clock time."""
    locale = _locale(language)
    day = babel_dates.format_skeleton("MMMEd", value, tzinfo=zone, locale=locale)
    clock = babel_dates.format_time(value, "short", tzinfo=zone, locale=locale)
    return native_digits(f"{day} {clock}", locale)


def format_clock(value: datetime, zone: tzinfo, language: str | None = None) -> str:
    locale = _locale(language)
    return native_digits(
        babel_dates.format_time(value, "short", tzinfo=zone, locale=locale), locale
    )


def zone_name(zone: tzinfo, language: str | None = None) -> str:
    """ "Central Time", "アメリカ中部時間": the zone event times are shown in."""
    return babel_dates.get_timezone_name(zone, locale=_locale(language))


def format_duration(value: timedelta, language: str | None = None) -> str:
    return i18n.format_duration(value, language or current_language())


def format_number(value: float, language: str | None = None) -> str:
    locale = _locale(language)
    text = babel_numbers.format_decimal(value, locale=locale, numbering_system="default")
    return native_digits(text, locale)


def format_money(minor_units: int, currency: str, language: str | None = None) -> str:
    return _money(minor_units, currency, language or current_language())


@lru_cache(maxsize=4096)
def _money(minor_units: int, currency: str, language: str) -> str:
    """Babel's formatting costs a widget answer more than its cached quote: a brand has a
    few prices, each formatted once per language."""
    locale = _locale(language)
    amount = minor_units / 10 ** babel_numbers.get_currency_precision(currency)
    text = babel_numbers.format_currency(
        amount, currency, locale=locale, numbering_system="default"
    )
    return native_digits(text, locale)


def language_name(language: str) -> str:
    """The language's name in itself ("日本語", "فارسی"), for the language menu."""
    return _locale(language).display_name or language


def sentences(*texts: str) -> Markup:
    """Sentences run together the way the language does: a space between them, none after
    Chinese and Japanese full stops."""
    return Markup("" if current_language().startswith(("zh", "ja")) else " ").join(texts)


def isolate(value: object) -> Markup:
    """Names, numbers and addresses in <bdi>, so Latin text keeps its own direction inside a
    right-to-left sentence (and Persian inside a left-to-right one)."""
    return Markup("<bdi>{}</bdi>").format(value)


def direction(language: str | None = None) -> str:
    return "rtl" if _locale(language).character_order == "right-to-left" else "ltr"


def init_app(app: Flask) -> None:
    """Jinja's i18n extension with this module's gettext, the formatters as filters."""
    app.jinja_env.add_extension("jinja2.ext.i18n")
    # The extension adds this method to the environment when loaded; Environment's stubs
    # cannot know it.
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        lambda message: translations(current_language()).ugettext(message),
        lambda singular, plural, n: translations(current_language()).ungettext(singular, plural, n),
        newstyle=True,  # Jinja fills in %(name)s itself, escaping the values
    )
    app.jinja_env.filters.update(
        day=format_day,
        moment=format_moment,
        clock=format_clock,
        zone_name=zone_name,
        duration=format_duration,
        isolate=isolate,
        number=format_number,
        money=format_money,
        carrier_name=lambda code: contact(code).name,
    )
    app.jinja_env.globals.update(
        current_language=current_language,
        language_name=language_name,
        direction=direction,
        sentences=sentences,
    )
    app.after_request(_remember_language)
