"""The post-purchase JSON API: failed-delivery queue and figures, returns review, refunds,
feedback report. Every route is brand-scoped."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from carriers.base import FailedDeliveryAction
from shipflow import feedback
from shipflow.carrier_accounts import CarrierFactory
from shipflow.domain import Reason
from shipflow.ndr.service import NdrService
from shipflow.returns.service import ItemChoice, request_return
from shipflow.store.models import Order, Shipment
from shipflow.store.postpurchase_models import CustomerMessageRow
from tests.fakes import RecordingCarrier, ReturnLabelCarrier
from tests.postpurchase.factories import demo_brand, order


@pytest.fixture
def demo(runtime):
    return demo_brand(runtime)


def open_cases(runtime, brand_id, count, carrier):
    now = runtime.clock.now()
    ids = []
    for n in range(count):
        _, shipment_id = order(runtime, brand_id, f"NW-{n}", status="attempt_failed")
        with runtime.sessions() as session:
            ndr = NdrService(session, runtime.settings, lambda s: carrier)
            case = ndr.on_attempt_failed(session.get(Shipment, shipment_id), Reason.REFUSED, now)
            if n % 2:
                ndr.choose(case, FailedDeliveryAction.REATTEMPT, now)
            session.commit()
            ids.append(case.id)
    return ids


def test_ndr_queue_by_state_with_cursor_pages(runtime, client, demo, brands, clock):
    open_cases(runtime, demo.brand_id, 5, RecordingCarrier(supports_actions=False))
    body = client.get("/api/v1/ndr-cases?state=ops_task&limit=1", headers=demo.headers).json
    assert [c["state"] for c in body["data"]] == ["ops_task"]
    assert body["data"][0]["carrier"] == "sandbox" and body["data"][0]["reason"] == "refused"
    second = client.get(
        f"/api/v1/ndr-cases?state=ops_task&limit=1&cursor={body['next_cursor']}",
        headers=demo.headers,
    ).json
    assert second["data"][0]["id"] != body["data"][0]["id"] and second["next_cursor"] is None
    waiting = client.get("/api/v1/ndr-cases?state=awaiting_customer", headers=demo.headers).json
    assert len(waiting["data"]) == 3
    assert client.get("/api/v1/ndr-cases", headers=brands["b"]["headers"]).json["data"] == []
    bad = client.get("/api/v1/ndr-cases?state=lost", headers=demo.headers)
    assert bad.status_code == 422 and bad.json["errors"][0]["field"].endswith("state")


def test_ndr_metrics_per_carrier(runtime, client, demo):
    open_cases(runtime, demo.brand_id, 2, RecordingCarrier())
    order(runtime, demo.brand_id, "NW-9")
    metrics = client.get("/api/v1/ndr-metrics", headers=demo.headers).json["data"]
    assert metrics == [
        {
            "carrier": "sandbox",
            "shipments": 3,
            "failed_attempt_rate": pytest.approx(2 / 3),
            "resolution_rate": 0.0,
            "mean_hours_to_resolution": None,
            "return_to_origin_rate": 0.0,
        }
    ]


def returned(runtime, brand_id, sku="TENT-2P", number="NW-1"):
    lines = ((sku, 1, 24900), ("MUG", 1, 1400))
    order_id, _ = order(runtime, brand_id, number, language="ja", lines=lines)
    with runtime.sessions() as session:
        request = request_return(
            session,
            session.get(Order, order_id),
            [ItemChoice(sku, 1, "changed_mind")],
            runtime.clock.now(),
            "ja",
            runtime.settings,
        )
        session.commit()
        return request.id


def test_review_approve_buys_the_cheapest_label(runtime, client, demo, brands, monkeypatch):
    cheap = ReturnLabelCarrier("cheapco", 700)
    monkeypatch.setattr(
        CarrierFactory,
        "of_brand",
        lambda *a: [ReturnLabelCarrier("dearco", 900), cheap],
    )
    return_id = returned(runtime, demo.brand_id)
    listed = client.get("/api/v1/returns?status=review", headers=demo.headers).json["data"]
    assert [r["id"] for r in listed] == [return_id] and listed[0]["refund_amount"] == 24900
    assert client.get("/api/v1/returns", headers=brands["b"]["headers"]).json["data"] == []
    other = client.post(
        f"/api/v1/returns/{return_id}/approve", json={}, headers=brands["b"]["headers"]
    )
    assert other.status_code == 404

    done = client.post(f"/api/v1/returns/{return_id}/approve", json={}, headers=demo.headers)
    assert done.status_code == 200, done.json
    assert done.json["status"] == "label_created" and done.json["shipment_id"]
    assert done.json["decision"]["reviewed"] == "approved"
    assert cheap.labels and cheap.labels[0].recipient.postal_code == "08817"
    again = client.post(f"/api/v1/returns/{return_id}/approve", json={}, headers=demo.headers)
    assert again.status_code == 409 and "label_created" in again.json["detail"]


def test_refuse_keeps_the_note(client, runtime, demo):
    return_id = returned(runtime, demo.brand_id)
    body = client.post(
        f"/api/v1/returns/{return_id}/refuse", json={"note": "worn outdoors"}, headers=demo.headers
    ).json
    assert body["status"] == "refused" and body["decision"]["note"] == "worn outdoors"
    refund = client.post(f"/api/v1/returns/{return_id}/refunded", headers=demo.headers)
    assert refund.status_code == 409


def test_refunded_messages_the_customer_once_in_their_language(runtime, client, demo):
    return_id = returned(runtime, demo.brand_id, sku="LANTERN")
    with runtime.sessions() as session:
        from shipflow.store.postpurchase_models import ReturnRequestRow

        session.get(ReturnRequestRow, return_id).status = "received"
        session.commit()
    for _ in range(2):
        assert (
            client.post(f"/api/v1/returns/{return_id}/refunded", headers=demo.headers).json[
                "status"
            ]
            == "refunded"
        )
    with runtime.sessions() as session:
        messages = session.scalars(
            select(CustomerMessageRow).where(CustomerMessageRow.milestone == "refund_issued")
        ).all()
    assert len(messages) == 1 and messages[0].language == "ja" and "$249.00" in messages[0].body


def test_feedback_report_per_carrier(runtime, client, demo, brands):
    now = runtime.clock.now()
    for n, score in enumerate((10, 9, 7, 3)):
        _, shipment_id = order(runtime, demo.brand_id, f"NW-{n}")
        with runtime.sessions() as session:
            shipment = session.get(Shipment, shipment_id)
            assert feedback.record(session, shipment, score, "", "en", now)
            assert not feedback.record(session, shipment, 0, "again", "en", now + timedelta(1))
            session.commit()
    report = client.get("/api/v1/feedback-report", headers=demo.headers).json["data"]
    assert report == [{"carrier": "sandbox", "responses": 4, "mean_score": 7.25, "nps": 25.0}]
    assert client.get("/api/v1/feedback-report", headers=brands["b"]["headers"]).json["data"] == []
