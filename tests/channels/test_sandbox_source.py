"""The sandbox shop through the `OrderSource` interface, without a database."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from channels.base import (
    ChannelAccount,
    ChannelError,
    ChannelResponseError,
    Fulfilment,
    FulfilmentEvent,
    Topic,
    WebhookRequest,
    WebhookSignatureError,
)
from channels.money import minor_units
from channels.registry import available_channels, get_source_class
from channels.sandbox import SandboxOrderSource, ShopNetwork
from shipflow.domain import Address, Status
from tests.channels.conftest import shop_order

SECRET = "s3cret"


@pytest.fixture
def network() -> ShopNetwork:
    return ShopNetwork()


@pytest.fixture
def source(network) -> SandboxOrderSource:
    account = ChannelAccount("sandbox", "web", "a.example", {"webhook_secret": SECRET})
    return SandboxOrderSource(account, network=network)


def request(headers, body) -> WebhookRequest:
    # Header names as a proxy may have rewritten them: lower case.
    return WebhookRequest({k.lower(): v for k, v in headers.items()}, body)


def test_registry_knows_the_sandbox():
    assert "sandbox" in available_channels()
    assert get_source_class("sandbox") is SandboxOrderSource
    with pytest.raises(KeyError, match="known channels: sandbox"):
        get_source_class("nope")


def test_verified_order_is_parsed_into_shipflow_terms(source, network):
    hook = request(*network.open("a.example", SECRET).place(shop_order()))
    source.verify_webhook(hook)
    notice = source.parse_webhook(hook)
    assert notice.topic is Topic.ORDER_CREATED and notice.delivery_id
    order = notice.order
    assert order is not None
    assert (order.source_order_id, order.order_number, order.currency) == (
        "820982911946154508",
        "#1001",
        "USD",
    )
    assert order.ship_to == Address(
        country="US",
        postal_code="11201",
        city="Brooklyn",
        state="NY",
        line1="1 Main St",
        name="Ada Lovelace",
    )
    assert [(line.sku, line.unit_price) for line in order.lines] == [
        ("MUG-1", 1250),
        ("TEE-1", 2000),
    ]
    assert order.placed_at.utcoffset() is not None


def test_no_secret_or_another_shop_is_refused(network):
    headers, body = network.open("a.example", SECRET).webhook(shop_order())
    unset = SandboxOrderSource(ChannelAccount("sandbox", "web", "a.example"), network=network)
    with pytest.raises(WebhookSignatureError, match="no webhook secret"):
        unset.verify_webhook(request(headers, body))
    other = ChannelAccount("sandbox", "web", "b.example", {"webhook_secret": SECRET})
    with pytest.raises(WebhookSignatureError, match="from shop 'a.example'"):
        SandboxOrderSource(other, network=network).verify_webhook(request(headers, body))


def test_a_webhook_that_is_not_an_order_is_a_payload_error(source, network):
    headers, body = network.open("a.example", SECRET).webhook(shop_order(), "carts/create")
    with pytest.raises(ChannelResponseError, match="not a topic we read"):
        source.parse_webhook(request(headers, body))
    headers, body = network.open("a.example", SECRET).webhook({}, "app/uninstalled")
    assert source.parse_webhook(request(headers, body)).topic is Topic.UNINSTALLED


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"id": "1", "lines": ["x"]}'])
def test_a_body_that_is_no_order_is_refused(source, network, body):
    headers, _ = network.open("a.example", SECRET).webhook(shop_order(), "orders/create")
    with pytest.raises(ChannelResponseError, match="unreadable order"):
        source.parse_webhook(request(headers, body))


def test_orders_changed_since_a_cursor(source, network):
    shop = network.open("a.example", SECRET)
    shop.place(shop_order("1", "#1"))
    shop.place(shop_order("2", "#2"))
    first = source.orders_since(None, limit=1)
    assert [o.order_number for o in first.orders] == ["#1"]
    shop.place(shop_order("1", "#1"), "orders/updated")
    rest = source.orders_since(first.cursor)
    assert [o.order_number for o in rest.orders] == ["#2", "#1"]
    assert source.orders_since(rest.cursor).orders == []


def test_write_back_is_deduped_on_the_key_and_needs_the_shop(source, network):
    fulfilment = Fulfilment("1", "ups", "ground", "1Z999", idempotency_key="k1")
    with pytest.raises(ChannelError) as refused:
        source.write_fulfilment(fulfilment)
    assert refused.value.retryable
    shop = network.open("a.example", SECRET)
    assert source.write_fulfilment(fulfilment) == source.write_fulfilment(fulfilment)
    assert len(shop.fulfilments) == 1
    at = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
    source.write_tracking_event(FulfilmentEvent("1", "1Z999", Status.DELIVERED, at, "k2"))
    assert shop.tracking_events["k2"]["status"] == "delivered"


@pytest.mark.parametrize(
    ("price", "currency", "minor"),
    [("19.99", "USD", 1999), ("20", "EUR", 2000), ("1200", "JPY", 1200), ("0.5", "GBP", 50)],
)
def test_prices_in_minor_units(price, currency, minor):
    assert minor_units(price, currency) == minor


@pytest.mark.parametrize(("price", "currency"), [("19.999", "USD"), ("12.5", "JPY"), ("x", "USD")])
def test_prices_that_do_not_fit_the_currency_are_refused(price, currency):
    with pytest.raises(ValueError, match="price"):
        minor_units(price, currency)
