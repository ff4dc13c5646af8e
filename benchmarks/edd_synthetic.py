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
from shipflow.edd.dates import DatePMF, date_pmf
from shipflow.edd.history import HistoryRecord

WAREHOUSES = {"wh-nyc": "10001", "wh-chi": "60601", "wh-lax": "90012"}
CUTOFF = time(14, 0)
WEEKDAYS = frozenset(range(5))
TRANSIT_SIGMA = 0.2
LATE_HANDLING = 0.1  # share of orders handed over a working day late


def synthetic_history(
    orders: int, seed: int = 7, start: date = date(2025, 1, 1), days: int = 365
) -> tuple[list[HistoryRecord], dict[str, tuple[time, str]], dict[str, DatePMF]]:
    """Records, the warehouses' cut-offs (shipper -> (time, zone), known to the product) and
    the true delivery-date distribution of every order (for an oracle baseline)."""
    rng = random.Random(seed)
    destinations = rng.sample(geo.us_postal_codes(), 400)
    origins = {code: geo.locate("US", z) for code, z in WAREHOUSES.items()}
    lane_factor: dict[tuple[str, str], float] = {}
    records, truth = [], {}
    for i in range(orders):
        shipper = rng.choice(sorted(WAREHOUSES))
        origin = origins[shipper]
        dest = geo.locate("US", rng.choice(destinations))
        zone = ZoneInfo(origin.timezone)
        moment = datetime.combine(start + timedelta(days=rng.randrange(days)), time(0), zone)
        ordered_at = moment + timedelta(hours=rng.uniform(6, 23.5))
        working = calendar(WEEKDAYS, "US", origin.subdivision)
        start_day = apply_cutoff(ordered_at, origin.timezone, CUTOFF, working).start_day
        handover_day = working.add(start_day, 1 if rng.random() < LATE_HANDLING else 0)
        factor = lane_factor.setdefault((shipper, dest.subdivision), rng.uniform(0.8, 1.25))
        median = (1 + geo.distance_km(origin, dest) / 900) * factor
        transit = max(0, round(median * math.exp(rng.gauss(0, TRANSIT_SIGMA))))
        delivery = calendar(WEEKDAYS, "US", dest.subdivision)
        delivered_day = delivery.after(handover_day, transit)
        truth[f"syn-{i}"] = _true_dates(start_day, median, working, delivery)
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
    return records, cutoffs, truth


def _true_dates(start_day, median, working, delivery) -> DatePMF:
    """The generator's own distribution of the delivery date: what a perfect model would say."""

    def below(x: float) -> float:  # P(median * exp(N(0, sigma)) < x)
        if x <= 0:
            return 0.0
        return 0.5 * (1 + math.erf(math.log(x / median) / (TRANSIT_SIGMA * math.sqrt(2))))

    mass: dict[date, float] = {}
    for extra, p in ((0, 1 - LATE_HANDLING), (1, LATE_HANDLING)):
        handover = working.add(start_day, extra)
        for days in range(40):
            q = below(days + 0.5) - (below(days - 0.5) if days else 0.0)
            day = delivery.after(handover, days)
            mass[day] = mass.get(day, 0.0) + p * q
    return date_pmf(mass)
