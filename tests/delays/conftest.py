"""A synced brand, its alert settings, quick shipment factories, and ops logins per brand."""

from __future__ import annotations

import itertools
from datetime import timedelta

import numpy as np
import pytest

from shipflow.brands import sync_brand
from shipflow.delays import alerts
from shipflow.delays.config import AlertsConfig
from shipflow.delays.risk import FEATURES, LaneTimes, MomentRates, RiskModel, WarningModel
from shipflow.ops_users import create_ops_user
from shipflow.store.db import unit_of_work
from shipflow.store.models import Alert, Brand, Shipment
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


def flat_risk(logit: float, service: str = "ups:") -> RiskModel:
    """A risk model whose chance is `logit`'s for every parcel of `service`: one lane of 40
    delivered times, every weight but the intercept 0."""
    return RiskModel(
        zone="America/New_York",
        lanes=LaneTimes(from_order={(service,): np.arange(1.0, 41.0) / 10}),
        rates=MomentRates(),
        weights=WarningModel((logit,) + (0.0,) * (len(FEATURES) - 1)),
    )


@pytest.fixture
def ops(runtime, brands, clock):
    """Per brand: an ops login and three alerts (late/ups, exception/fedex, resolved)."""
    found = {}
    now = clock.now()
    with unit_of_work(runtime.sessions) as session:
        for code, brand in brands.items():
            email = f"ops@{code}.example"
            ids = {}
            for i, (kind, severity, carrier) in enumerate(
                [
                    ("late", "warning", "ups"),
                    ("exception", "critical", "fedex"),
                    ("stale", "warning", "ups"),
                ]
            ):
                alert = alerts.raise_alert(
                    session,
                    brand["id"],
                    now + timedelta(seconds=i),
                    kind=kind,
                    severity=severity,
                    title=f"{code.upper()} {kind} alert",
                    dedupe_key=f"{kind}:{code}",
                    carrier=carrier,
                    region="CA",
                )
                ids[kind] = alert.id
            session.get(Alert, ids["stale"]).status = "resolved"
            password = create_ops_user(session, brand["id"], email)
            found[code] = {**brand, "email": email, "password": password, "alerts": ids}
    return found


def csrf(client) -> str:
    client.get("/ops/login")
    with client.session_transaction() as session:
        return session["csrf_token"]


def login(client, user, code="a", password=None):
    return client.post(
        "/ops/login",
        data={
            "csrf_token": csrf(client),
            "brand": f"brand-{code}",
            "email": user["email"],
            "password": password or user["password"],
        },
    )


def post_form(client, url, **data):
    with client.session_transaction() as session:
        token = session["csrf_token"]
    return client.post(url, data={"csrf_token": token, **data})
