"""A COD order with a chosen store, through the API on the demo brand and the sandbox carrier:
the amount and the store travel with the label request, and only the pickup service is
allocated."""

from __future__ import annotations

import pytest

from shipflow.api_keys import create_api_key
from shipflow.brands import sync_brands
from shipflow.store.db import unit_of_work
from shipflow.store.models import Shipment
from tests.allocation.test_api import northwind  # noqa: F401  (fixture)


def post_order(client, headers, number: str, **extra) -> dict:
    body = {
        "order_number": number,
        "currency": "USD",
        "ship_to": {"postal_code": "60607", "country": "US", "line1": "1 Main St"},
        "lines": [{"sku": "LANTERN", "quantity": 1, "unit_price": 3900}],
        **extra,
    }
    response = client.post("/api/v1/orders", json=body, headers=headers)
    assert response.status_code == 201, response.json
    return response.json


def test_cod_amount_and_store_reach_the_sandbox_label(client, northwind, runtime):  # noqa: F811
    created = post_order(
        client,
        northwind,
        "COD-1",
        cash_on_delivery=4290,
        pickup_point={"id": "SBX-CHI-01", "name": "Corner Mart Loop"},
    )
    assert created["cash_on_delivery"] == 4290
    assert created["pickup_point"]["id"] == "SBX-CHI-01"
    response = client.post(f"/api/v1/orders/{created['id']}/ship", headers=northwind)
    assert response.status_code == 201, response.json
    number = response.json["tracking_number"]
    assert response.json["service"] == "pickup_point"
    # The sandbox writes the store's ZIP as the destination and marks COD in the sequence.
    assert number[3] == "P" and number[9:14] == "60603" and int(number[-3:-1]) >= 50
    with runtime.sessions() as session:
        shipment = session.get_one(Shipment, response.json["id"])
        assert shipment.pickup_point["id"] == "SBX-CHI-01"


def test_a_prepaid_home_order_is_neither_cod_nor_sent_to_a_store(client, northwind):  # noqa: F811
    created = post_order(client, northwind, "HOME-1")
    assert created["cash_on_delivery"] == 0 and created["pickup_point"] is None
    response = client.post(f"/api/v1/orders/{created['id']}/ship", headers=northwind)
    number = response.json["tracking_number"]
    assert response.json["service"] != "pickup_point" and int(number[-3:-1]) < 50


def test_a_negative_cod_amount_is_refused_naming_the_field(client, northwind):  # noqa: F811
    body = {
        "order_number": "BAD-1",
        "currency": "USD",
        "ship_to": {"postal_code": "60607", "country": "US"},
        "lines": [{"sku": "LANTERN", "quantity": 1}],
        "cash_on_delivery": -5,
    }
    response = client.post("/api/v1/orders", json=body, headers=northwind)
    assert response.status_code == 422
    assert response.json["errors"][0]["field"] == "cash_on_delivery"


@pytest.fixture
def formosa(runtime):
    with unit_of_work(runtime.sessions) as session:
        brand = next(b for b in sync_brands(session, runtime.settings) if b.code == "formosa")
        key = create_api_key(session, brand.id)
    return {"Authorization": f"Bearer {key}"}


def store_order(client, headers, number: str, chain: str):
    body = {
        "order_number": number,
        "currency": "TWD",
        "ship_to": {"postal_code": "106", "country": "TW", "line1": "復興南路一段390號"},
        "lines": [{"sku": "OOLONG", "quantity": 1, "unit_price": 120000}],
        "pickup_point": {"id": "006598", "name": "全家台北車站店", "chain": chain},
    }
    return client.post("/api/v1/orders", json=body, headers=headers)


@pytest.mark.parametrize(
    ("chain", "service"), [("FAMI", "fami"), ("FAMIC2C", "fami"), ("HILIFE", "hilife")]
)
def test_the_taiwan_brand_allocates_a_store_to_its_chains_service(client, formosa, chain, service):
    created = store_order(client, formosa, f"TW-{chain}", chain)
    assert created.status_code == 201, created.json
    assert created.json["pickup_point"]["chain"] == chain
    allocation = client.post(
        "/api/v1/allocations", json={"order_id": created.json["id"]}, headers=formosa
    )
    assert allocation.status_code == 200, allocation.json
    assert (allocation.json["chosen"]["carrier"], allocation.json["chosen"]["service"]) == (
        "ecpay",
        service,
    )
    assert {r["service"] for r in allocation.json["ranked"]} == {service}


@pytest.mark.parametrize(
    ("chain", "detail"),
    [
        (
            "OKMARTC2C",
            "no pickup-point service of the brand delivers to OKMARTC2C stores; use FAMI, "
            "FAMIC2C, HILIFE, HILIFEC2C, UNIMART, UNIMARTC2C, UNIMARTFREEZE",
        ),
        (
            "",
            "name the store's chain as its store map gave it, one of FAMI, FAMIC2C, HILIFE, "
            "HILIFEC2C, UNIMART, UNIMARTC2C, UNIMARTFREEZE",
        ),
    ],
)
def test_a_store_of_a_chain_the_brand_does_not_ship_to_is_refused(client, formosa, chain, detail):
    response = store_order(client, formosa, "TW-BAD", chain)
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    assert response.json["errors"] == [{"field": "pickup_point.chain", "message": detail}]
