"""A synthetic delivered history whose truth is known: US lanes with lognormal business-day transit.

Three warehouses with a 14:00 cut-off ship to a few hundred ZIPs. Each (warehouse, destination
state) lane has its own median transit growing with distance; handling is the cut-off day or,
one time in ten, the next working day. Good enough to check the engine recovers what it should.
"""

from __future__ import annotations

import math
import random
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from shipflow import geo
from shipflow.calendars import apply_cutoff, calendar
from shipflow.edd.history import HistoryRecord

WAREHOUSES = {"wh-nyc": "10001", "wh-chi": "60601", "wh-lax": "90012"}
CUTOFF = time(14, 0)
WEEKDAYS = frozenset(range(5))
TRANSIT_SIGMA = 0.2


def synthetic_history(
    orders: int, seed: int = 7, start: date = date(2025, 1, 1), days: int = 365
) -> tuple[list[HistoryRecord], dict[str, tuple[time, str]]]:
    """Records plus the warehouses' cut-offs (shipper -> (time, zone)), known to the product."""
    rng = random.Random(seed)
    index = geo._us_index()
    destinations = rng.sample(sorted(index), 400)
    origins = {code: geo.locate("US", z) for code, z in WAREHOUSES.items()}
    lane_factor: dict[tuple[str, str], float] = {}
    records = []
    for i in range(orders):
        shipper = rng.choice(sorted(WAREHOUSES))
        origin = origins[shipper]
        dest = geo.locate("US", rng.choice(destinations))
        zone = ZoneInfo(origin.timezone)
        moment = datetime.combine(start + timedelta(days=rng.randrange(days)), time(0), zone)
        ordered_at = moment + timedelta(hours=rng.uniform(6, 23.5))
        working = calendar(WEEKDAYS, "US", origin.subdivision)
        handover_day = working.add(
            apply_cutoff(ordered_at, origin.timezone, CUTOFF, working).start_day,
            1 if rng.random() < 0.1 else 0,
        )
        factor = lane_factor.setdefault((shipper, dest.subdivision), rng.uniform(0.8, 1.25))
        median = (1 + geo.distance_km(origin, dest) / 900) * factor
        transit = max(0, round(median * math.exp(rng.gauss(0, TRANSIT_SIGMA))))
        delivery = calendar(WEEKDAYS, "US", dest.subdivision)
        delivered_day = delivery.after(handover_day, transit)
        records.append(
            HistoryRecord(
                order_id=f"syn-{i}",
                ordered_at=ordered_at,
                shipper_id=shipper,
                origin_postal_code=WAREHOUSES[shipper],
                origin_country="US",
                destination_postal_code=dest.postal_code,
                destination_country="US",
                carrier="sandbox",
                service="ground",
                handed_to_carrier_at=datetime.combine(handover_day, time(17), zone),
                delivered_at=datetime.combine(delivered_day, time(15), zone),
            )
        )
    cutoffs = {code: (CUTOFF, origins[code].timezone) for code in WAREHOUSES}
    return records, cutoffs
