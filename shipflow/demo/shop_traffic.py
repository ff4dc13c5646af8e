"""The demo's Shopify store: the simulated store (`shopify_shop.py`) served under shipflow's
own address, connected to the demo brand the way a merchant's shop is (`connect_account`,
then webhook subscriptions through its GraphQL Admin API), and a share of the demo's
shoppers checking out there. Their orders then take the production path: signed webhooks,
the jobs, allocation, the sandbox label, the fulfilment and its events written back."""

from __future__ import annotations

import itertools
import logging
import random
import re
import secrets
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from carriers.sandbox.emitter import http_deliver
from channels.base import ChannelError
from channels.money import major_units
from shipflow.brands import brand_by_code
from shipflow.channel_accounts import connect_account, subscribe
from shipflow.config import BrandConfig
from shipflow.demo.shopify_shop import SimulatedShopify
from shipflow.demo.shoppers import DemoOrder
from shipflow.store.db import unit_of_work
from shipflow.store.models import ChannelAccount, Order

if TYPE_CHECKING:
    from shipflow.runtime import Runtime

log = logging.getLogger(__name__)

PREFIX = "/demo/shopify"  # + "/<domain>" stands for https://<domain>
ACCOUNT_CODE = "demo-shopify"  # brands[].channels[] in config.yaml names its rules
COD_GATEWAY = "Cash on Delivery (COD)"
UNPAID_SHARE = 0.15  # shoppers paying later (bank transfer): orders/paid comes afterwards
UPDATE_SHARE = 0.05  # orders the merchant edits (the address) soon after they were placed
CANCEL_SHARE = 0.05  # orders the merchant cancels (after their label, most often)


def _last_numbers(session: Session, account_id: str) -> tuple[int, int]:
    """The highest order id and name number the brand holds of this store (0, 0 for none)."""
    held = session.execute(
        select(Order.source_order_id, Order.order_number).where(Order.source_account == account_id)
    ).all()
    ids = [int(i) for i, _ in held if i and i.isdigit()]
    names = [int(m.group()) for _, n in held if (m := re.search(r"\d+$", n or ""))]
    return max(ids, default=0), max(names, default=0)


def shop_domain(brand_code: str) -> str:
    return f"{brand_code}-demo.myshopify.com"


class DemoShop:
    """One simulated store for the demo brand, and its shoppers' behaviour."""

    def __init__(self, brand: BrandConfig, base: str, seed: int) -> None:
        self.brand = brand
        self.store = SimulatedShopify(
            shop_domain(brand.code),
            client_id="shipflow-demo",
            client_secret=secrets.token_urlsafe(32),
            deliver=lambda url, headers, body: http_deliver(url, body, headers),
        )
        self.api_base = f"{base}{self.prefix}"
        self.random = random.Random(f"{seed}:shop")
        self.line_ids = itertools.count(866550311766439020)
        self.account_id: str | None = None
        self.unpaid: list[int] = []  # orders waiting for their payment
        self.recent: list[int] = []  # orders the merchant may still edit or cancel

    @property
    def prefix(self) -> str:
        return f"{PREFIX}/{self.store.domain}"

    def connect(self, runtime: Runtime) -> str:
        """Connect the store to the brand and subscribe to its webhooks (over HTTP, so the
        server must be answering); returns the channel account's id."""
        with unit_of_work(runtime.sessions) as session:
            brand = brand_by_code(session, self.brand.code)
            if brand is None:
                raise LookupError(f"brand {self.brand.code!r} is not in the database")
            row: ChannelAccount = connect_account(
                session,
                runtime,
                brand.id,
                channel="shopify",
                shop=self.store.domain,
                code=ACCOUNT_CODE,
                credentials={
                    "access_token": self.store.access_token,
                    "client_secret": self.store.client_secret,
                    "api_base": self.api_base,
                },
            )
            session.flush()
            self.store.resume(*_last_numbers(session, row.id))
            subscribe(session, runtime, row)
            self.account_id = row.id
        return row.id

    def check_out(self, demo: DemoOrder) -> None:
        """A shopper's order in the store: paid, cash on delivery or paid later."""
        if demo.cash_on_delivery:
            self.store.place(self._rest_order(demo, COD_GATEWAY, paid=False), paid=False)
            return
        paid = self.random.random() >= UNPAID_SHARE
        order = self.store.place(self._rest_order(demo, "shopify_payments", paid), paid=paid)
        if not paid:
            self.unpaid.append(order["id"])
        self.recent = [*self.recent[-20:], order["id"]]

    def merchant_step(self) -> None:
        """What happens in the store between checkouts: a payment arrives, the merchant
        corrects an address or cancels an order."""
        if self.unpaid:
            number = self.unpaid.pop(0)
            self.store.update(
                number, "orders/paid", financial_status="paid", total_outstanding="0.00"
            )
        if self.recent and self.random.random() < UPDATE_SHARE:
            number = self.random.choice(self.recent)
            address = dict(self.store.orders[number]["shipping_address"])
            address["address2"] = "Apt 2"
            self.store.update(number, shipping_address=address)
        if self.recent and self.random.random() < CANCEL_SHARE:
            number = self.recent.pop(self.random.randrange(len(self.recent)))
            self.store.update(
                number,
                "orders/cancelled",
                cancelled_at=datetime.now(UTC).isoformat(timespec="seconds"),
                cancel_reason="customer",
            )

    def _rest_order(self, demo: DemoOrder, gateway: str, paid: bool) -> dict[str, Any]:
        """The order as Shopify's REST Order resource (the body of orders/* webhooks)."""
        currency = self.brand.currency
        weights = {p.sku: p.weight_g for p in self.brand.products}
        first, _, last = demo.customer_name.partition(" ")
        to = demo.ship_to
        total = sum(line.unit_price * line.quantity for line in demo.lines)
        return {
            "email": demo.customer_email,
            "currency": currency,
            "customer_locale": demo.language,
            "customer": {"first_name": first, "last_name": last, "email": demo.customer_email},
            "shipping_address": {
                "name": demo.customer_name,
                "first_name": first,
                "last_name": last,
                "address1": to["line1"],
                "address2": None,
                "city": to["city"],
                "province_code": to["state"],
                "zip": to["postal_code"],
                "country": "United States",
                "country_code": to["country"],
            },
            "line_items": [
                {
                    "id": next(self.line_ids),
                    "sku": line.sku,
                    "name": line.name,
                    "title": line.name,
                    "quantity": line.quantity,
                    "price": major_units(line.unit_price, currency),
                    "grams": weights.get(line.sku, 0),
                    "requires_shipping": True,
                }
                for line in demo.lines
            ],
            "shipping_lines": [{"code": "Standard", "title": "Standard", "source": "shopify"}],
            "payment_gateway_names": [gateway],
            "total_price": major_units(total, currency),
            "total_outstanding": major_units(0 if paid else total, currency),
        }


def connect_when_up(shop: DemoShop, runtime: Runtime) -> bool:
    """Connect on the first demo tick the server answers (it calls itself); False until."""
    if shop.account_id is not None:
        return True
    try:
        shop.connect(runtime)
    except ChannelError as exc:
        log.info("demo shop not connected yet: %s", exc)
        return False
    return True
