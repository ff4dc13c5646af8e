"""A small world for allocation tests: two warehouses, a few services, flat rate cards."""

from __future__ import annotations

from datetime import date

from shipflow.allocation.model import Option, Order, OrderAttributes
from shipflow.allocation.rules import BrandRules
from shipflow.allocation.scoring import Pricer, RateCard, ScoringWeights, TransitTable
from shipflow.allocation.service import AllocationContext
from shipflow.domain import Address, CarrierService, Parcel, ServiceLevel, Warehouse

SHIP_DATE = date(2026, 11, 23)  # Monday
EWR = Warehouse("EWR", "Edison", Address("US", "08817", state="NJ"), 40.5187, -74.4121, "America/New_York")  # fmt: skip
DFW = Warehouse("DFW", "Dallas", Address("US", "75261", state="TX"), 32.8998, -97.0403, "America/Chicago")  # fmt: skip
WAREHOUSES = {"EWR": EWR, "DFW": DFW}
UPS = CarrierService("ups", "ground")
FEDEX = CarrierService("fedex", "ground")
USPS = CarrierService("usps", "ground_advantage")
UPS_AIR = CarrierService("ups", "2nd_day_air", ServiceLevel.EXPRESS)
SERVICES = [UPS, FEDEX, USPS, UPS_AIR]
NEWARK = ("07102", 40.7357, -74.1724, "NJ")  # about 25 km from Edison
AUSTIN = ("78701", 30.2711, -97.7437, "TX")  # about 300 km from Dallas, 2400 km from Edison


def card(near: int, far: int, divisor: int | None = None) -> RateCard:
    """Zone 1 up to 500 km, zone 2 beyond; two weight bands (up to 5 kg, up to 30 kg)."""
    return RateCard.from_dict(
        {
            "bands_kg": [5, 30],
            "prices": {"1": [near, near + 500], "2": [far, far + 800]},
            "zone_km": [[500, "1"], [5000, "2"]],
            **({"dim_divisor": divisor} if divisor else {}),
        }
    )


RATE_CARDS = {
    "ups:ground": card(900, 1300),
    "fedex:ground": card(950, 1250),
    "usps:ground_advantage": card(700, 1100),
    "ups:2nd_day_air": card(2000, 2600),
}
# P(business days = i) by distance band (<=500 km, <=5000 km)
TRANSIT = TransitTable.from_dict(
    {
        "ups:ground": {"bands_km": [500, 5000], "days_pmf": [[0, 0.9, 0.1], [0, 0, 0, 0.6, 0.3, 0.1]]},
        "fedex:ground": {"bands_km": [500, 5000], "days_pmf": [[0, 0.95, 0.05], [0, 0, 0, 0.8, 0.2]]},
        "usps:ground_advantage": {"bands_km": [500, 5000], "days_pmf": [[0, 0.7, 0.2, 0.1], [0, 0, 0, 0.3, 0.3, 0.2, 0.2]]},
        "ups:2nd_day_air": {"bands_km": [500, 5000], "days_pmf": [[0, 1.0], [0, 0.2, 0.8]]},
    }
)  # fmt: skip


def context(rules: dict | None = None, lam: float = 1.0, **kwargs) -> AllocationContext:
    return AllocationContext(
        warehouses=WAREHOUSES,
        rules=BrandRules.from_dict(rules or {}),
        pricer=Pricer(RATE_CARDS),
        estimator=TRANSIT,
        ship_date=SHIP_DATE,
        weights=ScoringWeights(lateness_lambda=lam, late_cost_cents=1000),
        **kwargs,
    )


def order(
    id: str = "o1",
    place: tuple = NEWARK,
    kg: float = 1.0,
    box: tuple[int, int, int] = (300, 200, 100),
    warehouses: tuple[str, ...] = ("EWR",),
    level: ServiceLevel = ServiceLevel.STANDARD,
    line1: str = "1 Main St",
    residential: bool = True,
    country: str = "US",
    deliver_by: date | None = None,
    pickup_chain: str = "",
    **attributes,
) -> Order:
    postal, lat, lng, state = place
    address = Address(country, postal, state=state, line1=line1, residential=residential)
    parcel = Parcel(round(kg * 1000), *box)
    return Order(
        id,
        address,
        lat,
        lng,
        (parcel,),
        warehouses,
        level,
        deliver_by,
        OrderAttributes(**attributes),
        pickup_chain,
    )


def option(service: CarrierService = UPS, warehouse: Warehouse = EWR) -> Option:
    return Option(warehouse, service)
