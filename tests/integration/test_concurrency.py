"""Money counts once: the same request sent by several threads at once (a double click, a
client retrying on a timeout) buys one label, opens one shipment or return and one batch, on
real SQLite and PostgreSQL. Every other caller gets the original response or a 409."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from shipflow.fulfilment import fulfilment_for
from shipflow.store.models import Shipment
from shipflow.store.postpurchase_models import LabelRow, ReturnRequestRow
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
    monkeypatch.setattr("shipflow.postpurchase.brand_carriers", lambda *a: [carrier])
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
    for carrier in fulfilment_for(runtime, "northwind").carriers.values():

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
    assert (
        "already has a shipment"
        in responses[[r.status_code for r in responses].index(409)].json["detail"]
    )
    assert len(bought) == 1
    assert count(runtime, select(Shipment).where(Shipment.order_id == order_id)) == 1
    assert count(runtime, select(LabelRow)) == 1
