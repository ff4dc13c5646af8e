"""What the EDD widget asks: "if I order this now, when will it reach this postal code?"

STUB — TO BE REPLACED BY THE EDD ENGINE (shipflow.edd). This placeholder picks the nearest
warehouse with stock, ships today before its cut-off (else the next working day) and adds
a fixed number of weekday transit days by distance. It knows no holidays, carrier
calendars or learned lane times. Keep the signature and the response shape; the widget
and its tests rely on them:

    {"available": true, "promise_date": "2026-11-26", "earliest": "2026-11-25",
     "latest": "2026-11-27", "cutoff_at": "2026-11-23T19:00:00+00:00",
     "countdown_seconds": 8040, "warehouse": "EWR", "carrier": "sandbox",
     "service": "ground", "confidence": 0.95}
    {"available": false, "reason": "out_of_stock"}

Bad input comes back as an ApiProblem naming the field.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from shipflow.config import BrandConfig, WarehouseConfig
from shipflow.geo import Location as Place
from shipflow.geo import locate
from shipflow.runtime import Runtime
from shipflow.web.problems import ApiProblem, field_problem

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# (up to km, weekday transit days) for ground service: the stub's whole transit model.
TRANSIT_BY_DISTANCE = ((300, 1), (800, 2), (1600, 3), (2800, 4), (math.inf, 5))


def estimate_for_widget(
    runtime: Runtime, brand: BrandConfig, sku: str, postal_code: str, country: str, now: datetime
) -> dict | ApiProblem:
    if not any(p.sku == sku for p in brand.products):
        return field_problem("sku", f"{brand.name} sells no product with SKU {sku!r}", 404)
    destination = locate(country, postal_code)
    if destination is None:
        return field_problem("postal_code", f"{postal_code!r} is not a known postal code")
    stocked = [w for w in brand.warehouses if w.stock.get(sku, 0) > 0]
    if not stocked:
        return {"available": False, "reason": "out_of_stock"}
    warehouse = min(stocked, key=lambda w: _distance_km(w, destination))
    zone = ZoneInfo(warehouse.timezone)
    ship_day = _ship_day(warehouse, now.astimezone(zone))
    cutoff_at = datetime.combine(ship_day, warehouse.cutoff, tzinfo=zone)
    transit = next(
        days for km, days in TRANSIT_BY_DISTANCE if _distance_km(warehouse, destination) <= km
    )
    promise = _add_weekdays(ship_day, transit)
    carrier = brand.carriers[0]
    return {
        "available": True,
        "promise_date": promise.isoformat(),
        "earliest": _add_weekdays(ship_day, max(1, transit - 1)).isoformat(),
        "latest": _add_weekdays(promise, 1).isoformat(),
        "cutoff_at": cutoff_at.isoformat(),
        "countdown_seconds": max(0, int((cutoff_at - now).total_seconds())),
        "warehouse": warehouse.code,
        "carrier": carrier.carrier,
        "service": carrier.services[0].code if carrier.services else "",
        "confidence": brand.edd_confidence,
    }


def _distance_km(warehouse: WarehouseConfig, place: Place) -> float:
    if place.lat is None or place.lng is None:
        return math.inf
    lat1, lng1, lat2, lng2 = map(
        math.radians, (warehouse.latitude, warehouse.longitude, place.lat, place.lng)
    )
    a = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lng2 - lng1) / 2) ** 2
    )
    return 6371 * 2 * math.asin(math.sqrt(a))


def _works(warehouse: WarehouseConfig, day: date) -> bool:
    return WEEKDAYS[day.weekday()] in warehouse.working_days


def _ship_day(warehouse: WarehouseConfig, local_now: datetime) -> date:
    """Today if it is a working day before the cut-off, else the next working day; then
    the warehouse's handling days."""
    day = local_now.date()
    if not _works(warehouse, day) or local_now.time() >= warehouse.cutoff:
        day += timedelta(days=1)
        while not _works(warehouse, day):
            day += timedelta(days=1)
    for _ in range(warehouse.handling_days):
        day += timedelta(days=1)
        while not _works(warehouse, day):
            day += timedelta(days=1)
    return day


def _add_weekdays(day: date, count: int) -> date:
    while count:
        day += timedelta(days=1)
        count -= day.weekday() < 5
    return day
