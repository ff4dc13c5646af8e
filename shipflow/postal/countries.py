"""Which two-letter codes are countries: ISO 3166-1 alpha-2 as CLDR lists them (through Babel),
so a typo ("UK", "XX") is refused with what to write instead of quoting nothing."""

from __future__ import annotations

from functools import cache

from babel import Locale

NOT_COUNTRIES = frozenset({"EU", "EZ", "QO", "UN", "XA", "XB", "ZZ"})
"""CLDR's groupings and pseudo-regions; Kosovo's XK stays (carriers and shops use it)."""


@cache
def country_codes() -> frozenset[str]:
    regions = {str(code) for code in Locale("en").territories}
    return frozenset(code for code in regions if len(code) == 2 and code.isalpha()) - NOT_COUNTRIES


def validate_country(code: str) -> str:
    """`code` if it names a country, else ValueError saying what to write."""
    if code not in country_codes():
        hint = " (the United Kingdom is GB)" if code == "UK" else ""
        raise ValueError(
            f"{code!r} is not a country code: write its ISO 3166-1 alpha-2 code, "
            f"for example US, GB or JP{hint}"
        )
    return code
