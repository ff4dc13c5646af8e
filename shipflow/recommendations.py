"""The tracking page's "you might also like": cards chosen by the brand's rules (`related`
products of what was bought, its `best_sellers`, its `picked` cards), never a product the
customer just bought. Best sellers come from the brand's orders of the last 30 days,
counted once per 15 minutes per process (not on every page view)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shipflow.config import BrandConfig
from shipflow.store.models import Order, OrderLine

BEST_SELLER_DAYS = 30


@dataclass(frozen=True, slots=True)
class Card:
    title: str
    url: str
    image_url: str = ""
    sku: str = ""


def recommend(
    brand: BrandConfig, bought: Collection[str], best_sellers: Callable[[], Sequence[str]]
) -> list[Card]:
    """Up to `theme.recommend_count` cards, rule by rule; `best_sellers` is only asked when
    a rule needs it."""
    products = {p.sku: p for p in brand.products}

    def product_cards(skus) -> list[Card]:
        found = (products.get(sku) for sku in skus)
        return [Card(p.name, p.url, p.image_url, p.sku) for p in found if p and p.url]

    by_rule = {
        "related": lambda: product_cards(
            sku for bought_sku in bought for sku in getattr(products.get(bought_sku), "related", ())
        ),
        "best_sellers": lambda: product_cards(best_sellers()),
        "picked": lambda: [
            Card(c.title, c.url, c.image_url, c.sku) for c in brand.theme.recommendations
        ],
    }
    chosen: list[Card] = []
    for rule in brand.theme.recommend:
        for card in by_rule[rule]():
            if len(chosen) == brand.theme.recommend_count:
                return chosen
            if card.sku not in bought and card.url not in {c.url for c in chosen}:
                chosen.append(card)
    return chosen


def best_selling_skus(session: Session, brand_id: str, now: datetime, limit: int = 10) -> list[str]:
    """SKUs by units ordered in the last `BEST_SELLER_DAYS` days, most first."""
    units = func.sum(OrderLine.quantity)
    rows = session.execute(
        select(OrderLine.sku)
        .join(Order, Order.id == OrderLine.order_id)
        .where(
            Order.brand_id == brand_id, Order.created_at >= now - timedelta(days=BEST_SELLER_DAYS)
        )
        .group_by(OrderLine.sku)
        .order_by(units.desc(), OrderLine.sku)
        .limit(limit)
    )
    return list(rows.scalars())


@dataclass
class BestSellers:
    """Each brand's best sellers, counted again after `ttl_seconds`."""

    ttl_seconds: float = 900.0
    _counted: dict[str, tuple[float, list[str]]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def of(self, session: Session, brand_id: str, now: datetime) -> list[str]:
        with self._lock:
            found = self._counted.get(brand_id)
        if found and time.monotonic() - found[0] < self.ttl_seconds:
            return found[1]
        skus = best_selling_skus(session, brand_id, now)
        with self._lock:
            self._counted[brand_id] = (time.monotonic(), skus)
        return skus
