"""Simulated shoppers for the demo: plausible US orders, deterministic from a seed."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from shipflow.config import ProductConfig
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


@cache
def _deliverable_zips() -> tuple[dict, ...]:
    import zipcodes

    return tuple(z for z in zipcodes.list_all() if z["zip_code_type"] == "STANDARD" and z["active"])


class DemoShoppers:
    def __init__(self, products: Sequence[ProductConfig], seed: int) -> None:
        self.products = list(products)
        self.random = random.Random(seed)
        self.count = 0

    def next_order(self) -> DemoOrder:
        pick = self.random
        self.count += 1
        place = pick.choice(_deliverable_zips())
        first, last = pick.choice(FIRST), pick.choice(LAST)
        chosen = pick.sample(self.products, k=min(len(self.products), pick.choice([1, 1, 1, 2])))
        return DemoOrder(
            order_number=f"D{self.count:06d}-{pick.randrange(1000, 9999)}",
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
        )
