"""Returns on a real database: order lookup without enumeration, decisions, the cheapest
label, and the store's refund webhooks through the outbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from shipflow import postpurchase
from shipflow.config import ProductConfig, ReturnsConfig
from shipflow.domain import Address, Status
from shipflow.returns.service import (
    ItemChoice,
    ReturnError,
    find_order,
    issue_label,
    mark_refunded,
    on_return_shipment_status,
    request_return,
)
from shipflow.store.models import Brand, Order, OrderLine, OutboxMessage, Shipment
from shipflow.store.postpurchase_models import CustomerMessageRow, LabelRow
from tests.conftest import configure_brand
from tests.fakes import ReturnLabelCarrier

DELIVERED = datetime(2026, 11, 10, 18, tzinfo=UTC)
NOW = DELIVERED + timedelta(days=3)
WAREHOUSE = Address(country="US", postal_code="08817", city="Edison", state="NJ")


@pytest.fixture
def order_id(runtime, brands):
    configure_brand(
        runtime,
        "brand-a",
        languages=["en"],
        products=[ProductConfig(sku="MUG", name="Enamel camp mug", price=1400, final_sale=True)],
        returns=ReturnsConfig(window_days=30, auto_approve_up_to=20000),
    )
    with runtime.sessions() as session:
        brand = session.get(Brand, brands["a"]["id"])
        order = Order(
            brand_id=brand.id,
            order_number="1001",
            customer_email="Ada@Example.com",
            customer_name="Ada",
            currency="USD",
            ship_to={"country": "US", "postal_code": "10001", "city": "New York"},
            lines=[
                OrderLine(sku="LANTERN", quantity=2, unit_price=3900),
                OrderLine(sku="MUG", quantity=1, unit_price=1400),
                OrderLine(sku="TENT-2P", quantity=1, unit_price=24900),
            ],
        )
        session.add(order)
        session.flush()
        session.add(
            Shipment(
                brand_id=brand.id,
                order_id=order.id,
                carrier="sandbox",
                status="delivered",
                delivered_at=DELIVERED,
            )
        )
        session.commit()
        return order.id


@pytest.mark.parametrize(
    ("number", "secret", "found"),
    [
        ("1001", "ada@example.com", True),
        ("1001", " ADA@EXAMPLE.COM ", True),
        ("1001", "10001", True),
        ("1001", "eve@example.com", False),
        ("1001", "", False),
        ("9999", "ada@example.com", False),
    ],
)
def test_find_order(runtime, brands, order_id, number, secret, found):
    with runtime.sessions() as session:
        order = find_order(session, brands["a"]["id"], number, secret)
        assert (order is not None) == found
        assert find_order(session, brands["b"]["id"], number, secret) is None


def test_approved_return_gets_cheapest_label_and_message(runtime, settings, order_id):
    cheap, dear = ReturnLabelCarrier("cheapco", 650), ReturnLabelCarrier("dearco", 990)
    with runtime.sessions() as session:
        order = session.get(Order, order_id)
        request = request_return(
            session,
            order,
            [ItemChoice("LANTERN", 1, "wrong_size"), ItemChoice("MUG", 1, "changed_mind")],
            NOW,
            "en",
            runtime.settings,
        )
        assert request.status == "approved" and request.refund_amount == 3900
        assert [(i.sku, i.accepted, i.refusal) for i in request.items] == [
            ("LANTERN", True, None),
            ("MUG", False, "final_sale"),
        ]
        shipment = issue_label(session, settings, request, [dear, cheap], WAREHOUSE, NOW)
        session.commit()
        assert shipment.kind == "return" and shipment.carrier == "cheapco"
        assert shipment.tracking_number == "CHEAPCO000001" and request.status == "label_created"
        formats = sorted(r.label_format for r in session.scalars(select(LabelRow)))
        assert formats == ["PDF", "QR"]
        message = session.scalar(select(CustomerMessageRow))
        assert message.milestone == "return_approved" and "/returns/label/" in message.body
    assert cheap.labels[0].recipient == WAREHOUSE and not dear.labels


def test_expensive_return_waits_for_review(runtime, settings, order_id):
    with runtime.sessions() as session:
        request = request_return(
            session,
            session.get(Order, order_id),
            [ItemChoice("TENT-2P", 1, "changed_mind")],
            NOW,
            "en",
            runtime.settings,
        )
        assert request.status == "review"
        with pytest.raises(ReturnError, match="not approved"):
            issue_label(session, settings, request, [ReturnLabelCarrier("c", 1)], WAREHOUSE, NOW)


def test_outside_window_is_refused_with_the_rule(runtime, order_id):
    with runtime.sessions() as session:
        request = request_return(
            session,
            session.get(Order, order_id),
            [ItemChoice("LANTERN", 1, "changed_mind")],
            DELIVERED + timedelta(days=31),
            "en",
            runtime.settings,
        )
        assert request.status == "refused"
        assert request.decision["refusals"][0]["code"] == "outside_window"


def test_store_webhooks_on_first_scan_and_receipt(runtime, settings, order_id):
    returns = {"store_webhook_url": "http://127.0.0.1:9/store", "store_webhook_secret": "s"}
    base = runtime.settings.brands[0].returns
    configure_brand(runtime, "brand-a", returns=base.model_copy(update=returns))
    with runtime.sessions() as session:
        request = request_return(
            session,
            session.get(Order, order_id),
            [ItemChoice("LANTERN", 2, "wrong_size")],
            NOW,
            "en",
            runtime.settings,
        )
        shipment = issue_label(
            session, settings, request, [ReturnLabelCarrier("c", 500)], WAREHOUSE, NOW
        )
        for status in (Status.IN_TRANSIT, Status.IN_TRANSIT, Status.DELIVERED, Status.DELIVERED):
            on_return_shipment_status(session, shipment, status, NOW, runtime.settings)
        mark_refunded(
            session, request, NOW, lambda amount, currency: f"${amount / 100:.2f}", runtime.settings
        )
        mark_refunded(
            session, request, NOW, lambda amount, currency: f"${amount / 100:.2f}", runtime.settings
        )
        session.commit()
        events = [
            m.payload["event"]
            for m in session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        ]
        assert events == ["return.in_transit", "return.received"]
        milestones = [m.milestone for m in session.scalars(select(CustomerMessageRow))]
        assert sorted(milestones) == ["refund_issued", "return_approved", "return_received"]
        refund = session.scalar(
            select(CustomerMessageRow).where(CustomerMessageRow.milestone == "refund_issued")
        )
        assert "$78.00" in refund.body


def test_an_approved_return_no_carrier_can_label_goes_to_a_person(runtime, order_id, monkeypatch):
    """The portal's submission: approved, the label is bought at once; when no carrier can
    issue one, the return waits for review instead of failing the customer's form."""
    configure_brand(runtime, "brand-a")  # its warehouses receive returns
    monkeypatch.setattr(runtime.carriers, "of_brand", lambda *args: [])
    with runtime.sessions() as session:
        order = session.get(Order, order_id)
        choices = [ItemChoice("LANTERN", 1, "wrong_size")]
        request = postpurchase.submit_return(runtime, session, order, choices, "en")
        assert request.status == "review" and request.shipment_id is None
        monkeypatch.setattr(
            runtime.carriers, "of_brand", lambda *args: [ReturnLabelCarrier("c", 500)]
        )
        request = postpurchase.submit_return(runtime, session, order, choices, "en")
        assert request.status == "label_created" and request.created_at == runtime.clock.now()
