"""Where a postal code is: centroid and time zone. Uses the EDD's `shipflow.geo` when it is
installed, else the bundled US ZIP list (`zipcodes`), indexed once."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache


@dataclass(frozen=True)
class Place:
    lat: float | None
    lng: float | None
    timezone: str | None


@cache
def _us_index() -> dict[str, Place]:
    import zipcodes  # `zipcodes.matching` scans its whole list per call: index it once

    return {
        z["zip_code"]: Place(float(z["lat"]), float(z["long"]), z["timezone"] or None)
        for z in zipcodes.list_all()
    }


def locate(country: str, postal_code: str) -> Place | None:
    """The place of a postal code; None when unknown or outside the known tables."""
    country = country.upper()
    try:
        from shipflow import geo
    except ImportError:
        if country != "US":
            return None
        return _us_index().get(postal_code.strip()[:5])
    found = geo.locate(country, postal_code)  # a country without a table: no coordinates
    return Place(found.lat, found.lng, found.timezone) if found else None
