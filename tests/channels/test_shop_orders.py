"""A shop's notices, in any order and any number of times, give one order in the shop's
latest state: allocated once it may be (paid, or cash on delivery where the account allows),
re-allocated or flagged on changes, voided on cancel, kept and flagged when it needs
attention. tb's shop waits for payment; tc's allocates cash-on-delivery orders unpaid."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from channels.sandbox import DEFAULT_NETWORK
from shipflow.channel_accounts import connect_account
from shipflow.config import parse_settings
from shipflow.secrets_at_rest import KEY_VARIABLE, new_key
from shipflow.store.db import unit_of_work
from shipflow.store.models import Alert, ChannelAccount, Order, Shipment
from shipflow.store.postpurchase_models import CustomerMessageRow
from shipflow.store.tracking_models import WebhookReceipt
from shipflow.web import webhooks
from tests.channels.conftest import brand_of, channel_config
from tests.channels.test_order_webhooks import api_headers

SANDBOX = {
    "code": "sandbox-main",
    "carrier": "sandbox",
    "services": [
        {"code": "ground", "level": "standard"},
        {"code": "express", "level": "express"},
    ],
}


@pytest.fixture
def settings(database_url):
    raw = channel_config(database_url)
    for code in ("tb", "tc"):
        brand_of(raw, code)["carriers"].append(dict(SANDBOX))
    brand_of(raw, "tb")["channels"][0]["shipping_methods"] = {
        "standard": "standard",
        "express": "express",
    }
    brand_of(raw, "tc")["channels"][0]["allocate_unpaid"] = ["cash_on_delivery"]
    return parse_settings(raw, "test config", environ={})


def order(
    updated_at: str = "2026-11-24T09:15:00-05:00",
    *,
    zip_code: str = "11201",
    address1: str = "1 Main St",
    financial_status: str = "paid",
    **extra,
) -> dict:
    """The sandbox shop's order (Shopify's Order resource shape) of LANTERN, which tb's
    and tc's EWR warehouse stocks."""
    return {
        "id": "5001",
        "name": "#1001",
        "currency": "USD",
        "created_at": "2026-11-24T09:15:00-05:00",
        "updated_at": updated_at,
        "financial_status": financial_status,
        "total_price": "25.00",
        "customer": {"name": "Ada Lovelace", "email": "ada@example.com"},
        "shipping_address": {
            "name": "Ada Lovelace",
            "address1": address1,
            "city": "Brooklyn",
            "province_code": "NY",
            "zip": zip_code,
            "country_code": "US",
        },
        "shipping_lines": [{"code": "standard", "title": "Standard"}],
        "line_items": [{"sku": "LANTERN", "title": "Lantern", "quantity": 1, "price": "25.00"}],
        **extra,
    }


def send(client, brand, raw: dict, topic: str):
    """A notice as a webhook only (not in the shop's change log, so reconciliation does not
    see it): the order of arrival is the test's."""
    headers, body = brand.shop.webhook(raw, topic)
    response = client.post(brand.webhook_url, data=body, headers=headers)
    assert response.status_code == 202
    return headers, body


def state(runtime):
    with runtime.sessions() as session:
        orders = session.scalars(select(Order)).all()
        shipments = session.scalars(select(Shipment)).all()
        alerts = session.scalars(select(Alert.title).order_by(Alert.title)).all()
        return orders, shipments, alerts


def test_a_replayed_delivery_has_no_second_effect(client, runtime, jobs, selling):
    brand = selling["tb"]
    headers, body = send(client, brand, order(), "orders/create")
    jobs.drain()
    assert client.post(brand.webhook_url, data=body, headers=headers).status_code == 202
    jobs.drain()

    orders, shipments, alerts = state(runtime)
    assert [(o.order_number, o.paid) for o in orders] == [("web-1001", True)]
    assert [(s.carrier, s.service) for s in shipments] == [("sandbox", "ground")]
    assert alerts == []
    with runtime.sessions() as session:
        notes = session.scalars(select(WebhookReceipt.error).order_by(WebhookReceipt.id)).all()
    delivery = headers["X-Sandbox-Shop-Webhook-Id"]
    assert notes == [None, f"delivery {delivery} was already acted on"]


def test_updated_before_created_gives_one_order_in_the_newer_state(client, runtime, jobs, selling):
    brand = selling["tb"]
    send(client, brand, order("2026-11-24T10:00:00-05:00", address1="9 New Rd"), "orders/updated")
    send(client, brand, order("2026-11-24T09:15:00-05:00", address1="1 Main St"), "orders/create")
    jobs.drain()

    orders, shipments, _ = state(runtime)
    assert [(o.source_order_id, o.ship_to["line1"]) for o in orders] == [("5001", "9 New Rd")]
    assert len(shipments) == 1


def test_an_unpaid_order_waits_and_is_allocated_when_paid(client, runtime, jobs, selling):
    brand = selling["tb"]
    send(client, brand, order(financial_status="pending"), "orders/create")
    jobs.drain()
    orders, shipments, _ = state(runtime)
    assert ([o.paid for o in orders], shipments) == ([False], [])

    send(client, brand, order("2026-11-24T09:20:00-05:00"), "orders/paid")
    jobs.drain()
    orders, shipments, _ = state(runtime)
    assert [o.paid for o in orders] == [True]
    assert [s.order_id for s in shipments] == [orders[0].id]


@pytest.mark.parametrize(("method", "service"), [("standard", "ground"), ("express", "express")])
def test_the_checkouts_shipping_line_chooses_the_service_level(
    client, runtime, jobs, selling, method, service
):
    send(client, selling["tb"], order(shipping_lines=[{"code": method}]), "orders/create")
    jobs.drain()
    orders, shipments, _ = state(runtime)
    assert orders[0].source_details["service_level"] == method
    assert [(s.carrier, s.service) for s in shipments] == [("sandbox", service)]


@pytest.mark.parametrize(
    ("brand_code", "allocated"),
    [("tc", True), ("tb", False)],  # tc: allocate_unpaid [cash_on_delivery]; tb: none
)
def test_cash_on_delivery_is_allocated_unpaid_where_the_account_allows(
    client, runtime, jobs, selling, brand_code, allocated
):
    cod = order(financial_status="pending", payment_gateway_names=["Cash on Delivery (COD)"])
    send(client, selling[brand_code], cod, "orders/create")
    jobs.drain()

    orders, shipments, _ = state(runtime)
    assert [(o.paid, o.source_details["cash_on_delivery"]) for o in orders] == [(False, 2500)]
    assert len(shipments) == (1 if allocated else 0)


def test_an_order_the_shop_fulfilled_itself_is_not_shipped_again(client, runtime, jobs, selling):
    """A sale at the shop's counter, or an old order a first reconciliation lists: paid and
    fulfilled in the shop. Nothing is imported, no label bought, no one alerted."""
    brand = selling["tb"]
    send(client, brand, order(fulfillment_status="fulfilled"), "orders/create")
    jobs.drain()

    assert state(runtime) == ([], [], [])
    with runtime.sessions() as session:
        notes = session.scalars(select(WebhookReceipt.error)).all()
    assert notes == ["order #1001: nothing left to ship in the shop, not imported"]


def test_a_waiting_order_the_shop_then_fulfils_itself_is_not_allocated(
    client, runtime, jobs, selling
):
    brand = selling["tb"]
    send(client, brand, order(financial_status="pending"), "orders/create")
    paid_and_shipped = order("2026-11-24T10:00:00-05:00", fulfillment_status="fulfilled")
    send(client, brand, paid_and_shipped, "orders/updated")
    jobs.drain()

    orders, shipments, alerts = state(runtime)
    assert [(o.order_number, o.paid) for o in orders] == [("web-1001", True)]
    assert (shipments, alerts) == ([], [])


def test_a_change_before_the_label_is_taken(client, runtime, jobs, selling):
    brand = selling["tb"]
    send(client, brand, order(financial_status="pending"), "orders/create")
    changed = order("2026-11-24T09:30:00-05:00", address1="9 New Rd", financial_status="pending")
    send(client, brand, changed, "orders/updated")
    jobs.drain()

    orders, shipments, alerts = state(runtime)
    assert [o.ship_to["line1"] for o in orders] == ["9 New Rd"]
    assert (shipments, alerts) == ([], [])


def test_a_change_after_the_label_alerts_ops_and_keeps_the_shipment(client, runtime, jobs, selling):
    brand = selling["tb"]
    send(client, brand, order(), "orders/create")
    send(client, brand, order("2026-11-24T09:30:00-05:00", address1="9 New Rd"), "orders/updated")
    jobs.drain()

    orders, shipments, alerts = state(runtime)
    assert [o.ship_to["line1"] for o in orders] == ["1 Main St"]
    assert len(shipments) == 1
    assert alerts == ["Shop order web-1001 changed in the shop after its label was bought"]


def test_a_cancel_after_the_label_voids_it_and_stops_messages(client, runtime, jobs, selling):
    brand = selling["tb"]
    send(client, brand, order(), "orders/create")
    jobs.drain()
    with unit_of_work(runtime.sessions) as session:
        shipment = session.scalars(select(Shipment)).one()
        session.add(
            CustomerMessageRow(
                brand_id=brand.id,
                shipment_id=shipment.id,
                key="test:later",
                milestone="delivered",
                channel="email",
                recipient="ada@example.com",
                language="en",
                subject="s",
                body="b",
                send_after=runtime.clock.now(),
            )
        )
    cancelled = order("2026-11-24T11:00:00-05:00", cancelled_at="2026-11-24T11:00:00-05:00")
    send(client, brand, cancelled, "orders/cancelled")
    jobs.drain()

    orders, shipments, alerts = state(runtime)
    assert [o.cancelled_at is not None for o in orders] == [True]
    assert [s.status for s in shipments] == ["cancelled"]
    assert alerts == []
    with runtime.sessions() as session:
        assert session.scalars(select(CustomerMessageRow.status)).all() == ["cancelled"]


@pytest.mark.parametrize(
    ("status", "alerts"),
    [
        ("delivered", []),  # refunded whole after a return: nothing to void, no one to tell
        ("returned_to_sender", []),
        (
            "in_transit",
            ["Shop order web-1001 cancelled in the shop while its parcel is on its way: "
             "intercept it or let it arrive"],
        ),
    ],
)  # fmt: skip
def test_a_cancel_after_the_parcel_left_voids_nothing(
    client, runtime, jobs, selling, status, alerts
):
    brand = selling["tb"]
    send(client, brand, order(), "orders/create")
    jobs.drain()
    with unit_of_work(runtime.sessions) as session:
        session.scalars(select(Shipment)).one().status = status
    cancelled = order("2026-11-30T11:00:00-05:00", cancelled_at="2026-11-30T11:00:00-05:00")
    send(client, brand, cancelled, "orders/cancelled")
    jobs.drain()

    orders, shipments, raised = state(runtime)
    assert [o.cancelled_at is not None for o in orders] == [True]
    assert ([s.status for s in shipments], raised) == ([status], alerts)


@pytest.mark.parametrize(
    ("raw", "attention"),
    [
        (order(zip_code=""), ["shipping_address.zip missing"]),
        (
            order(shipping_lines=[{"code": "drone", "title": "Drone"}]),
            ["shipping_method 'drone' has no service level"],
        ),
    ],
)
def test_an_order_with_problems_is_kept_flagged_and_ops_alerted(
    client, runtime, jobs, selling, raw, attention
):
    send(client, selling["tb"], raw, "orders/create")
    jobs.drain()

    orders, shipments, alerts = state(runtime)
    assert [(o.order_number, o.attention) for o in orders] == [("web-1001", attention)]
    assert shipments == []
    assert alerts == [f"Shop order web-1001 needs attention: {attention[0]}"]
    with runtime.sessions() as session:
        assert session.scalars(select(Alert.kind)).all() == ["shop_order"]


def test_two_shops_of_a_brand_may_both_have_number_1001(
    client, runtime, jobs, selling, monkeypatch
):
    monkeypatch.setenv(KEY_VARIABLE, new_key())
    with unit_of_work(runtime.sessions) as session:
        outlet = connect_account(
            session,
            runtime,
            selling["tb"].id,
            channel="sandbox",
            shop="outlet.example",
            credentials={"webhook_secret": "outlet-secret"},
            code="outlet",
        )
        outlet_url = f"/webhooks/channels/sandbox/{outlet.id}"
    shop = DEFAULT_NETWORK.open("outlet.example", "outlet-secret")
    try:
        send(client, selling["tb"], order(), "orders/create")
        headers, body = shop.webhook({**order(), "id": "9001"}, "orders/create")
        assert client.post(outlet_url, data=body, headers=headers).status_code == 202
        jobs.drain()
    finally:
        DEFAULT_NETWORK.close("outlet.example")

    orders, _, _ = state(runtime)
    assert sorted((o.order_number, o.source_order_id) for o in orders) == [
        ("outlet-1001", "9001"),
        ("web-1001", "5001"),
    ]


def test_uninstalling_the_app_disables_the_account_and_its_webhooks_are_refused(
    client, runtime, jobs, selling, monkeypatch
):
    brand = selling["tb"]
    send(client, brand, {"id": 1, "domain": brand.shop.domain}, "app/uninstalled")
    jobs.drain()
    with runtime.sessions() as session:
        assert session.get_one(ChannelAccount, brand.account_id).enabled is False
        receipts = session.scalar(select(func.count()).select_from(WebhookReceipt))

    headers, body = brand.shop.webhook(order(), "orders/create")
    monkeypatch.setattr(webhooks, "SHOP_TTL", 0.0)  # the account is looked up again at once
    refused = client.post(brand.webhook_url, data=body, headers=headers)
    assert refused.status_code == 401
    with runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(WebhookReceipt)) == receipts


def test_the_api_shows_what_an_order_needs(client, runtime, jobs, selling):
    send(client, selling["tb"], order(zip_code="", financial_status="pending"), "orders/create")
    jobs.drain()
    with runtime.sessions() as session:
        order_id = session.scalar(select(Order.id))
    shown = client.get(f"/api/v1/orders/{order_id}", headers=api_headers(runtime, selling["tb"].id))
    assert {k: shown.json[k] for k in ("paid", "cancelled_at", "attention", "source_account")} == {
        "paid": False,
        "cancelled_at": None,
        "attention": ["shipping_address.zip missing"],
        "source_account": selling["tb"].account_id,
    }


def test_customers_find_a_shop_order_by_the_number_the_shop_gave_them(
    client, runtime, jobs, selling
):
    from shipflow.orders import orders_numbered
    from shipflow.returns.service import find_order

    send(client, selling["tb"], order(), "orders/create")
    jobs.drain()
    with runtime.sessions() as session:
        found = find_order(session, selling["tb"].id, "#1001", "ada@example.com")
        assert found is not None and found.order_number == "web-1001"
        assert find_order(session, selling["tb"].id, "#1001", "eve@example.com") is None
        numbered = orders_numbered(session, selling["tb"].id, " 1001 ")
        assert [o.order_number for o in numbered] == ["web-1001"]  # the tracking page's lookup
