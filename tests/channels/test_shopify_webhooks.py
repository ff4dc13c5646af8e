"""Shopify webhook deliveries: signature, shop, delivery id and topic."""

from __future__ import annotations

import json

import pytest

from channels.base import ChannelResponseError, Topic, WebhookSignatureError
from channels.registry import get_source_class
from channels.shopify import ShopifyOrderSource
from tests.channels.shopify_fixtures import SHOP, delivery, fixture, source


def test_registered():
    assert get_source_class("shopify") is ShopifyOrderSource


def test_a_good_signature_from_the_accounts_shop_is_accepted():
    source().verify_webhook(delivery(fixture("order_webhook")))


def test_the_shop_domain_is_compared_whatever_its_case():
    source().verify_webhook(delivery(fixture("order_webhook"), shop=SHOP.upper()))


@pytest.mark.parametrize(
    "hook, reason",
    [
        (delivery(fixture("order_webhook"), secret="another-apps-secret"), "signature wrong"),
        (delivery(fixture("order_webhook"), shop="other-store.myshopify.com"), "other-store"),
    ],
    ids=["bad signature", "another shop"],
)
def test_refused(hook, reason):
    with pytest.raises(WebhookSignatureError, match=reason):
        source().verify_webhook(hook)


def test_a_body_changed_after_signing_is_refused():
    hook = delivery(fixture("order_webhook"))
    tampered = type(hook)(hook.headers, hook.body.replace(b"#9999", b"#9998"))
    with pytest.raises(WebhookSignatureError):
        source().verify_webhook(tampered)


def test_an_unsigned_delivery_is_refused():
    hook = delivery(fixture("order_webhook"))
    headers = {k: v for k, v in hook.headers.items() if k != "x-shopify-hmac-sha256"}
    with pytest.raises(WebhookSignatureError):
        source().verify_webhook(type(hook)(headers, hook.body))


def test_without_a_client_secret_everything_is_refused():
    unconfigured = ShopifyOrderSource(source().account.__class__("shopify", "chn_1", SHOP, {}))
    with pytest.raises(WebhookSignatureError, match="client_secret"):
        unconfigured.verify_webhook(delivery(fixture("order_webhook"), secret=""))


@pytest.mark.parametrize(
    "topic, expected",
    [
        ("orders/create", Topic.ORDER_CREATED),
        ("orders/paid", Topic.ORDER_PAID),
        ("orders/updated", Topic.ORDER_UPDATED),
        ("orders/cancelled", Topic.ORDER_CANCELLED),
    ],
)
def test_every_order_topic(topic, expected):
    notice = source().parse_webhook(delivery(fixture("order_webhook"), topic))
    assert notice.topic is expected
    assert notice.delivery_id == "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"
    assert notice.order is not None and notice.order.source_order_id == "820982911946154508"


def test_uninstall_carries_no_order():
    """app/uninstalled carries the Shop resource, not an order."""
    shop = {"id": 548380009, "name": "Super Toys", "domain": None, "myshopify_domain": SHOP}
    notice = source().parse_webhook(delivery(shop, "app/uninstalled", webhook_id="u-1"))
    assert (notice.topic, notice.delivery_id, notice.order) == (Topic.UNINSTALLED, "u-1", None)


def test_a_replayed_delivery_keeps_its_delivery_id():
    """Shopify retries a delivery with the same X-Shopify-Webhook-Id: the intake dedupes on it."""
    first = source().parse_webhook(delivery(fixture("order_webhook"), webhook_id="w-7"))
    again = source().parse_webhook(delivery(fixture("order_webhook"), webhook_id="w-7"))
    assert first == again


@pytest.mark.parametrize("topic", ["products/create", "orders/fulfilled", ""])
def test_a_topic_we_do_not_read_is_refused(topic):
    with pytest.raises(ChannelResponseError, match="not a topic we read"):
        source().parse_webhook(delivery(fixture("order_webhook"), topic))


@pytest.mark.parametrize(
    "body",
    [
        b"<order/>",
        json.dumps({"name": "#1"}).encode(),
        b"[]",
        json.dumps({"id": ""}).encode(),
    ],
)
def test_an_order_topic_without_an_order_is_refused(body):
    with pytest.raises(ChannelResponseError, match="unreadable order"):
        source().parse_webhook(delivery(body))


def test_missing_fields_are_problems_not_errors():
    order = fixture("order_webhook")
    order["shipping_address"] = None
    notice = source().parse_webhook(delivery(order))
    assert notice.order is not None and notice.order.problems == ("shipping_address missing",)
