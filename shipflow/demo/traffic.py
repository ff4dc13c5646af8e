"""The living demo (`shipflow serve --demo`): simulated shoppers place orders, fulfilment
allocates and labels them on the sandbox carrier, and the sandbox network sends its scans as
signed webhooks to shipflow's own endpoint. Part of the shoppers check out in the demo's
simulated Shopify store instead (`shop_traffic.py`), whose orders come in by its webhooks.
Everything after the order takes the production path (webhooks, jobs, outbox, alerts,
messages); only the shoppers, the shop, the carrier and the clock are simulated."""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from carriers.sandbox import SandboxCarrier
from carriers.sandbox.emitter import SandboxEmitter, http_deliver
from shipflow.allocation.service import NotAllocated
from shipflow.api_keys import active_key, create_api_key
from shipflow.brands import brand_by_code, sync_brands
from shipflow.demo.ecpay_logistics import SimulatedECPay
from shipflow.demo.history import seed_demo_history
from shipflow.demo.shop_traffic import DemoShop, connect_when_up
from shipflow.demo.shoppers import DemoOrder, DemoShoppers, placed_count
from shipflow.demo.taiwan_shoppers import TaiwanShoppers
from shipflow.instance import DEMO_API_KEY, INSTANCE, read_secret, write_secret
from shipflow.ops_users import create_ops_user
from shipflow.orders import create_order
from shipflow.store.alert_models import OpsUser
from shipflow.store.db import unit_of_work
from shipflow.store.models import Brand, CarrierAccount, Order, Shipment

if TYPE_CHECKING:
    from shipflow.runtime import Runtime

log = logging.getLogger(__name__)
TERMINAL = ("delivered", "returned_to_sender", "cancelled", "expired")
SHOP_SHARE = 0.5  # shoppers checking out in the simulated Shopify store


@dataclass(frozen=True, slots=True)
class DemoAccess:
    api_key: str
    ops_email: str
    ops_password: str


def demo_api_key(
    session: Session, brand_id: str, instance: Path = INSTANCE, name: str = DEMO_API_KEY
) -> str:
    """The key of earlier runs (kept in instance/: the database has only its hash) while it
    is valid; else a new one, kept for the next run."""
    key = read_secret(name, instance)
    found = active_key(session, key) if key else None
    if found is not None and found.brand_id == brand_id:
        return key
    key = create_api_key(session, brand_id, "demo")
    write_secret(name, key, instance)
    return key


def _brand_row(session: Session, brand_code: str) -> Brand:
    """The demo brand's row: `prepare` synced the configured brands first, so it exists."""
    brand = brand_by_code(session, brand_code)
    if brand is None:
        raise LookupError(f"brand {brand_code!r} is not in the database; run `prepare` first")
    return brand


def prepare(
    runtime: Runtime, brand_code: str, instance: Path = INSTANCE, key_name: str = DEMO_API_KEY
) -> DemoAccess:
    """Load the brand, give a sandbox brand a year of delivery history and a model on its
    first run (so the widget promises from history at once), reuse the demo API key (kept
    under `key_name` in instance/) and give the ops login a fresh password for this run."""
    email = f"ops@{brand_code}.example"
    config = runtime.settings.brand(brand_code)
    with unit_of_work(runtime.sessions) as session:
        sync_brands(session, runtime.settings)
        brand = _brand_row(session, brand_code)
        if config and any(a.carrier == "sandbox" for a in config.carriers):
            seed_demo_history(session, brand, runtime.settings, runtime.clock.now())
        key = demo_api_key(session, brand.id, instance, key_name)
        session.execute(delete(OpsUser).where(OpsUser.brand_id == brand.id, OpsUser.email == email))
        password = create_ops_user(session, brand.id, email)
    return DemoAccess(key, email, password)


def simulated_ecpay(runtime: Runtime, webhook_base: str) -> dict[str, SimulatedECPay]:
    """A simulated ECPay per configured ECPay account, keyed by the path of the account's
    base URL (where the demo app mounts it), pushing to that account's webhook URL."""
    found = {}
    with runtime.sessions() as session:
        for brand in runtime.settings.brands:
            brand_id = _brand_row(session, brand.code).id
            for account in brand.carriers:
                if account.carrier != "ecpay" or not account.base_url:
                    continue
                row = session.scalar(
                    select(CarrierAccount).where(
                        CarrierAccount.brand_id == brand_id, CarrierAccount.code == account.code
                    )
                )
                assert row is not None  # `prepare` synced the configured accounts
                credentials = account.credentials
                found[urlsplit(account.base_url).path] = SimulatedECPay(
                    credentials["merchant_id"],
                    credentials["hash_key"],
                    credentials["hash_iv"],
                    runtime.clock,
                    seed=runtime.settings.demo.seed,
                    push_url=f"{webhook_base}/webhooks/ecpay/{row.id}",
                )
    return found


class DemoTraffic:
    """Places `orders_per_minute` orders per real minute (part of them in the `shop`) and
    forwards the sandbox's scans."""

    def __init__(
        self, runtime: Runtime, brand_code: str, webhook_base: str, shop: DemoShop | None = None
    ) -> None:
        self.runtime = runtime
        self.shop = shop
        self.watched: set[str] = set()
        brand = runtime.settings.brand(brand_code)
        if brand is None:
            raise LookupError(f"brand {brand_code!r} is not in the configuration")
        self.brand = brand
        demo = runtime.settings.demo
        self.per_second = demo.orders_per_minute / 60
        taiwan = all(w.country == "TW" for w in brand.warehouses)
        shoppers = TaiwanShoppers if taiwan else DemoShoppers
        self.shoppers = shoppers(self.brand.products, demo.seed)
        self.fulfilment = runtime.fulfilment(brand_code)
        self.started = time.monotonic()
        self.placed = 0
        self.emitters: dict[str, SandboxEmitter] = {}
        self.webhook_urls: dict[str, str] = {}
        self.random = random.Random(demo.seed)
        with runtime.sessions() as session:
            brand_id = _brand_row(session, brand_code).id
            prefix = self.shoppers.PREFIX
            self.shoppers.count = placed_count(
                session.scalars(
                    select(Order.order_number).where(
                        Order.brand_id == brand_id, Order.order_number.like(f"{prefix}%")
                    )
                ),
                prefix,
            )
            for row in session.scalars(
                select(CarrierAccount).where(
                    CarrierAccount.brand_id == brand_id, CarrierAccount.carrier == "sandbox"
                )
            ):
                carrier = self.fulfilment.carriers[row.code]
                assert isinstance(carrier, SandboxCarrier)
                self.emitters[row.code] = SandboxEmitter(carrier, http_deliver)
                self.webhook_urls[row.code] = f"{webhook_base}/webhooks/sandbox/{row.id}"
            # After a restart, keep forwarding the scans of parcels still on their way.
            for shipment in session.scalars(
                select(Shipment).where(
                    Shipment.brand_id == brand_id,
                    Shipment.carrier == "sandbox",
                    Shipment.status.not_in(TERMINAL),
                )
            ):
                self._watch(shipment)

    def _watch(self, shipment: Shipment) -> None:
        emitter = self.emitters.get(shipment.carrier_account)
        if emitter is not None:
            emitter.register(shipment.tracking_number, self.webhook_urls[shipment.carrier_account])
            self.watched.add(shipment.tracking_number)

    def _watch_shop_parcels(self, account_id: str) -> None:
        """The shop's orders are labelled by the jobs: watch their new parcels."""
        with self.runtime.sessions() as session:
            for shipment in session.scalars(
                select(Shipment)
                .join(Order, Order.id == Shipment.order_id)
                .where(
                    Order.source_account == account_id,
                    Shipment.carrier == "sandbox",
                    Shipment.status.not_in(TERMINAL),
                )
            ):
                if shipment.tracking_number not in self.watched:
                    self._watch(shipment)

    def _to_shop(self, demo: DemoOrder) -> bool:
        """Whether this shopper checks out in the simulated store (once it is connected; a
        store pickup is chosen in shipflow's own checkout only)."""
        return (
            self.shop is not None
            and self.shop.account_id is not None
            and demo.pickup_point is None
            and self.random.random() < SHOP_SHARE
        )

    def place_due_orders(self) -> int:
        due = int((time.monotonic() - self.started) * self.per_second) + 1 - self.placed
        placed = 0
        for _ in range(max(0, due)):
            self.placed += 1
            demo = self.shoppers.next_order()
            if self._to_shop(demo):
                assert self.shop is not None
                self.shop.check_out(demo)
                self.shop.merchant_step()
                placed += 1
                continue
            try:
                with unit_of_work(self.runtime.sessions) as session:
                    brand = _brand_row(session, self.brand.code)
                    order = create_order(
                        session,
                        brand.id,
                        order_number=demo.order_number,
                        ship_to=demo.ship_to,
                        currency=self.brand.currency,
                        lines=demo.lines,
                        placed_at=self.runtime.clock.now(),
                        customer_name=demo.customer_name,
                        customer_email=demo.customer_email,
                        customer_phone=demo.customer_phone,
                        language=demo.language,
                        cash_on_delivery=demo.cash_on_delivery,
                        pickup_point=demo.pickup_point,
                    )
                    shipment = self.fulfilment.ship(session, order)
                    self._watch(shipment)
                placed += 1
            except NotAllocated as exc:
                log.info("demo order %s not shipped: %s", demo.order_number, exc)
        return placed

    def tick(self, runtime: Runtime) -> int:
        """One demo step (a periodic job): the shop connected once the server answers, new
        orders, then the carrier's due scans."""
        if self.shop is not None and connect_when_up(self.shop, runtime):
            assert self.shop.account_id is not None
            self._watch_shop_parcels(self.shop.account_id)
        work = self.place_due_orders()
        for emitter in self.emitters.values():
            work += emitter.run_once()
        return work
