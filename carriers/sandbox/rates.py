"""Rate cards of the sandbox carrier: a price by zone (distance band) and billable weight,
in integer US cents, shaped like real carriers' published retail cards."""

from __future__ import annotations

import math
from dataclasses import dataclass

from shipflow.domain import Money, Parcel

CURRENCY = "USD"

# Upper bound in km of zones 2..8, as carriers band origin-destination distance.
ZONE_LIMITS_KM = (250, 500, 1000, 1500, 2000, 2800)
DIM_DIVISOR_MM3_PER_KG = 5_000_000  # 5,000 cm³ per kg, the usual dimensional factor
GRAMS_PER_LB = 453.59237


@dataclass(frozen=True, slots=True)
class RateCard:
    """Price = first pound by zone + each further pound, which costs more the farther it goes."""

    first_lb_cents: int
    per_zone_cents: int
    extra_lb_cents: int
    extra_lb_per_zone_cents: int

    def price(self, zone: int, pounds: int) -> int:
        farther = zone - 2
        extra = (self.extra_lb_cents + self.extra_lb_per_zone_cents * farther) * (pounds - 1)
        return self.first_lb_cents + self.per_zone_cents * farther + extra


RATE_CARDS = {
    "economy": RateCard(695, 45, 55, 12),
    "ground": RateCard(895, 60, 75, 18),
    "express": RateCard(1995, 240, 160, 45),
    "overnight": RateCard(3495, 410, 280, 70),
    "same_day": RateCard(1495, 0, 120, 0),
    "pickup_point": RateCard(595, 40, 50, 12),  # one stop, no doorsteps
}


def zone_for(km: float) -> int:
    return 2 + sum(km > limit for limit in ZONE_LIMITS_KM)


def billable_pounds(parcel: Parcel) -> int:
    """Whole pounds, rounded up, of the greater of actual and dimensional weight."""
    volume = parcel.length_mm * parcel.width_mm * parcel.height_mm
    grams = max(parcel.weight_g, volume * 1000 / DIM_DIVISOR_MM3_PER_KG)
    return max(1, math.ceil(grams / GRAMS_PER_LB))


def price(service: str, km: float, parcels: list[Parcel] | tuple[Parcel, ...]) -> Money:
    card, zone = RATE_CARDS[service], zone_for(km)
    return Money(sum(card.price(zone, billable_pounds(p)) for p in parcels), CURRENCY)
