"""The postal tables shipped in `data/` (built by `refresh.py`), read on first use per country.

Each code maps to a row (lat, lng, regions finest first: "state/district", "state"); every
3-character prefix maps to the mean of its codes, so a valid code missing from the table still
lands in its area instead of nowhere.
"""

from __future__ import annotations

import gzip
import sys
from collections import defaultdict
from functools import cache
from pathlib import Path

DATA = Path(__file__).parent / "data"
# Countries in one time zone (IANA), and the two with islands elsewhere by postal prefix.
ZONES = {
    "JP": "Asia/Tokyo",
    "TW": "Asia/Taipei",
    "CN": "Asia/Shanghai",
    "IN": "Asia/Kolkata",
    "IR": "Asia/Tehran",
    "AT": "Europe/Vienna",
    "BE": "Europe/Brussels",
    "BG": "Europe/Sofia",
    "HR": "Europe/Zagreb",
    "CY": "Asia/Nicosia",
    "CZ": "Europe/Prague",
    "DK": "Europe/Copenhagen",
    "EE": "Europe/Tallinn",
    "FI": "Europe/Helsinki",
    "FR": "Europe/Paris",
    "DE": "Europe/Berlin",
    "GR": "Europe/Athens",
    "HU": "Europe/Budapest",
    "IE": "Europe/Dublin",
    "IT": "Europe/Rome",
    "LV": "Europe/Riga",
    "LT": "Europe/Vilnius",
    "LU": "Europe/Luxembourg",
    "MT": "Europe/Malta",
    "NL": "Europe/Amsterdam",
    "PL": "Europe/Warsaw",
    "PT": "Europe/Lisbon",
    "RO": "Europe/Bucharest",
    "SK": "Europe/Bratislava",
    "SI": "Europe/Ljubljana",
    "ES": "Europe/Madrid",
    "SE": "Europe/Stockholm",
}
ISLAND_ZONES = {("ES", "35"): "Atlantic/Canary", ("ES", "38"): "Atlantic/Canary"}


def zone(country: str, code: str) -> str | None:
    """The time zone of a code outside the US (the Canary Islands keep their own)."""
    return ISLAND_ZONES.get((country, code[:2])) or ZONES.get(country)


AREA_LENGTH = 3
PREFIX_LENGTHS = (10, 9, 8, 7, 6, 5, 4, AREA_LENGTH)


@cache
def countries() -> frozenset[str]:
    return frozenset(p.name.split(".")[0] for p in DATA.glob("*.tsv.gz"))


def table(country: str) -> dict[str, tuple[float | str, ...]] | None:
    """Code and area -> row for `country`; None when no table ships for it."""
    if country not in countries():
        return None
    entries: dict[str, tuple[float | str, ...]] = {}
    areas: dict[str, list[tuple[float, float, str]]] = defaultdict(list)
    with gzip.open(DATA / f"{country}.tsv.gz", "rt", encoding="utf-8") as rows:
        for line in rows:
            code, lat, lng, admin1, admin2 = line.rstrip("\n").split("\t")
            regions = (f"{admin1}/{admin2}", admin1) if admin2 else (admin1,)
            entries[sys.intern(code)] = (float(lat), float(lng), *map(sys.intern, regions))
            areas[code[:AREA_LENGTH]].append((float(lat), float(lng), admin1))
    for area, found in areas.items():
        if area not in entries:
            mean_lat = sum(f[0] for f in found) / len(found)
            mean_lng = sum(f[1] for f in found) / len(found)
            entries[area] = (mean_lat, mean_lng, found[0][2])
    return entries
