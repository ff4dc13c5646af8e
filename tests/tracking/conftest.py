"""Tracking fixtures: settings with two brands on the fake carrier, synced to the database,
and helpers to make shipments and sign webhooks."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import select

from shipflow.brands import sync_brands
from shipflow.jobs.inprocess import InProcessRunner
from shipflow.store.db import unit_of_work
from shipflow.store.models import Brand, CarrierAccount, Shipment
from tests.tracking.fake_carrier import FakeCarrier, fake_settings


@pytest.fixture
def settings(database_url):
    return fake_settings(database_url)


@pytest.fixture(autouse=True)
def fake_network():
    FakeCarrier.reset()
    yield FakeCarrier
    FakeCarrier.reset()


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
    with unit_of_work(runtime.sessions) as session:
        sync_brands(session, runtime.settings)
    with unit_of_work(runtime.sessions) as session:
        rows = session.execute(
            select(Brand.id, Brand.code, CarrierAccount.id)
            .join(CarrierAccount, CarrierAccount.brand_id == Brand.id)
            .where(CarrierAccount.carrier == "fake")
        ).all()
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
