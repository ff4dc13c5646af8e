"""SHOPLINE (the SHOPLINE Open Platform: developer.shopline.com, stores at
`{handle}.myshopline.com`) as an `OrderSource`: signed webhooks in, orders listed by update
time, fulfilments, their events and refunds written back through the Admin REST API.

The account's `shop` is the store's domain (`acme.myshopline.com`); its credentials are the
app's `access_token` and `app_secret` (the key of the webhooks' HMAC)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

from channels.base import (
    Capability,
    ChannelAccount,
    ChannelResponseError,
    Fulfilment,
    FulfilmentEvent,
    InboundOrder,
    OrderPage,
    OrderSource,
    Refund,
    ShopNotice,
    Topic,
    UnreadableOrder,
    WebhookRequest,
    WebhookSignatureError,
)
from channels.cursor import is_new, read_cursor, write_cursor
from channels.lenient import read_orders, reading_webhook
from channels.shopline import mapping
from channels.shopline.client import ShoplineClient
from channels.shopline.units import API_VERSION, TOPICS
from channels.webhook_auth import require_own_shop, signing_secret
from shipflow.signatures import same_secret

SIGNATURE_HEADER = "X-Shopline-Hmac-Sha256"
SHOP_HEADER = "X-Shopline-Shop-Domain"
TOPIC_HEADER = "X-Shopline-Topic"
DELIVERY_HEADER = "X-Shopline-Webhook-Id"  # the same for every re-push of one event
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # sorts an order without `updated_at` first
MAX_LIMIT = 100  # "Get orders" allows at most 100 a page


def signatures(secret: str, body: bytes) -> tuple[str, str]:
    """The HMAC-SHA256 of the raw body with the app secret, hex (as SHOPLINE's SDKs check
    it) and base64 (as the webhook overview's example header is written)."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return digest.hex(), base64.b64encode(digest).decode()


class ShoplineOrderSource(OrderSource):
    name = "shopline"
    capabilities = frozenset(
        {
            Capability.ORDER_WEBHOOKS,
            Capability.ORDER_LISTING,
            Capability.FULFILMENTS,
            Capability.TRACKING_EVENTS,
            Capability.WEBHOOK_SUBSCRIPTIONS,
            Capability.REFUNDS,
        }
    )

    def __init__(self, account: ChannelAccount, client: ShoplineClient | None = None) -> None:
        super().__init__(account)
        self.client = client or ShoplineClient(account)

    # --- orders in --------------------------------------------------------------------

    def verify_webhook(self, request: WebhookRequest) -> None:
        secret = signing_secret(self, "app_secret")
        given = request.header(SIGNATURE_HEADER).strip()
        expected = signatures(secret, request.body)
        if not given or not any(same_secret(given, e) for e in expected):
            raise WebhookSignatureError("shopline webhook signature wrong", channel=self.name)
        require_own_shop(self, request.header(SHOP_HEADER), lambda shop: shop.strip().lower())

    def parse_webhook(self, request: WebhookRequest) -> ShopNotice:
        topic = TOPICS[self.webhook_topic(request, TOPIC_HEADER, TOPICS)]
        delivery_id = request.header(DELIVERY_HEADER)
        with reading_webhook(self.name):
            raw = json.loads(request.body)
            if topic is Topic.UNINSTALLED:
                if not mapping.is_uninstall(raw):
                    raise ChannelResponseError(
                        f"an app {raw.get('operate')!r} notice, not an uninstall: nothing to do",
                        channel=self.name,
                    )
                return ShopNotice(topic, delivery_id)
            order = mapping.inbound_order(raw)
        if topic is Topic.ORDER_UPDATED and order.cancelled:
            topic = Topic.ORDER_CANCELLED
        return ShopNotice(topic, delivery_id, order)

    def subscribe_webhooks(self, address: str) -> list[str]:
        """One subscription per topic ("Subscribe to a Webhook" takes one topic a call);
        an existing one to `address` is kept, so calling twice creates none."""
        existing = {(h.get("topic"), h.get("address")): h for h in self.client.webhooks()}
        ids = []
        for topic in TOPICS:
            hook = existing.get((topic, address)) or self.client.add_webhook(
                {"webhook": {"address": address, "topic": topic, "api_version": API_VERSION}}
            )
            ids.append(str(hook["id"]))
        return ids

    def orders_since(self, cursor: str | None, limit: int = 50) -> OrderPage:
        """Every order updated at or after the cursor's time, read to the last page
        (the listing is sorted by id, not by update time, so a window is read whole);
        `limit` is the page size."""
        since, seen = read_cursor(cursor)
        params: dict[str, Any] = {"status": "any", "limit": min(limit, MAX_LIMIT)}
        if since is not None:
            params["updated_at_min"] = since.isoformat()
        orders: list[InboundOrder] = []
        unreadable: list[UnreadableOrder] = []
        url = "/orders.json"
        query: dict[str, Any] | None = params
        while url:
            raw_orders, url = self.client.orders_page(url, query)
            query = None  # the next page's URL carries the query (`page_info`)
            read, skipped = read_orders(raw_orders, mapping.inbound_order)
            orders.extend(read)
            unreadable.extend(skipped)
        fresh = [
            o
            for o in orders
            if o.updated_at is None or is_new(o.updated_at, o.source_order_id, since, seen)
        ]
        fresh.sort(key=lambda o: o.updated_at or EPOCH)
        for order in fresh:
            if order.updated_at is None:
                continue
            if since is None or order.updated_at > since:
                since, seen = order.updated_at, set()
            seen.add(order.source_order_id)
        return OrderPage(fresh, write_cursor(since, seen), unreadable)

    # --- written back -----------------------------------------------------------------

    def write_fulfilment(self, fulfilment: Fulfilment) -> str:
        """A fulfillment of the order with our tracking number; a repeated call finds the
        one it made (SHOPLINE takes no idempotency key). Returns the fulfillment's id."""
        found = self._fulfillment_id(fulfilment.source_order_id, fulfilment.tracking_number)
        if found:
            return found
        created = self.client.add_fulfillment(
            fulfilment.source_order_id, mapping.fulfilment_json(fulfilment)
        )
        return str(created["id"])

    def write_tracking_event(self, event: FulfilmentEvent) -> None:
        body = mapping.event_json(event)
        if body is None:
            return
        fulfillment_id = event.fulfilment_ref or self._fulfillment_id(
            event.source_order_id, event.tracking_number
        )
        if not fulfillment_id:
            raise ChannelResponseError(
                f"no shopline fulfillment with tracking number {event.tracking_number} on "
                f"order {event.source_order_id}: write the fulfilment first",
                channel=self.name,
            )
        self.client.add_fulfillment_event(event.source_order_id, fulfillment_id, body)

    def write_refund(self, refund: Refund) -> str:
        """ "Order refund" of the returned lines from the payments the refund trial names;
        SHOPLINE takes no idempotency key, so the note carries ours and a repeated call
        finds the refund it made. Returns its id."""
        earlier = refund.made_before(self.client.refunds(refund.source_order_id))
        if earlier:
            return earlier
        trial = self.client.refund_trial(
            refund.source_order_id,
            {"currency": refund.currency, "refund_line_items": mapping.refund_lines(refund)},
        )
        try:
            body = mapping.refund_json(refund, trial.get("transactons") or [])
        except (ValueError, KeyError, TypeError) as exc:
            raise ChannelResponseError(
                f"cannot refund order {refund.source_order_id}: {exc}", channel=self.name
            ) from exc
        created = self.client.add_refund(body)
        return str(created["id"])

    def _fulfillment_id(self, order_id: str, tracking_number: str) -> str:
        for existing in self.client.fulfillments(order_id):
            if tracking_number in mapping.tracking_numbers(existing):
                return str(existing["id"])
        return ""
