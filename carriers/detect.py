"""Which carrier issued a tracking number, from its shape and check digit.

Imported shipments arrive as bare numbers; `detect` names every format the number fits so
it can be routed to the right adapter. Formats come from tracking_number_data (a trimmed copy
ships in `carriers/tracking_formats`) and, for the carriers it lacks (SF, YTO, the Japanese
domestic ones), from `tracking_formats/regional.json`; the check-digit algorithms are ours.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

FORMATS_DIR = Path(__file__).with_name("tracking_formats")
FORMATS_FILES = (FORMATS_DIR / "formats.json", FORMATS_DIR / "regional.json")

# tracking_number_data courier code -> our registry name (see carriers/registry.py).
REGISTERED_CARRIERS = {
    "ups": "ups",
    "fedex": "fedex",
    "usps": "usps",
    "dhl": "dhl",
    "sandbox": "sandbox",
    "sf_express": "sf",
    "yto": "kuaidi100",
    "jp_domestic": "17track",  # Yamato, Sagawa and Japan Post have no tracking API of their own
    "delhivery": "delhivery",
    "iran_post": "tapin",
}
# An S10 (UPU) number is handled by the postal service of its country suffix, or the tracker
# that covers it (Kuaidi100 for China Post and EMS, 17TRACK for Japan Post).
S10_POSTAL_CARRIERS = {"US": "usps", "CN": "kuaidi100", "JP": "17track"}

_ALPHANUMERIC = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@dataclass(frozen=True, slots=True)
class Match:
    """One format a number fits. `carrier` is our adapter's name, None if we have none."""

    carrier: str | None
    format_name: str
    courier_code: str
    format_id: str = ""
    checksum_verified: bool = False
    parts: Mapping[str, str] = field(default_factory=dict)


# --- check digits ------------------------------------------------------------------------------


def _digit_value(char: str) -> int:
    """Letters count as (ASCII - 3) mod 10, as UPS defines it for its alphanumeric numbers."""
    return int(char) if char.isdigit() else (ord(char) - 3) % 10


def mod10(
    serial: str,
    check: str,
    *,
    evens_multiplier: int = 1,
    odds_multiplier: int = 1,
    reverse: bool = False,
    **_: object,
) -> bool:
    chars = serial[::-1] if reverse else serial
    total = sum(
        _digit_value(c) * (odds_multiplier if i % 2 else evens_multiplier)
        for i, c in enumerate(chars)
    )
    return (10 - total % 10) % 10 == int(check)


def mod7(serial: str, check: str, **_: object) -> bool:
    return int(serial) % 7 == int(check)


def luhn(serial: str, check: str, **_: object) -> bool:
    total = 0
    for i, c in enumerate(reversed(serial)):
        doubled = int(c) * (2 if i % 2 == 0 else 1)
        total += doubled - 9 if doubled > 9 else doubled
    return (10 - total % 10) % 10 == int(check)


def s10(serial: str, check: str, *, weightings: list[int], modulo: int = 11, **_: object) -> bool:
    remainder = sum(int(c) * w for c, w in zip(serial, weightings, strict=True)) % modulo
    expected = {0: 5, 1: 0}.get(remainder, modulo - remainder)
    return expected == int(check)


def sum_product_with_weightings_and_modulo(
    serial: str, check: str, *, weightings: list[int], modulo1: int, modulo2: int, **_: object
) -> bool:
    total = sum(int(c) * w for c, w in zip(serial, weightings, strict=True))
    return total % modulo1 % modulo2 == int(check)


def mod_37_36(serial: str, check: str, *, modulo: int = 36, **_: object) -> bool:
    """ISO 7064 MOD 37,36 (DPD parcel label specification)."""
    product = modulo
    for char in serial:
        total = (product + _ALPHANUMERIC.index(char)) % modulo or modulo
        product = total * 2 % (modulo + 1)
    expected = (modulo + 1 - product) % modulo
    return _ALPHANUMERIC[expected] == check


CHECKSUMS: dict[str, Callable[..., bool]] = {
    f.__name__: f
    for f in (mod10, mod7, luhn, s10, sum_product_with_weightings_and_modulo, mod_37_36)
}


# --- formats -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Format:
    courier_code: str
    id: str
    name: str
    pattern: re.Pattern[str]
    validation: Mapping[str, Any]
    lookups: Mapping[str, Mapping[str, Any]]

    def match(self, number: str) -> Match | None:
        found = self.pattern.fullmatch(number)
        if not found:
            return None
        parts = {k: re.sub(r"\s", "", v) for k, v in found.groupdict().items() if v is not None}
        checksum = self.validation.get("checksum")
        if checksum and not self._checksum_ok(parts, checksum):
            return None
        if not all(self._looked_up(name, parts) for name in self._required_lookups()):
            return None
        return Match(
            carrier=_our_carrier(self.courier_code, parts),
            format_name=self.name,
            courier_code=self.courier_code,
            format_id=self.id,
            checksum_verified=bool(checksum),
            parts=parts,
        )

    def _checksum_ok(self, parts: Mapping[str, str], checksum: Mapping[str, Any]) -> bool:
        serial, check = parts.get("SerialNumber", ""), parts.get("CheckDigit", "")
        prepend = self.validation.get("serial_number_format", {}).get("prepend_if")
        if prepend and re.search(prepend["matches_regex"], serial):
            serial = prepend["content"] + serial
        params = {k: v for k, v in checksum.items() if k != "name"}
        try:
            return CHECKSUMS[checksum["name"]](serial, check, **params)
        except (ValueError, KeyError):  # a letter where the algorithm needs a digit
            return False

    def _required_lookups(self) -> list[str]:
        return self.validation.get("additional", {}).get("exists", [])

    def _looked_up(self, name: str, parts: Mapping[str, str]) -> bool:
        lookup = self.lookups[name]
        value = parts.get(lookup["group"], "")
        return any(
            value == entry["matches"]
            if "matches" in entry
            else re.fullmatch(entry["matches_regex"], value)
            for entry in lookup["values"]
        )


def _our_carrier(courier_code: str, parts: Mapping[str, str]) -> str | None:
    if courier_code == "s10":
        return S10_POSTAL_CARRIERS.get(parts.get("CountryCode", ""))
    return REGISTERED_CARRIERS.get(courier_code)


def _python_regex(pcre: str) -> str:
    return pcre.replace("(?<", "(?P<").replace("(?P<=", "(?<=").replace("(?P<!", "(?<!")


# Our own simulated carrier (carriers/sandbox): service letter, two ZIPs, ship minute, sequence.
SANDBOX_FORMAT = {
    "id": "sandbox",
    "name": "Sandbox",
    "regex": r"SBX(?<ServiceType>[GEOCSR])(?<SerialNumber>[0-9]{20})(?<CheckDigit>[0-9])",
    "validation": {"checksum": {"name": "luhn"}},
}


@cache
def formats() -> tuple[_Format, ...]:
    documents = [json.loads(path.read_text(encoding="utf-8")) for path in FORMATS_FILES]
    couriers = [
        *(courier for document in documents for courier in document["couriers"]),
        {"courier_code": "sandbox", "formats": [SANDBOX_FORMAT]},
    ]
    return tuple(
        _Format(
            courier_code=courier["courier_code"],
            id=fmt["id"],
            name=fmt["name"],
            pattern=re.compile(_python_regex(fmt["regex"])),
            validation=fmt.get("validation", {}),
            lookups=fmt.get("lookups", {}),
        )
        for courier in couriers
        for fmt in courier["formats"]
    )


def detect(tracking_number: str) -> list[Match]:
    """Every format `tracking_number` fits; check-digit-verified matches first, since a bare
    pattern (e.g. "any 10 digits") is weak evidence."""
    number = tracking_number.strip().upper()
    matches = [m for fmt in formats() if (m := fmt.match(number))]
    return sorted(matches, key=lambda m: not m.checksum_verified)


def carrier_for(tracking_number: str) -> str | None:
    """The adapter to route an imported number to, or None if no registered carrier fits."""
    return next((m.carrier for m in detect(tracking_number) if m.carrier), None)
