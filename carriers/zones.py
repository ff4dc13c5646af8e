"""The time zone of a scan location, for carrier times that come without a UTC offset.

Finest first: the postal code (through `shipflow.geo`, which knows every US ZIP code's zone),
then the state or province (the zone of most of its people, for the US, Canada and Australia),
then the country when all its zones keep the same clock (IANA's zone.tab, shipped by
`tzdata`). None when none of these decides (Spain with the Canaries, Russia, ...): callers
then read the time as UTC, the documented fallback.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache, lru_cache
from importlib import resources
from zoneinfo import ZoneInfo

from shipflow import geo

_STATES = {
    "US": {
        "America/New_York": "CT DE DC FL GA KY ME MD MA NH NJ NY NC OH PA RI SC VT VA WV",
        "America/Chicago": "AL AR IL IA KS LA MN MS MO NE ND OK SD TN TX WI",
        "America/Denver": "CO MT NM UT WY",
        "America/Boise": "ID",
        "America/Phoenix": "AZ",
        "America/Los_Angeles": "CA NV OR WA",
        "America/Detroit": "MI",
        "America/Indiana/Indianapolis": "IN",
        "America/Anchorage": "AK",
        "Pacific/Honolulu": "HI",
        "America/Puerto_Rico": "PR",
        "America/St_Thomas": "VI",
        "Pacific/Guam": "GU",
    },
    "CA": {
        "America/Toronto": "ON QC",
        "America/Halifax": "NS PE",
        "America/Moncton": "NB",
        "America/St_Johns": "NL",
        "America/Winnipeg": "MB",
        "America/Regina": "SK",
        "America/Edmonton": "AB NT",
        "America/Vancouver": "BC",
        "America/Whitehorse": "YT",
        "America/Iqaluit": "NU",
    },
    "AU": {
        "Australia/Sydney": "NSW ACT",
        "Australia/Melbourne": "VIC",
        "Australia/Brisbane": "QLD",
        "Australia/Adelaide": "SA",
        "Australia/Perth": "WA",
        "Australia/Hobart": "TAS",
        "Australia/Darwin": "NT",
    },
}
STATE_ZONES = {
    (country, state): zone
    for country, zones in _STATES.items()
    for zone, states in zones.items()
    for state in states.split()
}


@cache
def _country_zones() -> dict[str, list[str]]:
    zones: dict[str, list[str]] = {}
    table = resources.files("tzdata.zoneinfo").joinpath("zone.tab").read_text()
    for line in table.splitlines():
        if line and not line.startswith("#"):
            country, _, name, *_ = line.split("\t")
            zones.setdefault(country, []).append(name)
    return zones


def _same_clock(names: list[str]) -> bool:
    """Whether these zones show the same time in winter and in summer (Berlin and Busingen)."""
    probes = (datetime(2025, 1, 15, 12), datetime(2025, 7, 15, 12))
    return all(
        len({probe.replace(tzinfo=ZoneInfo(name)).utcoffset() for name in names}) == 1
        for probe in probes
    )


@lru_cache(maxsize=4096)
def zone_at(country: str, state: str = "", postal_code: str = "") -> ZoneInfo | None:
    """The zone of a place given as country code, state code and postal code (any may be
    blank), or None when they do not decide it."""
    country, state = (country or "").strip().upper(), (state or "").strip().upper()
    if not country:
        return None
    if postal_code and postal_code.strip():
        located = geo.locate(country, postal_code)
        if located is not None and located.timezone:
            return ZoneInfo(located.timezone)
    if (country, state) in STATE_ZONES:
        return ZoneInfo(STATE_ZONES[(country, state)])
    names = _country_zones().get(country, [])
    return ZoneInfo(names[0]) if names and _same_clock(names) else None
