"""Postal-code formats per country: a code that cannot exist is refused with what to write.

Codes are compared without spaces and hyphens; the example shows how people write them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass


class InvalidPostalCode(ValueError):
    """A postal code that does not have its country's format; the message says the format."""


@dataclass(frozen=True, slots=True)
class PostalFormat:
    pattern: str  # on the code without spaces and hyphens
    rule: str  # "7 digits", "6 digits, not starting with 0"
    example: str

    def matches(self, compact: str) -> bool:
        return re.fullmatch(self.pattern, compact) is not None


def _digits(n: int, example: str) -> PostalFormat:
    return PostalFormat(rf"\d{{{n}}}", f"{n} digits", example)


FORMATS: Mapping[str, PostalFormat] = {
    "US": PostalFormat(r"\d{5}(\d{4})?", "5 digits, or ZIP+4", "94105"),
    "JP": PostalFormat(r"\d{7}", "7 digits", "100-0001"),
    "TW": PostalFormat(r"\d{3}(\d{2}|\d{3})?", "3, 5 or 6 digits", "106"),
    "CN": _digits(6, "100000"),
    "IN": PostalFormat(r"[1-9]\d{5}", "6 digits, not starting with 0", "110001"),
    # Iran Post: no 0 or 2 in the first five digits, no 5 in the fifth, no 2 after it.
    "IR": PostalFormat(
        r"[13-9]{4}[1346-9][013-9]{5}", "10 digits, no 0 or 2 in the first five", "1193653471"
    ),
    # European Union
    "AT": _digits(4, "1010"),
    "BE": _digits(4, "1000"),
    "BG": _digits(4, "1000"),
    "HR": _digits(5, "10000"),
    "CY": _digits(4, "1010"),
    "CZ": _digits(5, "110 00"),
    "DK": _digits(4, "1050"),
    "EE": _digits(5, "10111"),
    "FI": _digits(5, "00100"),
    "FR": _digits(5, "75001"),
    "DE": _digits(5, "10115"),
    "GR": _digits(5, "105 57"),
    "HU": _digits(4, "1011"),
    "IE": PostalFormat(
        r"([AC-FHKNPRTV-Y]\d{2}|D6W)([0-9AC-FHKNPRTV-Y]{4})?", "an Eircode", "D02 X285"
    ),
    "IT": _digits(5, "00118"),
    "LV": PostalFormat(r"(LV)?\d{4}", "4 digits, optionally after LV-", "LV-1050"),
    "LT": PostalFormat(r"(LT)?\d{5}", "5 digits, optionally after LT-", "LT-01100"),
    "LU": PostalFormat(r"(L)?\d{4}", "4 digits, optionally after L-", "L-1009"),
    "MT": PostalFormat(r"[A-Z]{3}(\d{4})?", "3 letters and 4 digits", "VLT 1117"),
    "NL": PostalFormat(r"[1-9]\d{3}([A-Z]{2})?", "4 digits and 2 letters", "1012 AB"),
    "PL": _digits(5, "00-950"),
    "PT": PostalFormat(r"\d{4}(\d{3})?", "4 digits, a hyphen and 3 digits", "1000-001"),
    "RO": _digits(6, "010011"),
    "SK": _digits(5, "811 01"),
    "SI": PostalFormat(r"(SI)?\d{4}", "4 digits", "1000"),
    "ES": PostalFormat(r"(0[1-9]|[1-4]\d|5[0-2])\d{3}", "5 digits, starting 01 to 52", "28001"),
    "SE": _digits(5, "114 55"),
}
EU = frozenset(FORMATS) - {"US", "JP", "TW", "CN", "IN", "IR"}


def compact(postal_code: str) -> str:
    return postal_code.replace(" ", "").replace("-", "").upper()


def normalize(country: str, postal_code: str) -> str | None:
    """The code without spaces, hyphens and country prefix; None when it cannot be one of
    `country`'s. Countries without a known format accept any code."""
    code = compact(postal_code)
    found = FORMATS.get(country.upper())
    if found is None or found.matches(code):
        return _strip_country_prefix(country.upper(), code)
    return None


def validate(country: str, postal_code: str) -> str:
    """`normalize`, or InvalidPostalCode saying what the country's codes look like."""
    code = normalize(country, postal_code)
    if code is not None:
        return code
    found = FORMATS[country.upper()]
    raise InvalidPostalCode(
        f"{postal_code!r} is not a postal code of {country.upper()}: "
        f"write {found.rule}, for example {found.example}"
    )


def _strip_country_prefix(country: str, code: str) -> str:
    """LV-1050, LT-01100, L-1009 and SI-1000 are the same codes as 1050, 01100, 1009, 1000."""
    prefix = {"LV": "LV", "LT": "LT", "LU": "L", "SI": "SI"}.get(country)
    return code[len(prefix) :] if prefix and code.startswith(prefix) else code
