"""WooCommerce as an `OrderSource`: signed webhooks in, orders listed by modification time,
fulfilments, milestones and refunds written back through the REST API v3.

The account's `shop` is the site's URL (`https://shop.example`); its credentials are the
REST API `consumer_key`/`consumer_secret` and the `webhook_secret` we give each webhook."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from channels.base import (
    Capability,
    ChannelAccount,
    Fulfilment,
    FulfilmentEvent,
    InboundOrder,
    OrderPage,
    OrderSource,
    Refund,
    ShopNotice,
    Topic,
    UnreadableOrder,
    WebhookPing,
    WebhookRequest,
    WebhookSignatureError,
)
from channels.cursor import is_new, read_cursor, write_cursor
from channels.lenient import read_orders, reading_webhook
from channels.webhook_auth import require_own_shop, signing_secret, webhook_signature
from channels.woocommerce import mapping
from channels.woocommerce.client import WooCommerceClient
from channels.woocommerce.units import REFUND_KEY_META, TOPICS
from shipflow.signatures import same_secret

SIGNATURE_HEADER = "X-WC-Webhook-Signature"
SOURCE_HEADER = "X-WC-Webhook-Source"
TOPIC_HEADER = "X-WC-Webhook-Topic"
DELIVERY_HEADER = "X-WC-Webhook-Delivery-ID"
PING = re.compile(rb"webhook_id=\d+")
PER_PAGE = 100  # the REST API's maximum


def site(url: str) -> str:
    """A site URL compared the way it identifies a store: scheme-less host and path, no
    trailing slash, case-insensitive host (`X-WC-Webhook-Source` is `home_url('/')`)."""
    parts = urlsplit(url.strip() if "://" in url else f"https://{url.strip()}")
    return f"{parts.netloc.lower()}{parts.path.rstrip('/')}"


class WooCommerceOrderSource(OrderSource):
    name = "woocommerce"
    capabilities = frozenset(Capability)

    def __init__(self, account: ChannelAccount, client: WooCommerceClient | None = None) -> None:
        super().__init__(account)
        self.client = client or WooCommerceClient(account)

    # --- orders in --------------------------------------------------------------------

    def verify_webhook(self, request: WebhookRequest) -> None:
        given = request.header(SIGNATURE_HEADER)
        if not given and PING.fullmatch(request.body.strip()):
            raise WebhookPing("woocommerce webhook creation ping", channel=self.name)
        secret = signing_secret(self, "webhook_secret")
        if not given or not same_secret(given.strip(), webhook_signature(secret, request.body)):
            raise WebhookSignatureError("woocommerce webhook signature wrong", channel=self.name)
        require_own_shop(self, request.header(SOURCE_HEADER), site, noun="site")

    def parse_webhook(self, request: WebhookRequest) -> ShopNotice:
        raw_topic = self.webhook_topic(request, TOPIC_HEADER, TOPICS)
        with reading_webhook(self.name):
            raw = json.loads(request.body)
            if raw_topic == "order.deleted":
                order = mapping.deleted_order(raw)
            else:
                order = mapping.inbound_order(raw)
        return ShopNotice(topic_of(raw_topic, raw, order), request.header(DELIVERY_HEADER), order)

    def subscribe_webhooks(self, address: str) -> list[str]:
        """One webhook per topic; an existing one to `address` is kept (re-activated if
        WooCommerce disabled it after failed deliveries), so calling twice creates none.
        Without our webhook secret none is made: WooCommerce would sign with one of its own
        (it makes one up for a webhook created without), and every delivery be refused."""
        secret = signing_secret(self, "webhook_secret")
        existing = {
            (hook.get("topic"), hook.get("delivery_url")): hook for hook in self.client.webhooks()
        }
        ids = []
        for topic in TOPICS:
            hook = existing.get((topic, address))
            if hook is None:
                hook = self.client.add_webhook(
                    {
                        "name": f"shipflow {topic}",
                        "topic": topic,
                        "delivery_url": address,
                        "secret": secret,
                    }
                )
            elif hook.get("status") != "active":
                hook = self.client.update_webhook(str(hook["id"]), {"status": "active"})
            ids.append(str(hook["id"]))
        return ids

    def orders_since(self, cursor: str | None, limit: int = 50) -> OrderPage:
        """Oldest change first, in whole pages of 100 until `limit` is reached or the last
        page is read. The cursor is the last modification time read and the ids read at that
        second; each request asks again from that second, excluding those ids, rather than
        for page N, whose contents shift when an order changes mid-read."""
        since, seen = read_cursor(cursor)
        orders: list[InboundOrder] = []
        unreadable: list[UnreadableOrder] = []
        while len(orders) < limit:
            params: dict[str, Any] = {
                "orderby": "modified",
                "order": "asc",
                "per_page": PER_PAGE,
                "dates_are_gmt": "true",
            }
            if since is not None:
                params["modified_after"] = mapping.gmt_text(since - timedelta(seconds=1))
            if seen:
                params["exclude"] = ",".join(sorted(seen))
            raw_orders, pages = self.client.orders_page(params)
            read, skipped = read_orders(raw_orders, mapping.inbound_order)
            unreadable.extend(skipped)
            fresh = 0
            for order in read:
                modified = order.updated_at
                if modified is None:  # kept, with the field named in its problems
                    orders.append(order)
                    continue
                if not is_new(modified, order.source_order_id, since, seen):
                    continue
                if since is None or modified > since:
                    since, seen = modified, set()
                seen.add(order.source_order_id)
                orders.append(order)
                fresh += 1
            if pages <= 1 or not fresh:  # the last page, or nothing new to move past
                break
        return OrderPage(orders, write_cursor(since, seen), unreadable)

    # --- written back -----------------------------------------------------------------

    def write_fulfilment(self, fulfilment: Fulfilment) -> str:
        """Tracking metadata as the Shipment Tracking extension keeps it, the order
        `completed`, and a customer note with the tracking link; each step is skipped when
        a repeated call finds it done. Returns the tracking item's id."""
        order_id = fulfilment.source_order_id
        item = mapping.tracking_item(fulfilment, datetime.now(UTC))
        items = mapping.tracking_items(self.client.order(order_id))
        if not any(i.get("tracking_id") == item["tracking_id"] for i in items):
            self.client.update_order(order_id, mapping.completed_order_json([*items, item]))
        self._add_note_once(order_id, mapping.fulfilment_note(fulfilment))
        return str(item["tracking_id"])

    def write_tracking_event(self, event: FulfilmentEvent) -> None:
        self._add_note_once(event.source_order_id, mapping.event_note(event))

    def write_refund(self, refund: Refund) -> str:
        for existing in self.client.refunds(refund.source_order_id):
            if mapping.meta_value(existing.get("meta_data"), REFUND_KEY_META) == (
                refund.idempotency_key
            ):
                return str(existing["id"])
        created = self.client.add_refund(refund.source_order_id, mapping.refund_json(refund))
        return str(created["id"])

    def _add_note_once(self, order_id: str, note: dict[str, Any]) -> None:
        """Notes have no idempotency key: the same text already on the order is this note."""
        if not any(n.get("note") == note["note"] for n in self.client.notes(order_id)):
            self.client.add_note(order_id, note)


def topic_of(raw_topic: str, raw: dict[str, Any], order: InboundOrder) -> Topic:
    """`order.updated` says what changed only through the order: cancelled, or paid by this
    very update (pending -> processing), else an update."""
    topic = TOPICS[raw_topic]
    if topic is not Topic.ORDER_UPDATED:
        return topic
    if order.cancelled:
        return Topic.ORDER_CANCELLED
    if (order.paid or order.cash_on_delivery) and mapping.paid_by_this_update(raw):
        return Topic.ORDER_PAID
    return Topic.ORDER_UPDATED
