"""A received return of a shop order is refunded through the shop when its account opts in
(`refunds: true`), once, and the customer told; otherwise the store webhook goes as before."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from channels.base import Capability
from channels.sandbox import SandboxOrderSource
from shipflow import ops_remedies
from shipflow.config import parse_settings
from shipflow.domain import Status
from shipflow.returns.service import on_return_shipment_status
from shipflow.store.db import unit_of_work
from shipflow.store.models import Order, OutboxMessage, Shipment
from shipflow.store.postpurchase_models import ReturnItemRow, ReturnRequestRow
from tests.channels.conftest import brand_of, channel_config, shop_order
from tests.channels.test_shop_orders import send

STORE_WEBHOOK = "https://tb-store.example/hooks/returns"


@pytest.fixture
def settings(database_url):
    raw = channel_config(database_url)
    brand = brand_of(raw, "tb")
    brand["channels"][0]["refunds"] = True
    brand.setdefault("returns", {}).update(
        store_webhook_url=STORE_WEBHOOK, store_webhook_secret="tb-store-secret"
    )
    return parse_settings(raw, "test config", environ={})


def receive_return(runtime, brand_id: str) -> str:
    """A return of one mug of the brand's shop order, its parcel just delivered to us."""
    with unit_of_work(runtime.sessions) as session:
        order = session.scalars(select(Order).where(Order.brand_id == brand_id)).one()
        parcel = Shipment(brand_id=brand_id, order_id=order.id, kind="return", carrier="fake")
        session.add(parcel)
        session.flush()
        request = ReturnRequestRow(
            brand_id=brand_id,
            order_id=order.id,
            status="in_transit",
            refund_amount=1250,
            currency="USD",
            shipment_id=parcel.id,
            items=[ReturnItemRow(sku="MUG-1", quantity=1, reason="damaged", accepted=True)],
        )
        session.add(request)
        session.flush()
        on_return_shipment_status(
            session, parcel, Status.DELIVERED, runtime.clock.now(), runtime.settings
        )
        return request.id


def test_an_opted_in_shop_refunds_the_received_return_once(client, runtime, jobs, selling):
    raw = shop_order()
    raw["line_items"][0]["id"] = 466157049
    send(client, selling["tb"], raw, "orders/create")
    jobs.drain()
    return_id = receive_return(runtime, selling["tb"].id)
    jobs.drain()
    jobs.drain()

    assert list(selling["tb"].shop.refunds.values()) == [
        {
            "id": "ref_0",
            "order_id": "820982911946154508",
            "amount": 1250,
            "currency": "USD",
            "lines": [["466157049", 1]],
            "note": f"Return {return_id} received",
        }
    ]
    with runtime.sessions() as session:
        assert session.get_one(ReturnRequestRow, return_id).status == "refunded"
        topics = session.scalars(select(OutboxMessage.topic)).all()
    assert "store.webhook" not in topics


def test_without_opting_in_the_shop_is_not_asked(client, runtime, jobs, selling):
    send(client, selling["tc"], shop_order(), "orders/create")
    jobs.drain()
    return_id = receive_return(runtime, selling["tc"].id)
    jobs.drain()

    assert selling["tc"].shop.refunds == {}
    with runtime.sessions() as session:
        assert session.get_one(ReturnRequestRow, return_id).status == "received"
        assert "shop.refund" not in session.scalars(select(OutboxMessage.topic)).all()


def test_a_platform_that_cannot_refund_falls_back_to_the_store_webhook(
    client, runtime, jobs, selling, monkeypatch
):
    """Opted in, but the shop's platform offers no refund: the signed store webhook goes."""
    monkeypatch.setattr(
        SandboxOrderSource, "capabilities", frozenset(Capability) - {Capability.REFUNDS}
    )
    send(client, selling["tb"], shop_order(), "orders/create")
    jobs.drain()
    receive_return(runtime, selling["tb"].id)

    with runtime.sessions() as session:
        messages = session.scalars(select(OutboxMessage)).all()
    topics = [m.topic for m in messages]
    assert "shop.refund" not in topics
    [hook] = [m for m in messages if m.topic == "store.webhook"]
    assert (hook.payload["url"], hook.payload["event"]) == (STORE_WEBHOOK, "return.received")


def test_an_ops_refund_of_a_shop_order_goes_through_the_shop_once(client, runtime, jobs, selling):
    """A parcel never received, refunded by ops: the whole order, once however often asked."""
    raw = shop_order()
    raw["line_items"][0]["id"] = 466157049
    send(client, selling["tb"], raw, "orders/create")
    jobs.drain()
    brand_id = selling["tb"].id
    with unit_of_work(runtime.sessions) as session:
        order = session.scalars(select(Order).where(Order.brand_id == brand_id)).one()
        parcel = Shipment(brand_id=brand_id, order_id=order.id, carrier="fake", status="delivered")
        session.add(parcel)
        session.flush()
        now = runtime.clock.now()
        first = ops_remedies.refund(session, runtime, parcel, "ops@tb.example", "Lost", now)
        again = ops_remedies.refund(session, runtime, parcel, "ops@tb.example", "", now)
        assert again.id == first.id and first.details == {"channel": "shop"}
    jobs.drain()
    jobs.drain()
    assert list(selling["tb"].shop.refunds.values()) == [
        {
            "id": "ref_0",
            "order_id": "820982911946154508",
            "amount": 4500,  # the order's total: two mugs
            "currency": "USD",
            "lines": [["466157049", 2]],
            "note": "Refund by ops@tb.example: Lost",
        }
    ]
