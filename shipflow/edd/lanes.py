"""Where a parcel runs: a lane's levels from fine to coarse regions, and a shipper's."""

from __future__ import annotations

import math
from dataclasses import dataclass

from shipflow import geo
from shipflow.edd.history import HistoryRecord

FINE_BAND_KM = 50


@dataclass(frozen=True, slots=True)
class Lane:
    service: str  # "carrier:service"
    origin: tuple[str, ...]  # regions finest -> country
    destination: tuple[str, ...]
    distance_km: float | None = None
    shipper: str = ""  # when known, the shipper's own lane to the destination's state is finest

    def levels(self) -> list[tuple[str, str]]:
        """(key, label) per level, coarse -> fine, pairing regions from the country down."""
        pairs = list(zip(reversed(self.origin), reversed(self.destination), strict=False))
        bands = distance_bands(self.distance_km)
        if bands is not None and pairs:
            # between the country pair and finer regions: lanes of about the same length
            pairs.insert(1, (pairs[0][0], f"{pairs[0][1]}~{bands[0]}km+"))
        if self.shipper and len(self.destination) > 1:
            # the destination's state: third from the end (state, region, country) when present
            state = self.destination[-3] if len(self.destination) > 2 else self.destination[0]
            pairs.append((f"shipper:{self.shipper}", state))
        if bands is not None and len(self.origin) > 1:
            # finest: carriers set transit by origin and distance zone, not by state lines
            pairs.append((self.origin[0], f"~{bands[1]}km"))
        return [(f"{self.service}|{o}|{d}", f"{o}->{d}") for o, d in pairs]


@dataclass(frozen=True, slots=True)
class Origin:
    """Who hands over a parcel: the shipper (warehouse) and where it is."""

    shipper: str
    regions: tuple[str, ...]

    def levels(self) -> list[tuple[str, str]]:
        levels = [*reversed(self.regions), f"shipper:{self.shipper}"]
        return [(f"handling|{x}", x) for x in levels]


def record_location(record: HistoryRecord, side: str) -> geo.Location:
    """Where a history record's origin/destination is; unknown codes fall back to the state."""
    country = getattr(record, f"{side}_country")
    found = geo.locate(country, getattr(record, f"{side}_postal_code"))
    if found:
        return found
    state = getattr(record, f"{side}_state")
    regions = (f"{country}:{state}", country) if state else (country,)
    return geo.Location(country, "", None, None, regions, subdivision=state or None)


def distance_bands(distance_km: float | None) -> tuple[int, int] | None:
    """A lane's length as its levels see it: the doubling band from 25 km (lanes of about the
    same length anywhere) and the 50 km band (the same distance zone from one origin)."""
    if distance_km is None:
        return None
    return (
        25 * 2 ** int(math.log2(max(distance_km, 25.0) / 25.0)),
        FINE_BAND_KM * int(distance_km // FINE_BAND_KM),
    )
