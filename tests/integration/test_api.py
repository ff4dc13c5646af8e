"""The JSON API on real SQLite and PostgreSQL: create/read/list, pagination, filters,
idempotency, problem+json errors, health, metrics and the OpenAPI document."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timedelta

import pytest

ORDER = {
    "order_number": "1001",
    "customer": {"name": "Ada Lovelace", "email": "ada@example.com"},
    "ship_to": {"line1": "1 Main St", "city": "New York", "postal_code": "10001", "country": "US"},
    "currency": "USD",
    "lines": [{"sku": "TENT-2P", "quantity": 2, "unit_price": 24900}],
}


def make_order(client, headers, number="1001", **extra):
    response = client.post(
        "/api/v1/orders", json={**ORDER, "order_number": number, **extra}, headers=headers
    )
    assert response.status_code == 201, response.json
    return response.json


def make_shipment(client, headers, tracking="1Z999AA10123456784", **extra):
    body = {"carrier": "ups", "service": "ground", "tracking_number": tracking, **extra}
    response = client.post("/api/v1/shipments", json=body, headers=headers)
    assert response.status_code == 201, response.json
    return response.json


def test_create_and_read_order(client, brands):
    headers = brands["a"]["headers"]
    created = make_order(client, headers)
    assert created["total_amount"] == 49800 and created["currency"] == "USD"
    assert created["id"].startswith("ord_")
    assert created["placed_at"].endswith("Z")
    fetched = client.get(f"/api/v1/orders/{created['id']}", headers=headers)
    assert fetched.status_code == 200
    assert fetched.json == created


def test_orders_and_shipments_are_stamped_on_the_runtimes_clock(runtime, client, brands, clock):
    """The demo's clock runs ahead of the wall clock: an order or a shipment created through
    the API must not look days old (or from the future) next to what the demo creates."""
    from shipflow.store.models import Order, Shipment

    clock.advance(timedelta(days=40))  # far from the wall clock, whenever the suite runs
    headers = brands["a"]["headers"]
    order = make_order(client, headers)
    shipment = make_shipment(client, headers, order_id=order["id"])
    assert datetime.fromisoformat(order["placed_at"]) == clock.now()
    with runtime.sessions() as session:
        order_row = session.get(Order, order["id"])
        shipment_row = session.get(Shipment, shipment["id"])
    assert order_row.created_at == shipment_row.created_at == clock.now()
    assert shipment_row.updated_at == clock.now()


def test_shipment_linked_to_order(client, brands):
    headers = brands["a"]["headers"]
    order = make_order(client, headers)
    shipment = make_shipment(client, headers, order_id=order["id"], parcels=[{"weight_g": 2300}])
    assert shipment["status"] == "pending" and shipment["events"] == []
    assert client.get(f"/api/v1/orders/{order['id']}", headers=headers).json["shipment_ids"] == [
        shipment["id"]
    ]


def test_cursor_pagination_walks_every_row_once(client, brands):
    headers = brands["a"]["headers"]
    numbers = {make_order(client, headers, number=str(n))["order_number"] for n in range(7)}
    seen, cursor = [], None
    while True:
        query = f"?limit=3&cursor={cursor}" if cursor else "?limit=3"
        page = client.get(f"/api/v1/orders{query}", headers=headers).json
        seen += [o["order_number"] for o in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(numbers) and len(seen) == 7


def test_shipment_filters(client, brands):
    headers = brands["a"]["headers"]
    make_shipment(client, headers, tracking="UPS00001")
    make_shipment(client, headers, tracking="FDX00001", carrier="fedex")
    make_shipment(client, headers, tracking="RET00001", kind="return")
    by_carrier = client.get("/api/v1/shipments?carrier=fedex", headers=headers).json["data"]
    assert [s["tracking_number"] for s in by_carrier] == ["FDX00001"]
    by_kind = client.get("/api/v1/shipments?kind=return", headers=headers).json["data"]
    assert [s["tracking_number"] for s in by_kind] == ["RET00001"]
    pending = client.get("/api/v1/shipments?status=pending", headers=headers).json["data"]
    assert len(pending) == 3
    assert client.get("/api/v1/shipments?status=delivered", headers=headers).json["data"] == []
    future = client.get(
        "/api/v1/shipments?created_from=2999-01-01T00:00:00Z", headers=headers
    ).json["data"]
    assert future == []


def test_idempotent_retry_returns_original(client, brands):
    headers = {**brands["a"]["headers"], "Idempotency-Key": "retry-1"}
    first = client.post("/api/v1/orders", json=ORDER, headers=headers)
    again = client.post("/api/v1/orders", json=ORDER, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json == first.json
    assert again.headers["Idempotent-Replayed"] == "true"
    listed = client.get("/api/v1/orders", headers=brands["a"]["headers"]).json["data"]
    assert len(listed) == 1


def test_idempotency_key_with_other_body_is_422(client, brands):
    headers = {**brands["a"]["headers"], "Idempotency-Key": "retry-2"}
    client.post("/api/v1/orders", json=ORDER, headers=headers)
    other = client.post("/api/v1/orders", json={**ORDER, "order_number": "2"}, headers=headers)
    assert other.status_code == 422
    assert "Idempotency-Key was already used" in other.json["detail"]


def test_idempotency_keys_are_per_brand(client, brands):
    for code in ("a", "b"):
        headers = {**brands[code]["headers"], "Idempotency-Key": "same"}
        assert client.post("/api/v1/orders", json=ORDER, headers=headers).status_code == 201


@pytest.mark.parametrize(
    ("body", "field", "hint"),
    [
        ({**ORDER, "currency": "usd"}, "currency", "pattern"),
        ({**ORDER, "lines": []}, "lines", "at least 1"),
        ({k: v for k, v in ORDER.items() if k != "ship_to"}, "ship_to", "is required"),
        ({**ORDER, "colour": "red"}, "colour", "not a known field"),
        ({**ORDER, "placed_at": "2026-11-23T10:00:00"}, "placed_at", "timezone"),
        (
            {**ORDER, "ship_to": {**ORDER["ship_to"], "country": "UK"}},
            "ship_to.country",
            "'UK' is not a country code: write its ISO 3166-1 alpha-2 code, for example US, GB "
            "or JP (the United Kingdom is GB)",
        ),
    ],
)
def test_invalid_order_is_problem_json_naming_the_field(client, brands, body, field, hint):
    response = client.post("/api/v1/orders", json=body, headers=brands["a"]["headers"])
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    assert field in [e["field"] for e in response.json["errors"]]
    assert hint in response.json["detail"]


def test_duplicate_order_number(client, brands):
    make_order(client, brands["a"]["headers"])
    again = client.post("/api/v1/orders", json=ORDER, headers=brands["a"]["headers"])
    assert again.status_code == 422 and again.json["errors"][0]["field"] == "order_number"


def test_unknown_carrier_named(client, brands):
    body = {"carrier": "pigeon", "tracking_number": "ABCD1234"}
    response = client.post("/api/v1/shipments", json=body, headers=brands["a"]["headers"])
    assert response.status_code == 422
    assert "unknown carrier" in response.json["detail"]


@pytest.mark.parametrize("header", [None, "Bearer nope", "Basic abc"])
def test_missing_or_bad_key_is_401(client, header):
    headers = {"Authorization": header} if header else {}
    response = client.get("/api/v1/orders", headers=headers)
    assert response.status_code == 401
    assert response.content_type == "application/problem+json"


def test_unknown_route_is_problem_json(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404 and response.content_type == "application/problem+json"


def test_healthz_and_metrics(client):
    assert client.get("/healthz").json == {"status": "ok", "database": "ok"}
    metrics = client.get("/metrics")
    assert metrics.status_code == 200
    assert b"shipflow_http_requests_total" in metrics.data


def test_metrics_sum_every_process_that_writes_to_the_shared_directory(
    client, tmp_path, monkeypatch
):
    """Two other processes (a Celery worker, another web worker) counted a stage."""
    script = (
        "from shipflow.jobs.stages import STAGE_CPU; "
        "STAGE_CPU.labels('outbox.dispatch').observe(0.25)"
    )
    shared = tmp_path / "metrics"  # its own: every *.db file in it is read as metrics
    shared.mkdir()
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(shared)}
    for _ in range(2):
        subprocess.run([sys.executable, "-c", script], env=env, check=True)
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(shared))

    metrics = client.get("/metrics").data.decode()

    assert 'shipflow_stage_cpu_seconds_count{stage="outbox.dispatch"} 2.0' in metrics
    assert 'shipflow_stage_cpu_seconds_sum{stage="outbox.dispatch"} 0.5' in metrics


def test_openapi_document(client):
    doc = client.get("/api/v1/openapi.json").json
    assert doc["openapi"].startswith("3.1")
    post = doc["paths"]["/api/v1/orders"]["post"]
    assert any(p["name"] == "Idempotency-Key" for p in post["parameters"])
    assert "OrderIn" in str(post["requestBody"])


@pytest.mark.parametrize("text", ["nul\x00byte", "lone\udc80surrogate"])
def test_unstorable_text_is_422_not_500(client, brands, text):
    body = {**ORDER, "lines": [{"sku": "A", "quantity": 1, "name": text}]}
    response = client.post("/api/v1/orders", json=body, headers=brands["a"]["headers"])
    assert response.status_code == 422
    assert response.json["errors"][0]["field"] == "lines.0.name"


def _with(path: str, value: str) -> dict:
    """ORDER with the field at dotted `path` set to `value`."""
    body = {**ORDER, "customer": {**ORDER["customer"]}, "ship_to": {**ORDER["ship_to"]}}
    body["lines"] = [dict(line) for line in ORDER["lines"]]
    *parents, last = path.split(".")
    target = body
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    target[last] = value
    return body


SHIPMENT = {"carrier": "ups", "service": "ground", "tracking_number": "1Z999AA10123456784"}


@pytest.mark.parametrize(
    ("method", "url", "body", "field"),
    [
        ("post", "/orders", _with("order_number", "1002\r\nBcc: x@evil.example"), "order_number"),
        ("post", "/orders", _with("lines.0.sku", "TENT\x1b[2J"), "lines.0.sku"),
        ("post", "/orders", _with("lines.0.name", "Tent\n2P"), "lines.0.name"),
        ("post", "/orders", _with("ship_to.state", "CA\n<!channel>"), "ship_to.state"),
        ("post", "/orders", _with("ship_to.line1", "1 Main St\tApt 2"), "ship_to.line1"),
        ("post", "/orders", _with("customer.name", "Ada\x85Lovelace"), "customer.name"),
        ("post", "/orders", _with("customer.phone", "\x7f5555550100"), "customer.phone"),
        ("post", "/shipments", {**SHIPMENT, "service": "ground\x00"}, "service"),
        ("post", "/shipments", {**SHIPMENT, "warehouse_code": "NJ\r1"}, "warehouse_code"),
        ("post", "/allocation-batches", {"order_ids": ["ord_\x00"]}, "order_ids.0"),
        ("get", "/shipments?carrier=ups%0A", None, "carrier"),
        ("get", "/orders/ord_1%0D", None, "id"),
    ],
)
def test_control_characters_in_identifiers_are_422(client, brands, method, url, body, field):
    """They would reach e-mail headers, Slack and logs as line breaks and escapes."""
    call = getattr(client, method)
    response = call(f"/api/v1{url}", json=body, headers=brands["a"]["headers"])
    assert response.status_code == 422, response.json
    assert response.content_type == "application/problem+json"
    (error,) = response.json["errors"]
    assert error["field"] == field
    assert error["message"].startswith("must not contain control characters (found U+")


def test_printable_unicode_in_identifiers_is_accepted(client, brands):
    body = _with("customer.name", "Zoë Ōkubo 東京")
    body["ship_to"]["state"] = "Île-de-France"
    body["lines"][0]["sku"] = "TENT-2P-ÉTÉ"
    body["order_number"] = "№ 1001 · A"
    response = client.post("/api/v1/orders", json=body, headers=brands["a"]["headers"])
    assert response.status_code == 201, response.json
    assert response.json["order_number"] == "№ 1001 · A"
