"""Allocation through the API on the demo brand and the sandbox carrier: explain one order,
ship it, and plan a batch in the background."""

from __future__ import annotations

import pytest

from shipflow.allocation.batches import run_batch
from shipflow.api_keys import create_api_key
from shipflow.brands import sync_brands
from shipflow.store.db import unit_of_work


@pytest.fixture
def northwind(runtime):
    with unit_of_work(runtime.sessions) as session:
        brand = next(b for b in sync_brands(session, runtime.settings) if b.code == "northwind")
        key = create_api_key(session, brand.id)
    return {"Authorization": f"Bearer {key}"}


def order(client, headers, number, postal_code="10001", sku="LANTERN", quantity=1):
    body = {
        "order_number": number,
        "currency": "USD",
        "ship_to": {"postal_code": postal_code, "country": "US", "line1": "1 Main St"},
        "lines": [{"sku": sku, "quantity": quantity, "unit_price": 3900}],
    }
    response = client.post("/api/v1/orders", json=body, headers=headers)
    assert response.status_code == 201, response.json
    return response.json["id"]


def test_allocation_explains_choice_runner_up_and_rejections(client, northwind):
    order_id = order(client, northwind, "A1")
    response = client.post("/api/v1/allocations", json={"order_id": order_id}, headers=northwind)
    assert response.status_code == 200, response.json
    body = response.json
    assert body["chosen"]["carrier"] == "sandbox" and body["chosen"]["warehouse"] in {"EWR", "DFW"}
    assert body["runner_up"] is not None and body["runner_up"] != body["chosen"]
    assert body["chosen"]["cost_cents"] > 0 and body["promised_date"]
    assert body["ranked"][0] == body["chosen"]
    scores = [s["total_cents"] for s in body["ranked"]]
    assert scores == sorted(scores)
    # LANTERN is out of stock in Reno: no Reno option is offered at all
    assert all(s["warehouse"] != "RNO" for s in body["ranked"])


def test_unknown_or_other_brands_order_is_named(client, northwind, brands):
    response = client.post("/api/v1/allocations", json={"order_id": "ord_x"}, headers=northwind)
    assert response.status_code == 422 and response.json["errors"][0]["field"] == "order_id"
    theirs = order(client, brands["a"]["headers"], "B1")
    response = client.post("/api/v1/allocations", json={"order_id": theirs}, headers=northwind)
    assert response.status_code == 422


def test_out_of_stock_everywhere_is_a_clear_error(client, northwind):
    order_id = order(client, northwind, "A2", sku="TENT-2P", quantity=500)
    response = client.post("/api/v1/allocations", json={"order_id": order_id}, headers=northwind)
    assert response.status_code == 422
    assert "no warehouse holds stock" in response.json["detail"]


def test_ship_creates_labelled_shipment_with_promise(client, northwind):
    order_id = order(client, northwind, "A3", postal_code="94103", sku="BOOTS-42")
    response = client.post(f"/api/v1/orders/{order_id}/ship", headers=northwind)
    assert response.status_code == 201, response.json
    shipment = response.json
    assert shipment["carrier"] == "sandbox" and shipment["tracking_number"].startswith("SBX")
    assert shipment["promised_date"] is not None and shipment["warehouse_code"] == "RNO"
    again = client.post(f"/api/v1/orders/{order_id}/ship", headers=northwind)
    assert again.status_code == 409 and "already has a shipment" in again.json["detail"]
    detail = client.get(f"/api/v1/orders/{order_id}", headers=northwind).json
    assert detail["promised_date"] == shipment["promised_date"]


def test_batch_is_planned_in_the_background(client, northwind, runtime):
    ids = [
        order(client, northwind, f"B{i}", postal_code=z)
        for i, z in enumerate(["10001", "94103", "60607", "33101", "75201", "98101"])
    ]
    body = {
        "order_ids": ids + ["ord_missing"],
        "constraints": {"capacities": [{"limit": 2, "warehouse": "EWR"}]},
    }
    response = client.post("/api/v1/allocation-batches", json=body, headers=northwind)
    assert response.status_code == 202 and response.json["status"] == "queued"
    batch_id = response.json["id"]
    assert run_batch(runtime, batch_id) == 1
    done = client.get(f"/api/v1/allocation-batches/{batch_id}", headers=northwind).json
    assert done["status"] == "done", done
    result = done["result"]
    assert result["unassigned"]["ord_missing"] == "no order with this id for your brand"
    choices = {o["order_id"]: o["choice"] for o in result["orders"]}
    assert set(choices) == set(ids)
    assert sum(1 for c in choices.values() if c.endswith("@EWR")) <= 2
    assert result["total_cost_cents"] > 0 and result["gap"] is not None


def test_batch_with_bad_constraints_names_the_key(client, northwind):
    body = {"order_ids": ["ord_1"], "constraints": {"capacities": [{"limit": -1}]}}
    response = client.post("/api/v1/allocation-batches", json=body, headers=northwind)
    assert response.status_code == 422
    assert response.json["errors"][0]["field"].startswith("constraints.capacities[0]")


def test_rules_set_through_the_api_steer_allocation(client, northwind):
    assert client.get("/api/v1/allocation-rules", headers=northwind).json["source"] == "config"
    rules = {"exclude": ["sandbox:ground"], "services": {"sandbox:economy": {"max_weight_kg": 0.1}}}
    response = client.put("/api/v1/allocation-rules", json={"rules": rules}, headers=northwind)
    assert response.status_code == 200 and response.json["source"] == "api"
    order_id = order(client, northwind, "R1")
    body = client.post("/api/v1/allocations", json={"order_id": order_id}, headers=northwind).json
    assert body["chosen"]["service"] not in {"ground", "economy"}
    reasons = {r["option"]: r["rule"] for r in body["rejected"]}
    assert reasons["sandbox:ground@EWR"] == "excluded"
    assert reasons["sandbox:economy@EWR"] == "max_weight"
    back = client.delete("/api/v1/allocation-rules", headers=northwind)
    assert back.json["source"] == "config"


@pytest.mark.parametrize(
    ("rules", "field"),
    [
        ({"max_p_late": 3}, "rules.max_p_late"),
        (
            {"services": {"sandbox:ground": {"max_weight_kg": "heavy"}}},
            "rules.services.sandbox:ground.max_weight_kg",
        ),
        ({"colour": "red"}, "rules"),
        ({"exclude": [{"carrier": "ups"}]}, "rules.exclude[0]"),
        (
            {"services": {"sandbox:ground": {"countries": [["US"]]}}},
            "rules.services.sandbox:ground.countries[0]",
        ),
    ],
)
def test_bad_rules_are_refused_naming_the_key(client, northwind, rules, field):
    response = client.put("/api/v1/allocation-rules", json={"rules": rules}, headers=northwind)
    assert response.status_code == 422, response.json
    assert response.json["errors"][0]["field"] == field
    assert client.get("/api/v1/allocation-rules", headers=northwind).json["source"] == "config"


def test_carrier_quotes_are_cached_across_requests(client, northwind, monkeypatch):
    from carriers.sandbox import SandboxCarrier

    calls = []
    original = SandboxCarrier.rates
    monkeypatch.setattr(
        SandboxCarrier,
        "rates",
        lambda self, request: calls.append(request) or original(self, request),
    )
    first, second = order(client, northwind, "Q1"), order(client, northwind, "Q2")
    client.post("/api/v1/allocations", json={"order_id": first}, headers=northwind)
    asked = len(calls)
    assert asked > 0
    client.post("/api/v1/allocations", json={"order_id": second}, headers=northwind)
    assert len(calls) == asked  # same lane and weight band: answered from the cache
