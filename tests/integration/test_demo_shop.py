"""End to end on the demo's simulated Shopify store, every hop over real HTTP through a live
server: the store's signed webhooks in, the jobs, allocation and the sandbox label, the
fulfilment and its events written back through the store's GraphQL Admin API, the sandbox's
signed scans in. The store's side is checked: what its order timeline shows."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from carriers.sandbox.emitter import SandboxEmitter, http_deliver
from shipflow.brands import sync_brands
from shipflow.secrets_at_rest import KEY_VARIABLE, new_key
from shipflow.server import mount_demo_shop
from shipflow.store.db import unit_of_work
from shipflow.store.models import CarrierAccount, Order, Shipment
from shipflow.web import create_app
from tests.conftest import configure_brand
from tests.tracking.conftest import jobs  # noqa: F401

# Every parcel delivered at the first attempt, so the timeline is known in advance.
CALM = {
    "webhook_secret": "sandbox-webhook-secret",
    "late_rate": "0",
    "failed_attempt_rate": "0",
    "exception_rate": "0",
    "loss_rate": "0",
}


def rest_order(sku: str = "LANTERN", gateway: str = "shopify_payments") -> dict:
    """A checkout as Shopify's REST Order resource carries it (the orders/* webhook body)."""
    return {
        "name": "#1001",
        "email": "ada@example.com",
        "currency": "USD",
        "customer_locale": "en",
        "customer": {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"},
        "shipping_address": {
            "name": "Ada Lovelace",
            "first_name": "Ada",
            "last_name": "Lovelace",
            "address1": "1 Main St",
            "address2": None,
            "city": "Brooklyn",
            "province_code": "NY",
            "zip": "11201",
            "country": "United States",
            "country_code": "US",
        },
        "line_items": [
            {
                "id": 866550311766439020,
                "sku": sku,
                "name": "Rechargeable camp lantern",
                "title": "Rechargeable camp lantern",
                "quantity": 1,
                "price": "39.00",
                "grams": 400,
                "requires_shipping": True,
            }
        ],
        "shipping_lines": [{"code": "Standard", "title": "Standard", "source": "shopify"}],
        "payment_gateway_names": [gateway],
        "total_price": "39.00",
        "total_outstanding": "0.00",
    }


class Live:
    def __init__(self, runtime, jobs) -> None:  # noqa: F811
        brand = runtime.settings.brands[0]
        carriers = [
            c.model_copy(update={"credentials": {**c.credentials, **CALM}}) for c in brand.carriers
        ]
        configure_brand(runtime, brand.code, carriers=carriers)
        with unit_of_work(runtime.sessions) as session:
            sync_brands(session, runtime.settings)
        app = create_app(runtime)
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.base = f"http://127.0.0.1:{self.server.server_port}"
        runtime.settings = runtime.settings.model_copy(update={"base_url": self.base})
        self.shop = mount_demo_shop(app, runtime, self.base)
        self.store = self.shop.store
        self.runtime, self.jobs, self.brand = runtime, jobs, brand.code
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.shop.connect(runtime)
        carrier = runtime.fulfilment(brand.code).carriers["sandbox-main"]
        self.scans = SandboxEmitter(carrier, http_deliver)
        with runtime.sessions() as session:
            account = session.scalar(
                select(CarrierAccount.id).where(CarrierAccount.code == "sandbox-main")
            )
        self.scan_url = f"{self.base}/webhooks/sandbox/{account}"

    def shipment(self, shop_order_id: int) -> Shipment | None:
        with self.runtime.sessions() as session:
            return session.scalar(
                select(Shipment)
                .join(Order, Order.id == Shipment.order_id)
                .where(Order.source_order_id == str(shop_order_id))
            )

    def days_pass(self, days: int, tracking_number: str) -> None:
        """The sandbox network moves the parcel an hour at a time, its scans sent: a carrier
        sending "out for delivery" and "delivered" in one webhook is told only the latter, so
        a coarser step would make the timeline depend on the day's draw."""
        self.scans.register(tracking_number, self.scan_url)
        for _ in range(days * 24):
            self.runtime.clock.advance(timedelta(hours=1))
            if self.scans.run_once():  # an hour without scans leaves nothing to process
                self.jobs.drain()
        self.jobs.drain()

    def timeline(self, shop_order_id: int) -> list[tuple]:
        return [
            ("FULFILLMENT", e["trackingInfo"][0]["number"], e["trackingInfo"][0]["url"])
            if "trackingInfo" in e
            else (e["status"],)
            for e in self.store.timeline(shop_order_id)
        ]


@pytest.fixture
def live(runtime, jobs, monkeypatch):  # noqa: F811
    monkeypatch.setenv(KEY_VARIABLE, new_key())
    world = Live(runtime, jobs)
    yield world
    world.server.shutdown()


def test_the_shop_is_connected_through_its_api(live):
    with live.runtime.sessions() as session:
        account = session.scalar(select(Order.source_account))  # none yet
    assert account is None
    urls = {s["url"] for s in live.store.subscriptions.values()}
    assert sorted(s["topic"] for s in live.store.subscriptions.values()) == [
        "app/uninstalled",
        "orders/cancelled",
        "orders/create",
        "orders/paid",
        "orders/updated",
    ]
    assert urls == {f"{live.base}/webhooks/channels/shopify/{live.shop.account_id}"}


def test_a_paid_order_goes_to_delivered_with_the_shops_timeline_written(live):
    order = live.store.place(rest_order())
    live.jobs.drain()
    shipment = live.shipment(order["id"])
    assert shipment is not None and shipment.carrier == "sandbox"
    assert live.timeline(order["id"]) == []  # labelled, not yet scanned

    live.days_pass(8, shipment.tracking_number)

    assert live.shipment(order["id"]).status == "delivered"
    timeline = live.timeline(order["id"])
    kind, number, url = timeline[0]
    assert (kind, number) == ("FULFILLMENT", shipment.tracking_number)
    assert url.startswith(f"{live.base}/t/northwind/")
    assert [entry[0] for entry in timeline[1:]] == ["IN_TRANSIT", "OUT_FOR_DELIVERY", "DELIVERED"]
    assert live.store.orders[order["id"]]["fulfillment_status"] == "fulfilled"


def test_cancelled_after_its_label_the_label_is_voided_and_the_shop_left_alone(live):
    order = live.store.place(rest_order())
    live.jobs.drain()
    tracking_number = live.shipment(order["id"]).tracking_number

    live.store.update(order["id"], "orders/cancelled", cancelled_at="2026-11-24T10:00:00+00:00")
    live.jobs.drain()
    live.days_pass(3, tracking_number)

    assert live.shipment(order["id"]).status == "cancelled"
    assert live.timeline(order["id"]) == []
    assert live.store.orders[order["id"]]["fulfillment_status"] is None


def test_an_unpaid_order_waits_for_its_payment(live):
    order = live.store.place(rest_order(), paid=False)
    live.jobs.drain()
    assert live.shipment(order["id"]) is None

    live.store.update(order["id"], "orders/paid", financial_status="paid")
    live.jobs.drain()
    assert live.shipment(order["id"]).status == "info_received"  # labelled


def test_cash_on_delivery_ships_before_payment(live):
    order = rest_order(gateway="Cash on Delivery (COD)") | {"total_outstanding": "39.00"}
    placed = live.store.place(order, paid=False)
    live.jobs.drain()
    with live.runtime.sessions() as session:
        ours = session.scalar(select(Order).where(Order.source_order_id == str(placed["id"])))
        assert (ours.paid, ours.cash_on_delivery) == (False, 3900)
    assert live.shipment(placed["id"]) is not None
