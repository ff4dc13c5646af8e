"""`estimate` builds dates only for lanes that can still win; it must pick what quoting every
lane and ranking by (promise, distance), first lane on ties, would pick."""

from datetime import datetime, timedelta

import pytest

from shipflow import geo
from shipflow.domain import CarrierService
from shipflow.edd.calibration import calibration_from
from shipflow.edd.engine import estimate, quote_from, resolve_destination, warehouse_location
from shipflow.edd.transit import TransitModel

from .factories import NY, WEEKDAYS, history, warehouse

GROUND = CarrierService("ups", "ground")
EXPRESS = CarrierService("ups", "express", delivery_days=WEEKDAYS | {5})
ECONOMY = CarrierService("ups", "economy")
WAREHOUSES = [
    warehouse("wh-nyc", handling_days=1),
    warehouse("wh-nyc-twin"),  # same place: ties are broken by lane order
    warehouse("wh-lax", "90001", latitude=34.05, longitude=-118.24, timezone="America/Los_Angeles"),
]
SERVICES = [ECONOMY, GROUND, EXPRESS]


def fitted(calibrated: bool = False) -> TransitModel:
    records = [
        *history([3, 4, 5, 4, 6, 3] * 8, service=ECONOMY),
        *history([1, 2, 2, 3, 2] * 8, service=GROUND, handling=1),
        *history([1, 1, 2, 1] * 8, service=EXPRESS, destination="94105"),
    ]
    model = TransitModel.fit(records, datetime(2027, 1, 1, tzinfo=NY))
    if calibrated:  # promises chosen by a padding rate, which can stop short of the quantile
        levels = [i / 200 for i in range(200)]
        model.calibration = calibration_from(levels, levels, rates=[i / 400 for i in range(200)])
    return model


def every_lane(model, destination, ordered_at, confidence):
    best, best_rank = None, None
    for w in WAREHOUSES:
        origin = warehouse_location(w)
        distance = geo.distance_km(origin, destination)
        for service in SERVICES:
            quote = quote_from(w, origin, service, model, destination, ordered_at, confidence)
            rank = (quote.promised, distance)
            if quote.ok and (best_rank is None or rank < best_rank):
                best, best_rank = quote, rank
    return best


@pytest.mark.parametrize("postal", ["60601", "94105", "10001", "33101", "99501"])
@pytest.mark.parametrize("confidence", [0.5, 0.8, 0.95, 0.99])
@pytest.mark.parametrize("calibrated", [False, True])
def test_estimate_picks_what_quoting_every_lane_picks(postal, confidence, calibrated):
    model, destination = fitted(calibrated), resolve_destination("US", postal)
    for hours in range(0, 24 * 21, 7):  # three weeks, around cut-offs, weekends and a holiday
        ordered_at = datetime(2026, 11, 16, tzinfo=NY) + timedelta(hours=hours)
        got = estimate(WAREHOUSES, SERVICES, model, "SKU", 1, destination, ordered_at, confidence)
        assert got == every_lane(model, destination, ordered_at, confidence)
