"""Shared by the WooCommerce tests: the documented payloads and signed deliveries."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from channels.base import ChannelAccount, WebhookRequest
from channels.webhook_auth import webhook_signature
from channels.woocommerce import WooCommerceOrderSource

FIXTURES = Path(__file__).parent / "fixtures" / "woocommerce"
SHOP = "https://shop.example"
API = f"{SHOP}/wp-json/wc/v3"
SECRET = "wc-webhook-secret"
ACCOUNT = ChannelAccount(
    "woocommerce",
    "web",
    SHOP,
    {"consumer_key": "ck_1", "consumer_secret": "cs_1", "webhook_secret": SECRET},
)


def fixture(name: str) -> Any:
    """The documented response (a fresh copy: tests change fields to make their cases)."""
    return copy.deepcopy(json.loads((FIXTURES / name).read_text())["response"])


def source() -> WooCommerceOrderSource:
    return WooCommerceOrderSource(ACCOUNT)


def delivery(
    payload: Any,
    topic: str = "order.created",
    *,
    secret: str = SECRET,
    site: str = "https://shop.example/",
    delivery_id: str = "a4b5c6d7e8",
) -> WebhookRequest:
    """A webhook as `WC_Webhook::deliver` sends it (headers as a proxy may lower-case them)."""
    body = json.dumps(payload).encode()
    resource, _, event = topic.partition(".")
    return WebhookRequest(
        headers={
            "content-type": "application/json",
            "x-wc-webhook-source": site,
            "x-wc-webhook-topic": topic,
            "x-wc-webhook-resource": resource,
            "x-wc-webhook-event": event,
            "x-wc-webhook-signature": webhook_signature(secret, body),
            "x-wc-webhook-id": "142",
            "x-wc-webhook-delivery-id": delivery_id,
        },
        body=body,
    )
