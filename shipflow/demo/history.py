"""A delivered history from the real sandbox carrier: a brand's warehouses ship to random US
ZIPs with its services, each parcel's story told by `carriers.sandbox.network`.

Orders arrive over a year; each warehouse hands over on the day its cut-off, handling days
and pickup days say (labels are printed that afternoon), and the sandbox decides the rest:
pickup, line haul, late parcels, exceptions, failed attempts, losses. `shipflow demo load`
seeds the demo brand with it, so the widget promises from a trained model at once; the EDD
benchmarks score the engine on it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from carriers.sandbox import mapping
from carriers.sandbox.carrier import place_of_zip
from carriers.sandbox.network import SandboxProfile, SimulatedShipment, Timeline, simulate
from carriers.sandbox.places import Place, distance_km
from shipflow import geo
from shipflow.calendars import apply_cutoff, calendar
from shipflow.config import BrandConfig, Settings, load_settings
from shipflow.domain import TrackingEvent, Warehouse
from shipflow.edd.history import HistoryRecord
from shipflow.edd.repository import add_history
from shipflow.edd.retrain import train_brand
from shipflow.store.edd_models import DeliveryHistoryRow
from shipflow.store.models import Brand

DEMO_ORDERS = 6000  # a small shop's year: enough for its lanes to have a history
# Share of orders per service, as a shop offering all of them might see.
SERVICE_MIX = {"ground": 0.5, "economy": 0.2, "express": 0.15, "overnight": 0.1, "same_day": 0.05}


def demo_brand() -> BrandConfig:
    return load_settings(environ={}).brands[0]


# the sandbox's networks outside the US (see carriers.sandbox.places.HUBS_ABROAD)
ZONES = {"JP": "Asia/Tokyo", "TW": "Asia/Taipei", "IN": "Asia/Kolkata"}


def known_place(postal_code: str, country: str = "US") -> Place:
    place = place_of_zip(postal_code) if country == "US" else _place_abroad(country, postal_code)
    if place is None:
        raise ValueError(f"the sandbox knows no place with postal code {postal_code!r}")
    return place


def _place_abroad(country: str, postal_code: str) -> Place | None:
    found = geo.locate(country, postal_code)
    if found is None or found.lat is None or found.lng is None:
        return None
    city, state = (region.split(":", 1)[1] for region in (found.regions[1], found.regions[-2]))
    return Place(city, state, found.lat, found.lng, ZONES[country], found.postal_code, country)


def destination_codes(country: str, rng: random.Random, count: int = 3000) -> list[str]:
    """Random postal codes the sandbox can deliver to in `country`."""
    if country == "US":
        return [z for z in rng.sample(geo.us_postal_codes(), count) if place_of_zip(z)]
    codes = geo.postal_codes(country)
    return rng.sample(codes, min(count, len(codes)))


def handover_day(warehouse: Warehouse, ordered_at: datetime) -> date:
    """The warehouse's own rule: cut-off, handling days on working days, then a pickup day."""
    working = calendar(warehouse.working_days, *warehouse.holidays)
    pickup = calendar(warehouse.pickup_days & warehouse.working_days, *warehouse.holidays)
    start = apply_cutoff(ordered_at, warehouse.timezone, warehouse.cutoff, working).start_day
    return pickup.next_day(working.add(start, warehouse.handling_days))


@dataclass(frozen=True)
class SandboxParcel:
    """One simulated order: what the history keeps of it, and the sandbox's story of its
    parcel."""

    record: HistoryRecord
    shipment: SimulatedShipment
    timeline: Timeline

    @cached_property
    def events(self) -> tuple[TrackingEvent, ...]:
        """The parcel's whole tracking story as shipflow receives it (through the carrier's
        wire format and mapping, oldest first): what the delay warnings replay (issue #18).
        Built on first use: most callers want the records only."""
        number = self.shipment.tracking_number
        return tuple(
            mapping.tracking_event(mapping.event_payload(e, number)) for e in self.timeline.events
        )


def sandbox_history(
    orders: int,
    seed: int = 11,
    start: date = date(2025, 1, 1),
    days: int = 365,
    brand: BrandConfig | None = None,
    profile: SandboxProfile | None = None,
    country: str = "US",
) -> list[SandboxParcel]:
    """`orders` simulated orders within `country` (US, JP, TW or IN; the brand's warehouses
    must be there); lost or returned parcels' records keep delivered_at None."""
    rng = random.Random(seed)
    brand = brand or demo_brand()
    warehouses = [w.to_domain() for w in brand.warehouses]
    origins = {w.code: known_place(w.address.postal_code, country) for w in warehouses}
    zips = destination_codes(country, rng)
    services, weights = list(SERVICE_MIX), list(SERVICE_MIX.values())
    simulated = []
    for i in range(orders):
        warehouse = rng.choice(warehouses)
        origin = origins[warehouse.code]
        destination = known_place(rng.choice(zips), country)
        service = rng.choices(services, weights)[0]
        if service == "same_day" and distance_km(origin, destination) > 100:
            service = "ground"
        zone = ZoneInfo(warehouse.timezone)
        day = start + timedelta(days=rng.randrange(days))
        ordered_at = datetime.combine(day, time(), zone) + timedelta(hours=rng.uniform(6, 23.5))
        handover = handover_day(warehouse, ordered_at)
        hours = (8.0, 11.5) if service == "same_day" else (12.0, 16.5)
        label_at = datetime.combine(handover, time(), zone) + timedelta(hours=rng.uniform(*hours))
        shipment = SimulatedShipment(f"SBX{i:08d}", origin, destination, service, label_at)
        timeline = simulate(shipment, profile)
        picked = next((e.at for e in timeline.events if e.code == "PU"), None)
        delivered = next((e.at for e in timeline.events if e.code == "DL"), None)
        record = HistoryRecord(
            order_id=f"sbx-{i}",
            ordered_at=ordered_at,
            shipper_id=warehouse.code,
            origin_postal_code=warehouse.address.postal_code,
            origin_country=country,
            destination_postal_code=destination.postal_code,
            destination_country=country,
            carrier="sandbox",
            service=service,
            handed_to_carrier_at=picked,
            delivered_at=delivered,
            promised_date=timeline.promised_date,
            origin_state=warehouse.address.state,
            destination_state=destination.state,
        )
        simulated.append(SandboxParcel(record, shipment, timeline))
    return simulated


def seed_demo_history(session: Session, brand: Brand, settings: Settings, now: datetime) -> int:
    """A year of sandbox deliveries up to `now`, and a model trained on them, for a brand that
    ships with the sandbox carrier and has no history yet: the demo's widget then promises from
    history at its first page view. Returns the orders added (0: nothing to do)."""
    config = settings.brand(brand.code)
    if config is None:
        return 0
    has_history = session.scalar(select(exists().where(DeliveryHistoryRow.brand_id == brand.id)))
    if has_history or not any(c.carrier == "sandbox" for c in config.carriers):
        return 0
    start = (now - timedelta(days=365)).date()
    parcels = sandbox_history(DEMO_ORDERS, start=start, days=351, brand=config)
    records = [parcel.record for parcel in parcels]
    added, _ = add_history(session, brand.id, records, "demo")
    train_brand(session, brand, now, settings)
    return added
