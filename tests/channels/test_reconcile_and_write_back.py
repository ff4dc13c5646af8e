"""Reconciliation picks up an order whose webhook never came, once, resuming from its stored
cursor after a crash or a throttle; write-back tells the shop each parcel's fulfilment (our
branded tracking link) and its milestones on that fulfilment, waiting when throttled."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from shipflow.channel_sync import reconcile_shops
from shipflow.domain.events import ShipmentDelayed
from shipflow.store.db import unit_of_work
from shipflow.store.models import Alert, ChannelAccount, Order, OutboxMessage, Shipment
from shipflow.store.outbox import publish
from tests.channels.conftest import shop_order
from tests.channels.test_shop_orders import send
from tests.tracking.fake_carrier import event, payload
from tests.tracking.helpers import at, post_webhook


def numbers(runtime) -> list[str]:
    with runtime.sessions() as session:
        return sorted(session.scalars(select(Order.order_number)))


def cursor(runtime, account_id: str) -> str | None:
    with runtime.sessions() as session:
        return session.get_one(ChannelAccount, account_id).sync_cursor


def test_a_missed_order_is_picked_up_once_and_its_late_webhook_changes_nothing(
    client, runtime, jobs, selling
):
    brand = selling["tb"]
    headers, body = brand.shop.place(shop_order("7001", "#2001"))  # the webhook is lost

    assert reconcile_shops(runtime) == 1
    assert reconcile_shops(runtime) == 0
    assert numbers(runtime) == ["web-2001"]
    assert client.post(brand.webhook_url, data=body, headers=headers).status_code == 202
    jobs.drain()
    assert numbers(runtime) == ["web-2001"]
    assert cursor(runtime, brand.account_id) == "1"


def test_reconciliation_resumes_from_its_cursor_after_a_crash(runtime, selling, monkeypatch):
    brand = selling["tb"]
    for n in range(60):
        brand.shop.place(shop_order(str(8000 + n), f"#{3000 + n}"))
    real, calls = brand.shop.changed_since, []

    def crash_on_second_page(position: int, limit: int):
        calls.append(position)
        if len(calls) == 2:
            raise RuntimeError("worker killed")
        return real(position, limit)

    monkeypatch.setattr(brand.shop, "changed_since", crash_on_second_page)
    with pytest.raises(RuntimeError):
        reconcile_shops(runtime)
    assert (cursor(runtime, brand.account_id), len(numbers(runtime))) == ("50", 50)

    assert reconcile_shops(runtime) == 10
    assert calls == [0, 50, 50, 60]
    assert len(set(numbers(runtime))) == 60


def test_a_listed_order_that_cannot_be_read_is_skipped_ops_told_and_the_rest_imported(
    runtime, selling
):
    brand = selling["tb"]
    brand.shop.place(shop_order("7001", "#2001"))
    unreadable = shop_order("7002", "#2002")
    del unreadable["currency"]
    brand.shop.place(unreadable)
    brand.shop.place(shop_order("7003", "#2003"))

    assert reconcile_shops(runtime) == 2
    assert numbers(runtime) == ["web-2001", "web-2003"]
    assert cursor(runtime, brand.account_id) == "3"
    with runtime.sessions() as session:
        titles = session.scalars(select(Alert.title).where(Alert.title.like("%be read%"))).all()
    assert titles == ["Shop order 7002 could not be read: KeyError('currency')"]


def test_a_throttled_listing_waits_for_the_shops_retry_after(runtime, selling, clock):
    brand = selling["tb"]
    brand.shop.place(shop_order("7001", "#2001"))
    brand.shop.throttle(1, retry_after=30)

    assert reconcile_shops(runtime) == 0
    clock.advance(timedelta(seconds=20))
    assert reconcile_shops(runtime) == 0  # not asked again before the 30 s are over
    assert brand.shop.throttled_calls == 0
    clock.advance(timedelta(seconds=11))
    assert reconcile_shops(runtime) == 1


def shipped(client, runtime, jobs, selling, clock, make_shipment, tracked, throttle=0):
    """tb's shop order with a parcel TN1 just scanned; the shop then refuses `throttle` calls."""
    brand = selling["tb"]
    send(client, brand, shop_order(), "orders/create")  # MUG-1: stocked nowhere, so no label
    jobs.drain()
    with runtime.sessions() as session:
        order_id = session.scalar(select(Order.id))
    make_shipment(tracked["tb"], "TN1", order_id=order_id, service="ground")
    brand.shop.throttle(throttle, retry_after=30)
    post_webhook(client, tracked["tb"], payload("TN1", event("PU", "in_transit", at(clock, -3))))


def test_each_parcel_is_a_fulfilment_and_its_events_name_it(
    client, runtime, jobs, selling, tracked, make_shipment, clock
):
    shipped(client, runtime, jobs, selling, clock, make_shipment, tracked)
    with runtime.sessions() as session:
        order_id = session.scalar(select(Order.id))
    make_shipment(tracked["tb"], "TN2", order_id=order_id, service="ground")  # a second parcel
    # One scan per sweep: a sweep's receipts may be processed in any order.
    for number, scan in (("TN2", "in_transit"), ("TN1", "delivered")):
        jobs.drain()
        post_webhook(client, tracked["tb"], payload(number, event("X", scan, at(clock, -1))))
    jobs.drain()

    shop = selling["tb"].shop
    fulfilments = sorted(shop.fulfilments.values(), key=lambda f: f["tracking_number"])
    assert [(f["id"], f["tracking_number"], f["carrier_name"]) for f in fulfilments] == [
        ("ful_0", "TN1", "fake"),
        ("ful_1", "TN2", "fake"),
    ]
    assert all(
        f["tracking_url"].startswith("http") and "/t/tb/" in f["tracking_url"] for f in fulfilments
    )
    refs = {f["tracking_number"]: f["id"] for f in fulfilments}
    assert [
        (e["tracking_number"], e["status"], e["fulfillment_id"])
        for e in shop.tracking_events.values()
    ] == [
        ("TN1", "in_transit", refs["TN1"]),
        ("TN2", "in_transit", refs["TN2"]),
        ("TN1", "delivered", refs["TN1"]),
    ]
    with runtime.sessions() as session:
        stored = dict(session.execute(select(Shipment.tracking_number, Shipment.details)).all())
    assert {n: d["shop_fulfilment"] for n, d in stored.items()} == refs


def test_out_for_delivery_and_delivered_in_one_payload_are_both_written_back(
    client, runtime, jobs, selling, tracked, make_shipment, clock
):
    shipped(client, runtime, jobs, selling, clock, make_shipment, tracked)
    jobs.drain()
    both = (event("OF", "out_for_delivery", at(clock, -2)), event("D", "delivered", at(clock, -1)))
    post_webhook(client, tracked["tb"], payload("TN1", *both))
    jobs.drain()

    assert [e["status"] for e in selling["tb"].shop.tracking_events.values()] == [
        "in_transit",
        "out_for_delivery",
        "delivered",
    ]


def test_a_throttled_write_back_waits_as_long_as_the_shop_says(
    client, runtime, jobs, selling, tracked, make_shipment, clock
):
    shipped(client, runtime, jobs, selling, clock, make_shipment, tracked, throttle=1)
    jobs.drain()

    assert selling["tb"].shop.fulfilments == {}
    with runtime.sessions() as session:
        message = session.scalars(
            select(OutboxMessage).where(OutboxMessage.topic == "shipment.shipped")
        ).one()
        assert (message.processed_at, message.last_error) == (
            None,
            "RetryAfter: sandbox shop: 429 Too Many Requests",
        )
        assert message.available_at == clock.now() + timedelta(seconds=30)  # not the backoff
    clock.advance(timedelta(seconds=31))
    jobs.drain()
    assert [f["tracking_number"] for f in selling["tb"].shop.fulfilments.values()] == ["TN1"]


def test_refused_credentials_alert_ops_instead_of_retrying(
    client, runtime, jobs, selling, tracked, make_shipment, clock
):
    selling["tb"].shop.access_token = "shpat_the_shop_wants_this"
    shipped(client, runtime, jobs, selling, clock, make_shipment, tracked)
    jobs.drain()

    with runtime.sessions() as session:
        message = session.scalars(
            select(OutboxMessage).where(OutboxMessage.topic == "shipment.shipped")
        ).one()
        assert message.processed_at is not None
        titles = session.scalars(select(Alert.title)).all()
    assert any("refused our credentials" in t for t in titles)


def test_a_delay_is_written_back_as_a_delayed_event_with_the_new_estimate(
    client, runtime, jobs, selling, tracked, make_shipment, clock
):
    shipped(client, runtime, jobs, selling, clock, make_shipment, tracked)
    jobs.drain()
    with unit_of_work(runtime.sessions) as session:
        shipment = session.scalars(select(Shipment)).one()
        shipment.predicted_date = clock.now().date() + timedelta(days=3)
        publish(
            session,
            ShipmentDelayed(
                brand_id=shipment.brand_id,
                shipment_id=shipment.id,
                occurred_at=clock.now(),
                predicted_date=shipment.predicted_date,
            ),
        )
    jobs.drain()

    events = list(selling["tb"].shop.tracking_events.values())
    assert [(e["status"], e["delayed"], e["fulfillment_id"]) for e in events] == [
        ("in_transit", False, "ful_0"),  # with its fulfilment
        ("in_transit", True, "ful_0"),
    ]
    assert events[1]["estimated_delivery_at"].startswith(
        (clock.now().date() + timedelta(days=3)).isoformat()
    )
