"""Where a postal code is: coordinates, time zone and a region hierarchy for back-off.

US ZIP codes come from the offline `zipcodes` package; other countries' tables ship with
shipflow (`shipflow/postal/data`, GeoNames, see docs/geography.md) and are read on a country's
first lookup, or are plugged in with `register_postal_table`. Codes are checked against their
country's format first (`InvalidPostalCode` says what to write). Lookups are cached because
quoting happens per page view.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache

from shapely import affinity
from shapely.geometry import Point, Polygon
from shapely.geometry.base import BaseGeometry
from shapely.prepared import prep

from shipflow.calendars import known_zone
from shipflow.postal import bundled
from shipflow.postal.formats import InvalidPostalCode, normalize
from shipflow.postal.formats import validate as validate_postal_code

__all__ = [
    "InvalidPostalCode",
    "Location",
    "PostalEntry",
    "ServiceArea",
    "distance_km",
    "bundled_countries",
    "haversine_km",
    "load",
    "postal_codes",
    "locate",
    "location_at",
    "register_postal_table",
    "validate_postal_code",
]

EARTH_RADIUS_KM = 6371.0088
KM_PER_DEGREE = 111.32

# US Census Bureau regions: the level between the state and the country.
US_CENSUS_REGIONS: Mapping[str, str] = {
    **dict.fromkeys(["CT", "ME", "MA", "NH", "RI", "VT", "NJ", "NY", "PA"], "northeast"),
    **dict.fromkeys(
        ["IL", "IN", "MI", "OH", "WI", "IA", "KS", "MN", "MO", "NE", "ND", "SD"], "midwest"
    ),
    **dict.fromkeys(
        ["DE", "DC", "FL", "GA", "MD", "NC", "SC", "VA", "WV", "AL", "KY", "MS", "TN"]
        + ["AR", "LA", "OK", "TX"],
        "south",
    ),
    **dict.fromkeys(
        ["AZ", "CO", "ID", "MT", "NV", "NM", "UT", "WY", "AK", "CA", "HI", "OR", "WA"], "west"
    ),
}


@dataclass(frozen=True, slots=True)
class PostalEntry:
    """One row of a postal table: a centroid and its regions, finest first (e.g. state, region)."""

    lat: float
    lng: float
    regions: tuple[str, ...] = ()
    timezone: str | None = None


@dataclass(frozen=True, slots=True)
class Location:
    """A resolved destination or origin. `regions` runs finest -> country (back-off order)."""

    country: str
    postal_code: str
    lat: float | None
    lng: float | None
    regions: tuple[str, ...]
    timezone: str | None = None
    subdivision: str | None = None  # for holidays (state / province)
    note: str = ""

    @property
    def has_coordinates(self) -> bool:
        return self.lat is not None and self.lng is not None


_postal_tables: dict[str, tuple[Mapping[str, PostalEntry], tuple[int, ...]]] = {}


def register_postal_table(
    country: str,
    table: Mapping[str, PostalEntry | Sequence],
    prefix_lengths: Sequence[int] | None = None,
) -> None:
    """Plug in a country's postal-prefix -> centroid table (rows may be tuples lat, lng, region...).

    A postal code is matched on its longest registered prefix.
    """
    _add_table(country.upper(), table, prefix_lengths)
    locate.cache_clear()


def _add_table(
    country: str, table: Mapping[str, PostalEntry | Sequence], prefix_lengths: Sequence[int] | None
) -> None:
    made: dict[tuple, PostalEntry] = {}  # codes sharing a centroid share one entry
    entries = {
        prefix: row if isinstance(row, PostalEntry) else _shared_entry(tuple(row), made)
        for prefix, row in table.items()
    }
    lengths = tuple(sorted(prefix_lengths or {len(p) for p in entries}, reverse=True))
    _postal_tables[country] = (entries, lengths)


def _shared_entry(row: tuple, made: dict[tuple, PostalEntry]) -> PostalEntry:
    found = made.get(row)
    if found is None:
        found = made[row] = _entry_from_tuple(row)
    return found


def _entry_from_tuple(row: Sequence) -> PostalEntry:
    lat, lng, *regions = row
    return PostalEntry(float(lat), float(lng), tuple(str(r) for r in regions if r))


@cache
def _us_index() -> dict[str, PostalEntry]:
    """Build once: `zipcodes.matching` scans the whole list on every call (about 0.2 s)."""
    import zipcodes

    return {
        z["zip_code"]: PostalEntry(
            float(z["lat"]),
            float(z["long"]),
            (z["state"], US_CENSUS_REGIONS.get(z["state"], "other")),
            known_zone(z["timezone"]),
        )
        for z in zipcodes.list_all()
    }


def us_postal_codes() -> list[str]:
    """Every known US ZIP code (sandbox and benchmarks pick destinations from it)."""
    return sorted(_us_index())


def load(country: str) -> None:
    """Read a country's bundled postal table now (0.1-0.6 s), not on its first quote."""
    country = country.upper()
    if country not in _postal_tables and (rows := bundled.table(country)):
        _add_table(country, rows, bundled.PREFIX_LENGTHS)


def postal_codes(country: str) -> list[str]:
    """Codes of a bundled country's table, written out in full (a stored prefix padded with
    zeros), for the sandbox and benchmarks to pick destinations from."""
    rows = bundled.table(country.upper()) or {}
    codes = set()
    for prefix in rows:
        for width in range(len(prefix), 11):
            code = normalize(country, prefix.ljust(width, "0"))
            if code is not None:
                codes.add(code)
                break
    return sorted(codes)


def bundled_countries() -> frozenset[str]:
    return bundled.countries()


@lru_cache(maxsize=65536)  # bounded: postal codes come from the public quote endpoint
def locate(country: str, postal_code: str) -> Location | None:
    """Resolve a postal code; None when the country has a table but the code is unknown.

    A country without any table resolves to the country itself (coarsest region), with a note.
    A code that cannot be one of the country's is unknown too (`validate_postal_code` says why).
    """
    country = country.upper()
    code = normalize(country, postal_code) if postal_code else ""
    if code is None:
        return None
    if country == "US":
        entry = _us_index().get(code[:5])
        return _location(country, code[:5], entry, code[:3]) if entry else None
    load(country)
    if country not in _postal_tables:
        note = f"no postal table for {country}: estimated at country level"
        zone = bundled.zone(country, code)
        return Location(country, code, None, None, (country,), zone, note=note)
    entries, lengths = _postal_tables[country]
    for length in lengths:
        entry = entries.get(code[:length])
        if entry:
            return _location(country, code, entry, code[:3])
    return None


def _location(country: str, code: str, entry: PostalEntry, area: str) -> Location:
    regions = (f"{country}:{area}", *(f"{country}:{r}" for r in entry.regions), country)
    subdivision = entry.regions[0] if entry.regions else None
    zone = entry.timezone or bundled.zone(country, code)
    return Location(country, code, entry.lat, entry.lng, regions, zone, subdivision)


def location_at(country: str, lat: float, lng: float) -> Location:
    """A destination given only as coordinates: no finer region than the country."""
    return Location(country.upper(), "", lat, lng, (country.upper(),), note="coordinates only")


def haversine_km(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


def distance_km(a: Location, b: Location) -> float | None:
    if not (a.has_coordinates and b.has_coordinates):
        return None
    return haversine_km(a.lat, a.lng, b.lat, b.lng)  # type: ignore[arg-type]


@dataclass(frozen=True)
class ServiceArea:
    """A polygon (lng, lat) a warehouse or service covers; membership tests are prepared."""

    shape: BaseGeometry
    _prepared: object = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_prepared", prep(self.shape))

    @classmethod
    def polygon(cls, lng_lat: Sequence[tuple[float, float]]) -> ServiceArea:
        return cls(Polygon(lng_lat))

    @classmethod
    def around(cls, lat: float, lng: float, radius_km: float) -> ServiceArea:
        """A radius around a point, corrected for longitude shrinking away from the equator."""
        circle = Point(0, 0).buffer(1.0, quad_segs=32)
        sx = radius_km / (KM_PER_DEGREE * max(math.cos(math.radians(lat)), 1e-6))
        sy = radius_km / KM_PER_DEGREE
        return cls(affinity.translate(affinity.scale(circle, sx, sy, origin=(0, 0)), lng, lat))

    def contains(self, lat: float, lng: float) -> bool:
        return self._prepared.covers(Point(lng, lat))  # type: ignore[attr-defined]
