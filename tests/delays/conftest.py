"""A synced brand, its alert settings and quick shipment factories."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest

from shipflow.brands import sync_brand
from shipflow.delays.config import AlertsConfig
from shipflow.store.db import unit_of_work
from shipflow.store.models import Brand, Shipment
from tests.conftest import configure_brand

_numbers = itertools.count(1)


@pytest.fixture
def brand_id(runtime) -> str:
    with unit_of_work(runtime.sessions) as session:
        return sync_brand(session, runtime.settings.brands[0]).id


def set_alerts(runtime, session, brand_id: str, alerts: dict) -> None:
    """Give the brand another `alerts` section in its configuration."""
    code = session.get(Brand, brand_id).code
    configure_brand(runtime, code, alerts=AlertsConfig.model_validate(alerts))


def add_shipment(session, brand_id: str, now, **changes) -> Shipment:
    values = {
        "brand_id": brand_id,
        "carrier": "ups",
        "tracking_number": f"1Z{next(_numbers):012d}",
        "warehouse_code": "EWR",
        "status": "in_transit",
        "created_at": now - timedelta(days=2),
        "last_event_at": now - timedelta(hours=2),
        "promised_date": now.date() + timedelta(days=2),
        "destination_state": "NY",
        "destination_postal_code": "10001",
    }
    shipment = Shipment(**{**values, **changes})
    session.add(shipment)
    return shipment
