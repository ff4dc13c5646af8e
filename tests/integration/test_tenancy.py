"""Brands never see each other's data: every brand-scoped endpoint answers brand B's key
with 404 for brand A's objects, and lists never include them."""

from __future__ import annotations

from shipflow.api_keys import active_key
from shipflow.delays.alerts import raise_alert
from shipflow.store.allocation_models import AllocationBatch
from shipflow.store.db import unit_of_work
from shipflow.store.models import ChannelAccount
from tests.integration.test_api import make_order, make_shipment
from tests.postpurchase.factories import postpurchase_objects

# Per-carrier figures carry no ids: brand B must get an empty list.
AGGREGATES = {"/api/v1/ndr-metrics", "/api/v1/feedback-report"}
# One per brand, not a list: see test_allocation_rules_are_per_brand.
SETTINGS = {"/api/v1/allocation-rules"}


def _object_routes(app) -> list[str]:
    """Every GET route under the API that reads one object by id."""
    return sorted(
        rule.rule
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/") and "<id>" in rule.rule and "GET" in rule.methods
    )


def _list_routes(app) -> list[str]:
    return sorted(
        rule.rule
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/")
        and "<" not in rule.rule
        and "GET" in rule.methods
        and not rule.rule.endswith("openapi.json")
    )


def make_webhook_receipt(app, brand_id: str) -> str:
    """A stored carrier webhook; returns the account it names, which its listing shows."""
    from shipflow.store.tracking_models import WebhookReceipt

    with app.extensions["shipflow"].sessions() as session:
        session.add(
            WebhookReceipt(brand_id=brand_id, carrier="ups", account="cac_of_a", body=b"{}")
        )
        session.commit()
    return "cac_of_a"


def test_every_endpoint_hides_other_brands(app, client, brands, runtime):
    a, b = brands["a"]["headers"], brands["b"]["headers"]
    order = make_order(client, a)
    shipment = make_shipment(client, a, order_id=order["id"])
    with unit_of_work(runtime.sessions) as session:
        alert = raise_alert(
            session,
            brands["a"]["id"],
            runtime.clock.now(),
            kind="late",
            severity="warning",
            title="late",
            dedupe_key="late:1",
            shipment_id=shipment["id"],
        )
    ids = {"orders": order["id"], "shipments": shipment["id"], "alerts": alert.id}
    ids["webhook-receipts"] = make_webhook_receipt(app, brands["a"]["id"])
    with unit_of_work(runtime.sessions) as session:
        batch = AllocationBatch(brand_id=brands["a"]["id"], request={"order_ids": []})
        session.add(batch)
        session.flush()
        ids["allocation-batches"] = batch.id
    ids |= postpurchase_objects(runtime, order["id"], shipment["id"])
    with runtime.sessions() as session:
        ids["api-keys"] = active_key(session, brands["a"]["key"]).id
    with unit_of_work(runtime.sessions) as session:
        shop = ChannelAccount(
            brand_id=brands["a"]["id"], code="shop", channel="sandbox", shop="a-shop.example"
        )
        session.add(shop)
        session.flush()
        ids["channels"] = shop.id

    object_routes = _object_routes(app)
    assert object_routes, "no object routes found"
    for route in object_routes:
        resource = route.split("/")[3]
        assert resource in ids, f"add an object of {route} to this test"
        url = route.replace("<id>", ids[resource])
        assert client.get(url, headers=a).status_code == 200, url
        other = client.get(url, headers=b)
        assert other.status_code == 404, url
        assert ids[resource] not in other.get_data(as_text=True)

    for route in _list_routes(app):
        if route in SETTINGS:
            continue
        if route in AGGREGATES:
            assert client.get(route, headers=a).json["data"], route
            assert client.get(route, headers=b).json["data"] == [], route
            continue
        mine = client.get(route, headers=a).get_data(as_text=True)
        theirs = client.get(route, headers=b).get_data(as_text=True)
        assert any(i in mine for i in ids.values()), route
        assert not any(i in theirs for i in ids.values()), route


def test_cannot_attach_shipment_to_other_brands_order(client, brands):
    order = make_order(client, brands["a"]["headers"])
    response = client.post(
        "/api/v1/shipments",
        json={"carrier": "ups", "tracking_number": "1Z0001", "order_id": order["id"]},
        headers=brands["b"]["headers"],
    )
    assert response.status_code == 422
    assert response.json["errors"][0]["field"] == "order_id"


def test_allocation_rules_are_per_brand(client, brands):
    a, b = brands["a"]["headers"], brands["b"]["headers"]
    rules = {"exclude": ["sandbox:ground"]}
    assert (
        client.put("/api/v1/allocation-rules", json={"rules": rules}, headers=a).status_code == 200
    )
    assert client.get("/api/v1/allocation-rules", headers=a).json["rules"] == rules
    assert client.get("/api/v1/allocation-rules", headers=b).json == {
        "source": "config",
        "rules": {},
    }
