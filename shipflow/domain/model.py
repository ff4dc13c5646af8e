"""Value objects shared by every part of shipflow."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time


class ServiceLevel(enum.StrEnum):
    """What the customer asked for; carriers' services are mapped onto these."""

    SAME_DAY = "same_day"
    EXPRESS = "express"
    STANDARD = "standard"
    ECONOMY = "economy"
    PICKUP_POINT = "pickup_point"  # to a store or locker the customer collects from


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
class PickupPoint:
    """A store or locker that holds a parcel for the customer to collect (a 7-ELEVEN in
    Taiwan, a carrier's service point). `network` names the chain or the carrier's network
    for people; `chain` names it for the carrier (ECPay's LogisticsSubType of the map it was
    chosen on: UNIMART, FAMIC2C, ...), which allocation matches against the service."""

    id: str
    name: str = ""
    network: str = ""
    address: Address | None = None
    hours: str = ""
    chain: str = ""


@dataclass(frozen=True, slots=True)
class Parcel:
    """A physical parcel: weight in grams, dimensions in millimetres."""

    weight_g: int
    length_mm: int = 0
    width_mm: int = 0
    height_mm: int = 0


@dataclass(frozen=True, slots=True)
class Warehouse:
    """An origin. Cut-off is local time in `timezone`; weekdays are 0=Monday .. 6=Sunday."""

    code: str
    name: str
    address: Address
    latitude: float
    longitude: float
    timezone: str
    cutoff: time = time(15, 0)
    handling_days: int = 0
    working_days: frozenset[int] = frozenset({0, 1, 2, 3, 4})
    holiday_country: str = "US"
    holiday_subdivision: str | None = None
    pickup_days: frozenset[int] = frozenset({0, 1, 2, 3, 4})
    stock: Mapping[str, int] = field(default_factory=dict)

    @property
    def holidays(self) -> tuple[str, str | None]:
        """The (country, subdivision) whose public holidays close it: every calendar of this
        warehouse (quotes, the backlog, detectors) reads them here."""
        return self.holiday_country, self.holiday_subdivision


@dataclass(frozen=True, slots=True)
class CarrierService:
    """One service of one carrier account, e.g. ("ups", "ground")."""

    carrier: str
    service: str
    level: ServiceLevel = ServiceLevel.STANDARD
    delivery_days: frozenset[int] = frozenset({0, 1, 2, 3, 4})  # Saturday delivery adds 5
    account: str = "default"
    capabilities: frozenset[str] = frozenset()  # its carrier's (carriers.base.Capability values)
    pickup_chains: frozenset[str] = frozenset()  # the store chains it delivers to; empty: any

    @property
    def key(self) -> str:
        return f"{self.carrier}:{self.service}"
