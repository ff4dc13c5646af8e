"""Shopify fixtures (each names the document it follows) and signed deliveries of them."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from channels.base import ChannelAccount, WebhookRequest
from channels.shopify.source import ShopifyOrderSource, webhook_signature

FIXTURES = Path(__file__).parent / "fixtures" / "shopify"
SHOP = "jsmith.myshopify.com"
CLIENT_SECRET = "hush-app-client-secret"
TOKEN = "shpat_0123456789abcdef"
GRAPHQL = f"https://{SHOP}/admin/api/2025-10/graphql.json"


def fixture(name: str) -> Any:
    document = json.loads((FIXTURES / f"{name}.json").read_text())
    assert document["source"], f"{name}.json must name its document"
    return copy.deepcopy(document["response"])


def source() -> ShopifyOrderSource:
    credentials = {"access_token": TOKEN, "client_secret": CLIENT_SECRET}
    return ShopifyOrderSource(ChannelAccount("shopify", "chn_1", SHOP, credentials))


def delivery(
    body: Any,
    topic: str = "orders/create",
    *,
    shop: str = SHOP,
    secret: str = CLIENT_SECRET,
    webhook_id: str = "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
) -> WebhookRequest:
    """A delivery as Shopify sends it (header names lower-cased, as proxies may)."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {
        "x-shopify-topic": topic,
        "x-shopify-hmac-sha256": webhook_signature(secret, raw),
        "x-shopify-shop-domain": shop,
        "x-shopify-webhook-id": webhook_id,
        "x-shopify-api-version": "2025-10",
        "x-shopify-triggered-at": "2025-11-03T08:12:41.123456Z",
        "x-shopify-event-id": "98880550-7158-44d4-b7cd-2c97c8a091b5",
    }
    return WebhookRequest(headers, raw)
