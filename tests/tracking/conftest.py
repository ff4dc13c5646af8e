"""Tracking fixtures: settings with two brands on the fake carrier, synced to the database,
helpers to make shipments and sign webhooks, and an SMTP server for customer e-mails."""

from __future__ import annotations

import socket
from dataclasses import dataclass

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message
from sqlalchemy import select

from shipflow.brands import sync_brands
from shipflow.jobs.inprocess import InProcessRunner
from shipflow.store.db import unit_of_work
from shipflow.store.models import Brand, CarrierAccount, ChannelAccount, Order, Shipment
from tests.tracking.fake_carrier import FakeCarrier, fake_settings


@pytest.fixture
def settings(database_url):
    return fake_settings(database_url)


@pytest.fixture(autouse=True)
def fake_network():
    FakeCarrier.reset()
    yield FakeCarrier
    FakeCarrier.reset()


def brand_accounts(runtime, account: type[CarrierAccount | ChannelAccount], *where) -> list:
    """The settings' brands synced to the database; (brand id, code, account id) of each of
    their accounts of `account`'s kind that `where` picks."""
    with unit_of_work(runtime.sessions) as session:
        sync_brands(session, runtime.settings)
        return session.execute(
            select(Brand.id, Brand.code, account.id)
            .join(account, account.brand_id == Brand.id)
            .where(*where)
        ).all()


@dataclass
class TrackedBrand:
    id: str
    code: str
    account_id: str

    @property
    def webhook_url(self) -> str:
        return f"/webhooks/fake/{self.account_id}"


@pytest.fixture
def tracked(runtime) -> dict[str, TrackedBrand]:
    """Brands `tb` and `tc` in the database, each with a fake-carrier account `main`."""
    rows = brand_accounts(runtime, CarrierAccount, CarrierAccount.carrier == "fake")
    return {code: TrackedBrand(brand_id, code, account_id) for brand_id, code, account_id in rows}


@pytest.fixture
def make_shipment(runtime):
    def make(brand: TrackedBrand, tracking_number: str, **values) -> str:
        values.setdefault("next_poll_at", runtime.clock.now())
        with unit_of_work(runtime.sessions) as session:
            values = {"carrier": "fake", "carrier_account": "main", **values}
            shipment = Shipment(brand_id=brand.id, tracking_number=tracking_number, **values)
            session.add(shipment)
            session.flush()
            return shipment.id

    return make


@pytest.fixture
def jobs(runtime) -> InProcessRunner:
    runner = InProcessRunner(runtime)
    yield runner
    runner.stop()


@pytest.fixture
def customer_parcel(runtime, tracked, make_shipment) -> str:
    """Brand `tb`'s parcel TN1 of an order whose customer gave an e-mail address."""
    with unit_of_work(runtime.sessions) as session:
        order = Order(
            brand_id=tracked["tb"].id,
            order_number="TB-1001",
            customer_name="Ada Lovelace",
            customer_email="ada@example.com",
            ship_to={"city": "Chicago", "state": "IL", "postal_code": "60601", "country": "US"},
            currency="USD",
        )
        session.add(order)
        session.flush()
        order_id = order.id
    return make_shipment(tracked["tb"], "TN1", order_id=order_id)


class Inbox(Message):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list = []

    def handle_message(self, message) -> None:
        self.messages.append(message)

    def recipients(self) -> list[str]:
        return [message["To"] for message in self.messages]


@pytest.fixture
def inbox(runtime) -> Inbox:
    """A real SMTP server on loopback, the runtime's `smtp_url`."""
    inbox = Inbox()
    with socket.socket() as probe:  # aiosmtpd checks readiness on a concrete port
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    url = f"smtp://127.0.0.1:{port}?from=hello@tb.example"
    runtime.settings = runtime.settings.model_copy(update={"smtp_url": url})
    yield inbox
    controller.stop()
