"""Where the sandbox network's parcels go: places with their time zones, the hubs between
them (a dozen and a half real US air and ground hub cities, and a few in Japan, Taiwan and
India), and the made-up convenience stores of its pickup-point service, one per ZIP code, so a
tracking number (which carries the destination ZIP) names its store."""

from __future__ import annotations

import math
from dataclasses import dataclass
from zoneinfo import ZoneInfo


@dataclass(frozen=True, slots=True)
class Place:
    city: str
    state: str
    lat: float
    lng: float
    timezone: str = ""
    postal_code: str = ""
    country: str = "US"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone or _zone_from_longitude(self.lng))


def _zone_from_longitude(lng: float) -> str:
    """Good enough for the contiguous US when a place comes without its zone."""
    for west_limit, zone in ((-87.5, "America/New_York"), (-101.0, "America/Chicago")):
        if lng > west_limit:
            return zone
    return "America/Denver" if lng > -114.5 else "America/Los_Angeles"


HUBS = (
    Place("Secaucus", "NJ", 40.79, -74.06, "America/New_York"),
    Place("Atlanta", "GA", 33.64, -84.43, "America/New_York"),
    Place("Charlotte", "NC", 35.21, -80.94, "America/New_York"),
    Place("Orlando", "FL", 28.43, -81.31, "America/New_York"),
    Place("Louisville", "KY", 38.17, -85.74, "America/New_York"),
    Place("Chicago", "IL", 41.88, -87.96, "America/Chicago"),
    Place("Memphis", "TN", 35.04, -89.98, "America/Chicago"),
    Place("Dallas", "TX", 32.90, -97.04, "America/Chicago"),
    Place("Houston", "TX", 29.99, -95.34, "America/Chicago"),
    Place("Kansas City", "MO", 39.30, -94.71, "America/Chicago"),
    Place("Denver", "CO", 39.86, -104.67, "America/Denver"),
    Place("Phoenix", "AZ", 33.43, -112.01, "America/Phoenix"),
    Place("Salt Lake City", "UT", 40.79, -111.98, "America/Denver"),
    Place("Ontario", "CA", 34.06, -117.60, "America/Los_Angeles"),
    Place("Oakland", "CA", 37.72, -122.22, "America/Los_Angeles"),
    Place("Seattle", "WA", 47.45, -122.31, "America/Los_Angeles"),
)
# the sandbox's networks in Japan, Taiwan and India (benchmarks score histories there)
HUBS_ABROAD = (
    Place("Tokyo", "13", 35.55, 139.78, "Asia/Tokyo", country="JP"),
    Place("Osaka", "27", 34.68, 135.50, "Asia/Tokyo", country="JP"),
    Place("Fukuoka", "40", 33.59, 130.40, "Asia/Tokyo", country="JP"),
    Place("Sapporo", "01", 43.06, 141.35, "Asia/Tokyo", country="JP"),
    Place("Taoyuan", "TAO", 25.01, 121.30, "Asia/Taipei", country="TW"),
    Place("Kaohsiung", "KHH", 22.63, 120.30, "Asia/Taipei", country="TW"),
    Place("Delhi", "DL", 28.56, 77.10, "Asia/Kolkata", country="IN"),
    Place("Mumbai", "MH", 19.09, 72.87, "Asia/Kolkata", country="IN"),
    Place("Kolkata", "WB", 22.65, 88.45, "Asia/Kolkata", country="IN"),
    Place("Bengaluru", "KA", 13.20, 77.71, "Asia/Kolkata", country="IN"),
    Place("Hyderabad", "TG", 17.24, 78.43, "Asia/Kolkata", country="IN"),
)


def distance_km(a: Place, b: Place) -> float:
    """Great-circle distance."""
    p1, p2 = math.radians(a.lat), math.radians(b.lat)
    dp, dl = p2 - p1, math.radians(b.lng - a.lng)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(h))


def midpoint(a: Place, b: Place) -> Place:
    return Place("", "", (a.lat + b.lat) / 2, (a.lng + b.lng) / 2)


def nearest_hub(place: Place) -> Place:
    """The nearest hub in the place's own country."""
    domestic = [hub for hub in HUBS + HUBS_ABROAD if hub.country == place.country] or HUBS
    return min(domestic, key=lambda hub: distance_km(place, hub))


@dataclass(frozen=True, slots=True)
class Store:
    """A fake pickup point: a corner shop holding parcels for customers to collect."""

    id: str
    name: str
    network: str
    line1: str
    city: str
    state: str
    postal_code: str
    hours: str = "Mon-Sat 08:00-22:00, Sun 10:00-18:00"


STORES = (
    Store("SBX-NYC-01", "Corner Mart Chelsea", "Corner Mart", "210 W 23rd St", "New York", "NY", "10011"),
    Store("SBX-BOS-01", "Corner Mart Back Bay", "Corner Mart", "80 Newbury St", "Boston", "MA", "02116"),
    Store("SBX-ATL-01", "Parcel Locker Midtown", "Sandbox Lockers", "950 Peachtree St NE", "Atlanta", "GA", "30309", "24 hours"),
    Store("SBX-CHI-01", "Corner Mart Loop", "Corner Mart", "120 S State St", "Chicago", "IL", "60603"),
    Store("SBX-DAL-01", "Parcel Locker Uptown", "Sandbox Lockers", "2500 McKinney Ave", "Dallas", "TX", "75201", "24 hours"),
    Store("SBX-DEN-01", "Corner Mart LoDo", "Corner Mart", "1600 Wynkoop St", "Denver", "CO", "80202"),
    Store("SBX-LAX-01", "Corner Mart Silver Lake", "Corner Mart", "3300 Sunset Blvd", "Los Angeles", "CA", "90026"),
    Store("SBX-SEA-01", "Parcel Locker Capitol Hill", "Sandbox Lockers", "500 Broadway E", "Seattle", "WA", "98102", "24 hours"),
)  # fmt: skip
STORE_BY_ID = {store.id: store for store in STORES}
STORE_BY_ZIP = {store.postal_code: store for store in STORES}
