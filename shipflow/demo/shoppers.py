"""Simulated shoppers for the demo: plausible US orders, deterministic from a seed."""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache

from carriers.sandbox.carrier import place_of_zip
from carriers.sandbox.places import STORES, Place, distance_km
from shipflow.config import ProductConfig
from shipflow.domain import Address, PickupPoint
from shipflow.orders import LineInput

FIRST = [
    "Ada",
    "Grace",
    "Alan",
    "Katherine",
    "Linus",
    "Margaret",
    "Dennis",
    "Barbara",
    "Ken",
    "Frances",
    "Edsger",
    "Radia",
    "Tim",
    "Hedy",
    "John",
    "Mary",
    "Sophie",
    "Yuki",
    "Wei",
    "Shirin",
    "Amir",
    "Priya",
    "Carlos",
    "Fatima",
]
LAST = [
    "Lovelace",
    "Hopper",
    "Turing",
    "Johnson",
    "Torvalds",
    "Hamilton",
    "Ritchie",
    "Liskov",
    "Thompson",
    "Allen",
    "Dijkstra",
    "Perlman",
    "Berners-Lee",
    "Lamarr",
    "Backus",
    "Keller",
    "Wilson",
    "Tanaka",
    "Chen",
    "Ebadi",
    "Karimi",
    "Patel",
    "Garcia",
    "Haddad",
]
LANGUAGES = ["en"] * 12 + ["zh-Hant", "zh-Hans", "ja", "fa"]


@dataclass(frozen=True, slots=True)
class DemoOrder:
    order_number: str
    customer_name: str
    customer_email: str
    language: str
    ship_to: dict
    lines: tuple[LineInput, ...]
    cash_on_delivery: int = 0
    pickup_point: PickupPoint | None = None
    customer_phone: str = ""


PICKUP_SHARE = 0.15  # shoppers who choose a store near them at checkout
COD_SHARE = 0.1  # shoppers who pay on delivery


def nearest_store(lat: float, lng: float) -> PickupPoint:
    """The sandbox carrier's store nearest to a shopper, as a checkout's store picker gives it."""
    here = Place("", "", lat, lng)
    store = min(STORES, key=lambda s: distance_km(here, place_of_zip(s.postal_code) or here))
    address = Address("US", store.postal_code, store.city, store.state, store.line1)
    return PickupPoint(store.id, store.name, store.network, address, store.hours)


@cache
def _deliverable_zips() -> tuple[dict, ...]:
    import zipcodes

    return tuple(z for z in zipcodes.list_all() if z["zip_code_type"] == "STANDARD" and z["active"])


def placed_count(numbers: Iterable[str], prefix: str) -> int:
    """The highest shopper count among order numbers `<prefix><6 digits>...` (0 for none):
    a restarted demo goes on from it, its seeded shoppers' numbers otherwise taken."""
    digits = (n[len(prefix) : len(prefix) + 6] for n in numbers if n.startswith(prefix))
    return max((int(d) for d in digits if d.isdigit()), default=0)


class DemoShoppers:
    PREFIX = "D"

    def __init__(self, products: Sequence[ProductConfig], seed: int) -> None:
        self.products = list(products)
        self.random = random.Random(seed)
        self.checkout = random.Random(f"{seed}:checkout")  # apart, so the orders stay the same
        self.count = 0

    def next_order(self) -> DemoOrder:
        pick = self.random
        self.count += 1
        place = pick.choice(_deliverable_zips())
        first, last = pick.choice(FIRST), pick.choice(LAST)
        chosen = pick.sample(self.products, k=min(len(self.products), pick.choice([1, 1, 1, 2])))
        to_store = self.checkout.random() < PICKUP_SHARE
        cod = self.checkout.random() < COD_SHARE
        return DemoOrder(
            order_number=f"{self.PREFIX}{self.count:06d}-{pick.randrange(1000, 9999)}",
            customer_name=f"{first} {last}",
            customer_email=f"{first}.{last}.{self.count}@example.com".lower(),
            language=pick.choice(LANGUAGES),
            ship_to={
                "name": f"{first} {last}",
                "line1": f"{pick.randrange(1, 9999)} {pick.choice(['Oak', 'Main', 'Elm', 'Pine'])} St",
                "city": place["city"].title(),
                "state": place["state"],
                "postal_code": place["zip_code"],
                "country": "US",
                "residential": True,
            },
            lines=tuple(
                LineInput(sku=p.sku, quantity=1, unit_price=p.price, name=p.name) for p in chosen
            ),
            cash_on_delivery=sum(p.price for p in chosen) if cod else 0,
            pickup_point=nearest_store(float(place["lat"]), float(place["long"]))
            if to_store
            else None,
        )
