"""Value objects shared by every part of shipflow."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class ServiceLevel(enum.StrEnum):
    """What the customer asked for; carriers' services are mapped onto these."""

    SAME_DAY = "same_day"
    EXPRESS = "express"
    STANDARD = "standard"
    ECONOMY = "economy"


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in integer minor units (cents) with its ISO-4217 currency."""

    amount: int
    currency: str

    def __post_init__(self) -> None:
        if len(self.currency) != 3 or not self.currency.isalpha():
            raise ValueError(f"currency must be an ISO-4217 code, got {self.currency!r}")

    def __add__(self, other: Money) -> Money:
        if other.currency != self.currency:
            raise ValueError(f"cannot add {other.currency} to {self.currency}")
        return Money(self.amount + other.amount, self.currency)


@dataclass(frozen=True, slots=True)
class Address:
    """A postal address; only `country` and `postal_code` are needed to route and estimate."""

    country: str
    postal_code: str = ""
    city: str = ""
    state: str = ""
    line1: str = ""
    line2: str = ""
    name: str = ""
    company: str = ""
    phone: str = ""
    email: str = ""
    residential: bool = True


@dataclass(frozen=True, slots=True)
class Parcel:
    """A physical parcel: weight in grams, dimensions in millimetres."""

    weight_g: int
    length_mm: int = 0
    width_mm: int = 0
    height_mm: int = 0
