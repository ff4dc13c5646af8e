"""What allocation reasons about: orders, their options (warehouse x carrier service), results."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

from shipflow.domain import Address, CarrierService, Parcel, ServiceLevel, Warehouse

LEVEL_RANK = {
    ServiceLevel.ECONOMY: 0,
    ServiceLevel.STANDARD: 1,
    ServiceLevel.EXPRESS: 2,
    ServiceLevel.SAME_DAY: 3,
    ServiceLevel.PICKUP_POINT: 1,  # not a speed: matched on its own (`rules._service_level`)
}

_PO_BOX = re.compile(r"\b(p\.?\s*o\.?\s*box|post\s+office\s+box|pob\s*\d|box\s*#?\s*\d+$)", re.I)


def is_po_box(address: Address) -> bool:
    """Carriers such as UPS and FedEx cannot deliver to a PO box; spot one in the address lines."""
    return _po_box_lines(address.line1, address.line2)


@lru_cache(maxsize=65_536)
def _po_box_lines(line1: str | None, line2: str | None) -> bool:
    """Remembered: a batch and the single-order path see the same addresses again and again."""
    return any(_PO_BOX.search(line) for line in (line1, line2) if line)


@dataclass(frozen=True, slots=True)
class OrderAttributes:
    """What the shipment must carry beyond the parcels; money in integer cents."""

    cash_on_delivery_cents: int = 0
    declared_value_cents: int = 0
    hazmat: bool = False
    signature: bool = False


@dataclass(frozen=True, slots=True)
class Order:
    """One order to allocate. `warehouses` lists the codes that hold its stock, preferred first."""

    id: str
    destination: Address
    lat: float | None
    lng: float | None
    parcels: tuple[Parcel, ...]
    warehouses: tuple[str, ...]
    level: ServiceLevel = ServiceLevel.STANDARD
    deliver_by: date | None = None  # a latest acceptable date overrides the level's promise
    attributes: OrderAttributes = field(default_factory=OrderAttributes)
    pickup_chain: str = ""  # the chosen store's chain (`PickupPoint.chain`)

    @property
    def weight_g(self) -> int:
        return sum(p.weight_g for p in self.parcels)


@dataclass(frozen=True, slots=True)
class Option:
    """A way to ship an order: one carrier service from one warehouse."""

    warehouse: Warehouse
    service: CarrierService
    key: str = field(init=False, compare=False)  # "ups:ground@EWR", computed once: used a lot
    service_key: str = field(init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "service_key", self.service.key)
        object.__setattr__(self, "key", f"{self.service_key}@{self.warehouse.code}")


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why an option cannot carry an order: the rule's name and a sentence for humans."""

    option: str
    rule: str
    reason: str

    def __str__(self) -> str:
        return f"{self.option} rejected by {self.rule}: {self.reason}"
