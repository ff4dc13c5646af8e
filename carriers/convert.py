"""Unit conversions every adapter needs: shipflow keeps grams, millimetres and integer minor
units; carriers speak decimal strings in kg/cm or lb/in and major currency units."""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

from shipflow.domain import Money, Parcel

GRAMS_PER = {"KG": 1000.0, "KGS": 1000.0, "LB": 453.59237, "LBS": 453.59237}
MM_PER = {"CM": 10.0, "IN": 25.4}
IMPERIAL_COUNTRIES = frozenset({"US", "PR"})  # carriers reject metric units from these origins


def imperial(country: str) -> bool:
    return country.upper() in IMPERIAL_COUNTRIES


def money(amount: str | float | int, currency: str) -> Money:
    """A carrier's decimal amount ("12.30") as Money in minor units (1230)."""
    minor = (Decimal(str(amount)) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return Money(int(minor), currency.upper())


def major_units(value: Money) -> str:
    return f"{Decimal(value.amount) / 100:.2f}"


def _tenths_up(value: float) -> str:
    """Rounded up to a tenth: carriers bill on the next tenth, never declare less."""
    return f"{max(math.ceil(round(value * 10, 6)), 1) / 10:.1f}"


def weight(parcel: Parcel, unit: str) -> str:
    return _tenths_up(parcel.weight_g / GRAMS_PER[unit])


def length(millimetres: int, unit: str) -> str:
    return _tenths_up(millimetres / MM_PER[unit])


def has_dimensions(parcel: Parcel) -> bool:
    return bool(parcel.length_mm and parcel.width_mm and parcel.height_mm)
