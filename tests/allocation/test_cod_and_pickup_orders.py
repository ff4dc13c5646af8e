"""A COD order with a chosen store, through the API on the demo brand and the sandbox carrier:
the amount and the store travel with the label request, and only the pickup service is
allocated."""

from __future__ import annotations

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
