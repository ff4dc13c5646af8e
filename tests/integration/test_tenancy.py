"""Brands never see each other's data: every route of the API and of the ops pages that names
an object answers brand B with 404 for brand A's object, whatever the method, and changes
nothing of it; lists and pages never include it. Routes are read from the app's URL map, so
a new one is covered, or fails here until it is."""

from __future__ import annotations

import re

from shipflow.api_keys import active_key
from shipflow.claims import ClaimForm, open_claim
from shipflow.delays.alerts import raise_alert
from shipflow.store.allocation_models import AllocationBatch
from shipflow.store.claim_models import DeliveryPhoto
from shipflow.store.db import unit_of_work
from shipflow.store.models import ChannelAccount, Shipment
from shipflow.store.tracking_models import WebhookReceipt
from tests.delays.conftest import login, ops, post_form  # noqa: F401  (a fixture)
from tests.integration.test_api import make_order, make_shipment
from tests.postpurchase.factories import postpurchase_objects

# Per-carrier figures carry no ids: brand B must get an empty list.
AGGREGATES = {"/api/v1/ndr-metrics", "/api/v1/feedback-report"}
# One per brand, not a list: see test_allocation_rules_are_per_brand.
SETTINGS = {"/api/v1/allocation-rules"}
TRACKING_NUMBER = "1Z999AA10123456784"  # make_shipment's
# Every ops page without an id in its path, with the query that would show brand A's rows.
OPS_PAGES = {
    "/ops/": "",
    "/ops/login": "",
    "/ops/alerts": "?status=all",
    "/ops/performance": "?weeks=52",
    "/ops/failed-deliveries": "",
    "/ops/search": f"?q={TRACKING_NUMBER}",
    "/ops/claims": "?state=all",
}
OPS_ACTIONS = {"/ops/logout"}  # POST, about the signed-in user only
NONCE = re.compile(r'nonce="[^"]*"')  # a new one in every response


def objects_of_a(app, client, brands, runtime) -> dict[str, str]:
    """One object of brand A of every kind a route names, by the path segment naming it."""
    a = brands["a"]["headers"]
    order = make_order(client, a)
    shipment = make_shipment(client, a, tracking=TRACKING_NUMBER, order_id=order["id"])
    ids = {"orders": order["id"], "shipments": shipment["id"]}
    ids |= postpurchase_objects(runtime, order["id"], shipment["id"])  # delivers the shipment
    brand_id, now = brands["a"]["id"], runtime.clock.now()
    with unit_of_work(runtime.sessions) as session:
        alert = raise_alert(
            session,
            brand_id,
            now,
            kind="late",
            severity="warning",
            title="late",
            dedupe_key="late:1",
            shipment_id=shipment["id"],
        )
        batch = AllocationBatch(brand_id=brand_id, request={"order_ids": []})
        shop = ChannelAccount(brand_id=brand_id, code="shop", channel="sandbox", shop="a.example")
        receipt = WebhookReceipt(
            brand_id=brand_id, carrier="ups", account="cac_of_a", body=b"{}", status="failed"
        )
        session.add_all([batch, shop, receipt])
        session.add(DeliveryPhoto(shipment_id=shipment["id"], media_type="image/png", data=b"x"))
        form = ClaimForm("not_found", (), "", "ada@example.com")
        open_claim(session, session.get(Shipment, shipment["id"]), form, "en", now)
        session.flush()
        ids |= {"alerts": alert.id, "allocation-batches": batch.id, "channels": shop.id}
        ids["webhook-receipts"] = str(receipt.id)
    with runtime.sessions() as session:
        ids["api-keys"] = active_key(session, brands["a"]["key"]).id
    return ids


def _api_object_routes(app) -> list[tuple[str, str]]:
    """(method, rule) of every API route with a variable in its path: each names an object."""
    return sorted(
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/") and rule.arguments
        for method in rule.methods - {"HEAD", "OPTIONS"}
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


def _api_url(rule: str, ids: dict[str, str]) -> str:
    resource = rule.split("/")[3]
    assert resource in ids, f"add an object of {rule} to objects_of_a"
    return re.sub(r"<[^>]+>", ids[resource], rule)


def _reads(app, client, headers, ids) -> dict[str, bytes]:
    """What the brand reads through every GET route of the API."""
    urls = [_api_url(rule, ids) for method, rule in _api_object_routes(app) if method == "GET"]
    return {url: client.get(url, headers=headers).data for url in [*urls, *_list_routes(app)]}


def test_every_api_route_naming_an_object_hides_it_from_other_brands(app, client, brands, runtime):
    a, b = brands["a"]["headers"], brands["b"]["headers"]
    ids = objects_of_a(app, client, brands, runtime)
    before = _reads(app, client, a, ids)
    routes = _api_object_routes(app)
    assert ("POST", "/api/v1/orders/<id>/ship") in routes and len(routes) == 15

    for method, rule in routes:
        url = _api_url(rule, ids)
        if method == "GET":
            assert client.get(url, headers=a).status_code == 200, url
        body = {} if method in ("POST", "PUT") else None
        other = client.open(url, method=method, headers=b, json=body)
        assert other.status_code == 404, (method, url, other.json)
        assert other.mimetype == "application/problem+json", (method, url)
        assert other.json["detail"].endswith("with this id exists for your brand."), url
        assert ids[rule.split("/")[3]] not in other.get_data(as_text=True)

    # acknowledge, approve, revoke, disconnect, retry, ship ...: none touched brand A's
    assert _reads(app, client, a, ids) == before


def test_lists_never_include_other_brands_rows(app, client, brands, runtime):
    a, b = brands["a"]["headers"], brands["b"]["headers"]
    ids = objects_of_a(app, client, brands, runtime)
    shown = [v for k, v in ids.items() if k != "webhook-receipts"] + ["cac_of_a"]
    for route in _list_routes(app):
        if route in SETTINGS:
            continue
        if route in AGGREGATES:
            assert client.get(route, headers=a).json["data"], route
            assert client.get(route, headers=b).json["data"] == [], route
            continue
        mine = client.get(route, headers=a).get_data(as_text=True)
        theirs = client.get(route, headers=b).get_data(as_text=True)
        assert any(i in mine for i in shown), route
        assert not any(i in theirs for i in shown), route


def _ops_pages(app, client) -> dict[str, str]:
    """Every ops page without an id, as the signed-in user sees it (nonces aside)."""
    rules = {r.rule for r in app.url_map.iter_rules() if r.rule.startswith("/ops")}
    paged = {r for r in rules if "<" not in r} - OPS_ACTIONS
    assert paged == set(OPS_PAGES), "classify the new ops page in OPS_PAGES or OPS_ACTIONS"
    pages = {}
    for path, query in OPS_PAGES.items():
        response = client.get(path + query)
        assert response.status_code in (200, 302), path
        pages[path] = NONCE.sub("", response.get_data(as_text=True))
    return pages


def test_ops_pages_hide_other_brands_objects(app, client, brands, runtime, ops):  # noqa: F811
    login(client, ops["b"], code="b")
    empty = _ops_pages(app, client)
    ids = objects_of_a(app, app.test_client(), brands, runtime)
    ids["alert_id"], ids["case_id"] = ids["alerts"], ids["ndr-cases"]
    ids["shipment_id"], ids["action"] = ids["shipments"], "acknowledge"
    before = _reads(app, client, brands["a"]["headers"], ids)

    assert _ops_pages(app, client) == empty  # brand A's rows appear on none of B's pages
    adapter = app.url_map.bind("localhost")
    named = [r for r in app.url_map.iter_rules() if r.rule.startswith("/ops") and r.arguments]
    assert len(named) >= 5
    for rule in named:
        url = adapter.build(rule.endpoint, {name: ids[name] for name in rule.arguments})
        if "GET" in rule.methods:
            assert client.get(url).status_code == 404, url
        if "POST" in rule.methods:
            answer = post_form(client, url, action="refund", assignee=ops["b"]["email"])
            assert answer.status_code == 404, url
    assert _reads(app, client, brands["a"]["headers"], ids) == before


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
