"""Money counts once: the same request sent by several threads at once (a double click, a
client retrying on a timeout) buys one label, opens one shipment or return and one batch, on
real SQLite and PostgreSQL. Every other caller gets the original response or a 409."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select

from shipflow.carrier_accounts import CarrierFactory
from shipflow.store.allocation_models import AllocationBatch
from shipflow.store.models import IdempotencyRecord, Order, Shipment
from shipflow.store.postpurchase_models import LabelRow, ReturnRequestRow
from shipflow.web.api.idempotency import CLAIM_TIMEOUT
from tests.fakes import ReturnLabelCarrier
from tests.postpurchase.factories import demo_brand, order
from tests.postpurchase.test_api import returned
from tests.postpurchase.test_pages import items_form

PURCHASE_SECONDS = 0.2  # how long a carrier takes to sell a label: the window of the race


def at_once(app, count: int, send):
    """`send(client)` from `count` threads released together; their responses, in order."""
    gate = threading.Barrier(count, timeout=10)

    def run(_):
        client = app.test_client()
        gate.wait()
        return send(client)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


def count(runtime, statement) -> int:
    with runtime.sessions() as session:
        return session.scalar(select(func.count()).select_from(statement.subquery()))


def statuses(responses) -> list[int]:
    return sorted(r.status_code for r in responses)


def assert_conflicts(responses) -> None:
    for response in responses:
        assert response.status_code == 409, response.get_data(as_text=True)
        assert response.mimetype == "application/problem+json"


class SlowReturnLabels(ReturnLabelCarrier):
    def create_return_label(self, request):
        time.sleep(PURCHASE_SECONDS)
        return super().create_return_label(request)


@pytest.fixture
def demo(runtime):
    return demo_brand(runtime)


@pytest.fixture
def label_carrier(monkeypatch):
    carrier = SlowReturnLabels("cheapco", 600)
    monkeypatch.setattr(CarrierFactory, "of_brand", lambda *a: [carrier])
    return carrier


def test_one_return_form_posted_at_once_returns_once(app, client, runtime, demo, label_carrier):
    order(runtime, demo.brand_id, "NW-1", lines=(("LANTERN", 1, 3900),))
    form = items_form(client) | {"quantity-LANTERN": "1", "reason-LANTERN": "wrong_size"}
    cookie = client.get_cookie("session").value

    def send(other):
        other.set_cookie("session", cookie)
        return other.post("/returns/northwind/request", data=form)

    responses = at_once(app, 8, send)

    # The first gets its label; the others find nothing left to return, as one after another.
    assert statuses(responses) == [303] + [400] * 7
    assert count(runtime, select(ReturnRequestRow)) == 1
    assert len(label_carrier.labels) == 1
    assert count(runtime, select(Shipment).where(Shipment.kind == "return")) == 1


def test_approving_a_return_at_once_buys_one_label(app, runtime, demo, label_carrier):
    return_id = returned(runtime, demo.brand_id)

    responses = at_once(
        app,
        6,
        lambda c: c.post(f"/api/v1/returns/{return_id}/approve", json={}, headers=demo.headers),
    )

    assert statuses(responses) == [200] + [409] * 5
    assert_conflicts([r for r in responses if r.status_code != 200])
    assert len(label_carrier.labels) == 1
    assert count(runtime, select(Shipment).where(Shipment.kind == "return")) == 1
    assert count(runtime, select(LabelRow)) == 2  # the PDF and its QR code


def test_shipping_an_order_at_once_buys_one_label(app, client, runtime, demo, monkeypatch):
    body = {
        "order_number": "S1",
        "currency": "USD",
        "ship_to": {"postal_code": "10001", "country": "US", "line1": "1 Main St"},
        "lines": [{"sku": "LANTERN", "quantity": 1, "unit_price": 3900}],
    }
    order_id = client.post("/api/v1/orders", json=body, headers=demo.headers).json["id"]
    bought = []
    for carrier in runtime.fulfilment("northwind").carriers.values():

        def slow(request, buy=carrier.create_label):
            time.sleep(PURCHASE_SECONDS)
            bought.append(request)
            return buy(request)

        monkeypatch.setattr(carrier, "create_label", slow)

    responses = at_once(
        app, 10, lambda c: c.post(f"/api/v1/orders/{order_id}/ship", headers=demo.headers)
    )

    assert statuses(responses) == [201] + [409] * 9
    assert_conflicts([r for r in responses if r.status_code != 201])
    # Refused by the order's lock ("already has a shipment") or, where the first request's
    # purchase record already released that lock (SQLite commits it), by that record.
    assert all(
        "already has a shipment" in r.json["detail"]
        or "label for this order is being bought" in r.json["detail"]
        for r in responses
        if r.status_code == 409
    )
    assert len(bought) == 1
    assert count(runtime, select(Shipment).where(Shipment.order_id == order_id)) == 1
    assert count(runtime, select(LabelRow)) == 1


def test_one_idempotency_key_at_once_creates_one_order(app, runtime, demo):
    body = {
        "order_number": "K1",
        "currency": "USD",
        "ship_to": {"postal_code": "10001", "country": "US", "line1": "1 Main St"},
        "lines": [{"sku": "LANTERN", "quantity": 1, "unit_price": 3900}],
    }
    headers = {**demo.headers, "Idempotency-Key": "order-K1"}

    responses = at_once(app, 30, lambda c: c.post("/api/v1/orders", json=body, headers=headers))

    created = [r for r in responses if r.status_code == 201]
    assert created and {r.json["id"] for r in created} == {created[0].json["id"]}
    assert_conflicts([r for r in responses if r.status_code != 201])
    assert count(runtime, select(Order)) == 1


def test_one_order_number_at_once_under_different_keys_creates_one_order(app, runtime, demo):
    body = {
        "order_number": "K2",
        "currency": "USD",
        "ship_to": {"postal_code": "10001", "country": "US", "line1": "1 Main St"},
        "lines": [{"sku": "LANTERN", "quantity": 1, "unit_price": 3900}],
    }
    keys = iter(range(12))

    def send(client):
        headers = {**demo.headers, "Idempotency-Key": f"order-K2-{next(keys)}"}
        return client.post("/api/v1/orders", json=body, headers=headers)

    responses = at_once(app, 12, send)

    assert statuses(responses) == [201] + [422] * 11
    for refused in (r for r in responses if r.status_code == 422):
        assert refused.mimetype == "application/problem+json"
        assert "order_number" in refused.get_data(as_text=True)
    assert count(runtime, select(Order)) == 1


class RecordingRunner:
    """A job runner whose submit takes a broker round trip."""

    def __init__(self) -> None:
        self.submitted: list[tuple[str, dict]] = []

    def submit(self, name: str, **kwargs) -> None:
        time.sleep(0.05)
        self.submitted.append((name, kwargs))


def test_one_idempotency_key_at_once_plans_one_batch(app, runtime, demo):
    runner = app.extensions["shipflow.jobs"] = RecordingRunner()
    headers = {**demo.headers, "Idempotency-Key": "batch-1"}

    responses = at_once(
        app,
        8,
        lambda c: c.post("/api/v1/allocation-batches", json={"order_ids": ["o1"]}, headers=headers),
    )

    accepted = [r for r in responses if r.status_code == 202]
    assert accepted and {r.json["id"] for r in accepted} == {accepted[0].json["id"]}
    assert_conflicts([r for r in responses if r.status_code != 202])
    assert count(runtime, select(AllocationBatch)) == 1
    assert runner.submitted == [("allocation.run_batch", {"batch_id": accepted[0].json["id"]})]


@pytest.mark.parametrize("key", ["", "   "])
def test_an_empty_idempotency_key_is_refused_by_name(client, runtime, demo, key):
    body = {"order_ids": ["o1"]}
    headers = {**demo.headers, "Idempotency-Key": key}

    response = client.post("/api/v1/allocation-batches", json=body, headers=headers)

    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    assert response.json["errors"][0]["field"] == "Idempotency-Key"
    assert "is empty" in response.json["detail"]
    assert count(runtime, select(AllocationBatch)) == 0


def test_a_failed_request_releases_its_key(client, runtime, demo):
    headers = {**demo.headers, "Idempotency-Key": "ship-missing"}
    missing = client.post("/api/v1/orders/ord_missing/ship", headers=headers)
    assert missing.status_code == 404
    assert count(runtime, select(IdempotencyRecord)) == 0


def test_a_claim_left_by_a_dead_worker_is_taken_over(client, runtime, demo):
    def send():
        headers = {**demo.headers, "Idempotency-Key": "batch-2"}
        return client.post(
            "/api/v1/allocation-batches", json={"order_ids": ["o1"]}, headers=headers
        )

    def worker_died(age: timedelta) -> None:
        with runtime.sessions() as session:
            session.execute(delete(AllocationBatch))
            claim = session.scalar(select(IdempotencyRecord))
            claim.response_status, claim.created_at = None, runtime.clock.now() - age
            session.commit()

    assert send().status_code == 202
    worker_died(age=timedelta(0))
    in_progress = send()
    assert in_progress.status_code == 409 and in_progress.headers["Retry-After"] == "1"
    worker_died(age=CLAIM_TIMEOUT + timedelta(seconds=1))
    retried = send()
    assert retried.status_code == 202
    assert send().json == retried.json
    assert count(runtime, select(AllocationBatch)) == 1
