"""A shop's order webhook is as safe as a carrier's: verified (signature and shop), stored raw
before the 202, processed by the job runner into one order however often it arrives, kept
for ops when it cannot be read; and the order's shipment is written back to the shop."""

from __future__ import annotations

from sqlalchemy import func, select

from channels.sandbox import SandboxShop
from shipflow.api_keys import create_api_key
from shipflow.store.db import unit_of_work
from shipflow.store.models import Order, Shipment
from shipflow.store.tracking_models import WebhookReceipt
from tests.channels.conftest import SECRETS, post_order, shop_order
from tests.tracking.fake_carrier import event, payload
from tests.tracking.helpers import at, post_webhook


def count(runtime, model) -> int:
    with runtime.sessions() as session:
        return session.scalar(select(func.count()).select_from(model))


def api_headers(runtime, brand_id: str) -> dict[str, str]:
    with unit_of_work(runtime.sessions) as session:
        return {"Authorization": f"Bearer {create_api_key(session, brand_id, 'ops')}"}


def test_signed_order_webhook_is_stored_before_the_202_and_makes_one_order(
    client, runtime, jobs, selling
):
    brand = selling["tb"]
    response = post_order(client, brand, shop_order())

    assert response.status_code == 202
    with runtime.sessions() as session:
        receipt = session.get(WebhookReceipt, response.json["receipt_id"])
        assert (receipt.status, receipt.source_kind, receipt.carrier, receipt.account) == (
            "received",
            "channel",
            "sandbox",
            brand.account_id,
        )
        assert receipt.brand_id == brand.id
    assert count(runtime, Order) == 0  # acknowledged before processing

    jobs.drain()
    replay = post_order(client, brand, shop_order(), topic="orders/updated")
    assert replay.status_code == 202
    jobs.drain()

    with runtime.sessions() as session:
        orders = session.scalars(select(Order)).all()
        assert [(o.brand_id, o.order_number, o.source_order_id) for o in orders] == [
            (brand.id, "web-1001", "820982911946154508")
        ]
        assert (orders[0].total_amount, orders[0].customer_email) == (4500, "ada@example.com")
        assert [(line.sku, line.quantity, line.unit_price) for line in orders[0].lines] == [
            ("MUG-1", 2, 1250),
            ("TEE-1", 1, 2000),
        ]
        statuses = session.scalars(select(WebhookReceipt.status)).all()
        assert statuses == ["processed", "processed"]


def test_bad_signature_is_401_and_stores_nothing(client, runtime, selling):
    brand = selling["tb"]
    signed, body = brand.shop.webhook(shop_order())
    for forged in ("", "AAAA", SandboxShop(brand.shop.domain, "guessed").webhook(shop_order())):
        headers = dict(signed)
        if isinstance(forged, str):
            headers["X-Sandbox-Shop-Hmac-Sha256"] = forged
        else:
            headers = forged[0]
        response = client.post(brand.webhook_url, data=body, headers=headers)
        assert response.status_code == 401
        assert response.mimetype == "application/problem+json"
    assert (count(runtime, WebhookReceipt), count(runtime, Order)) == (0, 0)


def test_webhook_from_another_shop_than_the_urls_account_is_401_and_stores_nothing(
    client, runtime, selling
):
    # Correctly signed with tb's secret, but it says it comes from a shop tb's account is not.
    impostor = SandboxShop("elsewhere.example", SECRETS["tb"])
    headers, body = impostor.webhook(shop_order())
    assert client.post(selling["tb"].webhook_url, data=body, headers=headers).status_code == 401
    # tc's own, genuine webhook sent to tb's URL.
    headers, body = selling["tc"].shop.webhook(shop_order())
    assert client.post(selling["tb"].webhook_url, data=body, headers=headers).status_code == 401
    assert (count(runtime, WebhookReceipt), count(runtime, Order)) == (0, 0)


def test_unknown_account_or_channel_is_404(client, selling):
    headers, body = selling["tb"].shop.webhook(shop_order())
    assert (
        client.post("/webhooks/channels/sandbox/chn_nope", data=body, headers=headers).status_code
        == 404
    )
    wrong_channel = f"/webhooks/channels/shopify/{selling['tb'].account_id}"
    assert client.post(wrong_channel, data=body, headers=headers).status_code == 404


def test_another_brand_cannot_see_the_shops_receipts(client, runtime, selling):
    receipt_id = post_order(client, selling["tb"], shop_order()).json["receipt_id"]

    mine = client.get(
        "/api/v1/webhook-receipts?source_kind=channel",
        headers=api_headers(runtime, selling["tb"].id),
    ).json["data"]
    assert [(r["id"], r["source_kind"], r["carrier"]) for r in mine] == [
        (receipt_id, "channel", "sandbox")
    ]
    other = api_headers(runtime, selling["tc"].id)
    assert client.get("/api/v1/webhook-receipts", headers=other).json["data"] == []
    retry = client.post(f"/api/v1/webhook-receipts/{receipt_id}/retry", headers=other)
    assert retry.status_code == 404


def test_unreadable_order_is_kept_failed_for_ops(client, runtime, jobs, selling):
    order = shop_order()
    del order["shipping_address"]
    receipt_id = post_order(client, selling["tb"], order).json["receipt_id"]
    jobs.drain()

    failed = client.get(
        "/api/v1/webhook-receipts?status=failed", headers=api_headers(runtime, selling["tb"].id)
    ).json["data"]
    assert [r["id"] for r in failed] == [receipt_id]
    assert "shipping_address" in failed[0]["error"]
    assert count(runtime, Order) == 0


def test_the_orders_shipment_is_written_back_to_the_shop(
    client, runtime, jobs, selling, tracked, make_shipment, clock
):
    brand = selling["tb"]
    post_order(client, brand, shop_order())
    jobs.drain()
    with runtime.sessions() as session:
        order_id = session.scalar(select(Order.id))
    make_shipment(tracked["tb"], "TN1", order_id=order_id, service="ground")

    post_webhook(client, tracked["tb"], payload("TN1", event("PU", "in_transit", at(clock, -3))))
    post_webhook(client, tracked["tb"], payload("TN1", event("DL", "delivered", at(clock, -1))))
    jobs.drain()

    assert [
        (f["order_id"], f["tracking_company"], f["service"], f["tracking_number"])
        for f in brand.shop.fulfilments.values()
    ] == [("820982911946154508", "fake", "ground", "TN1")]
    # The fulfilment, then its first milestone: shops show "in transit" from the handover.
    assert sorted(e["status"] for e in brand.shop.tracking_events.values()) == [
        "delivered",
        "in_transit",
    ]
    assert selling["tc"].shop.fulfilments == {}
    with runtime.sessions() as session:
        assert session.scalar(select(Shipment.status)) == "delivered"


def test_another_shop_order_with_a_taken_number_is_failed_not_merged(
    client, runtime, jobs, selling
):
    post_order(client, selling["tb"], shop_order("1", "#1001"))
    clash = post_order(client, selling["tb"], shop_order("2", "#1001")).json["receipt_id"]
    jobs.drain()

    with runtime.sessions() as session:
        receipt = session.get(WebhookReceipt, clash)
        assert (receipt.status, receipt.error) == ("failed", "DuplicateOrderNumber: web-1001")
        assert session.scalars(select(Order.source_order_id)).all() == ["1"]


def test_a_platform_ping_is_answered_200_and_stored_nowhere(client, runtime, selling, monkeypatch):
    """WooCommerce keeps a new webhook pending until its unsigned ping gets a 200."""
    from channels.base import WebhookPing
    from channels.sandbox import SandboxOrderSource

    def ping(self, request):
        raise WebhookPing("creation ping", channel="sandbox")

    monkeypatch.setattr(SandboxOrderSource, "verify_webhook", ping)
    response = post_order(client, selling["tb"], shop_order())
    assert (response.status_code, response.json) == (200, {})
    assert count(runtime, WebhookReceipt) == 0
