"""Shopify as an `OrderSource`.

The account's `shop` is the `*.myshopify.com` domain; its credentials are the offline
`access_token` from the app install and the app's `client_secret`, which signs webhooks
(shopify.dev/docs/apps/build/webhooks/verify-deliveries). An optional `api_base` replaces
`https://<shop>` as the Admin API's address (the demo's simulated store)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import requests

from channels.base import (
    Capability,
    ChannelAccount,
    ChannelResponseError,
    Fulfilment,
    FulfilmentEvent,
    OrderPage,
    OrderSource,
    Refund,
    ShopNotice,
    Topic,
    WebhookRequest,
    WebhookSignatureError,
)
from channels.lenient import read_orders, reading_webhook
from channels.shopify import mapping, queries
from channels.shopify.client import ShopifyClient
from channels.shopify.units import SUBSCRIPTION_TOPICS, TOPICS, event_status
from channels.webhook_auth import require_own_shop, signing_secret, webhook_signature
from shipflow.signatures import same_secret

SIGNATURE_HEADER = "X-Shopify-Hmac-Sha256"
SHOP_HEADER = "X-Shopify-Shop-Domain"
TOPIC_HEADER = "X-Shopify-Topic"
DELIVERY_HEADER = "X-Shopify-Webhook-Id"
FULFILLABLE = frozenset({"OPEN", "IN_PROGRESS"})  # FulfillmentOrderStatus we may fulfil
EPOCH = "1970-01-01T00:00:00Z"
LISTING_DEPTH = 20_000  # orders one listing pages through (Shopify's limit: 25,000 objects)
MAX_SKIPPED = 40  # order ids a cursor carries (ChannelAccount.sync_cursor: 1,024 characters)


class ShopifyOrderSource(OrderSource):
    name = "shopify"
    capabilities = frozenset(Capability)

    def __init__(self, account: ChannelAccount, session: requests.Session | None = None) -> None:
        super().__init__(account)
        credentials = account.credentials
        self.client = ShopifyClient(
            account.shop,
            credentials.get("access_token", ""),
            session,
            api_base=credentials.get("api_base", ""),
        )

    # -- webhooks in --------------------------------------------------------------------

    def verify_webhook(self, request: WebhookRequest) -> None:
        secret = signing_secret(
            self,
            "client_secret",
            "no client secret: the channel account's credentials.client_secret is the "
            "Shopify app's client secret",
        )
        given = request.header(SIGNATURE_HEADER).strip()
        expected = webhook_signature(secret, request.body)
        if not given or not same_secret(given, expected):
            raise WebhookSignatureError("shopify webhook signature wrong", channel=self.name)
        require_own_shop(self, request.header(SHOP_HEADER), str.lower)

    def parse_webhook(self, request: WebhookRequest) -> ShopNotice:
        topic = TOPICS[self.webhook_topic(request, TOPIC_HEADER, TOPICS)]
        delivery_id = request.header(DELIVERY_HEADER)
        if topic is Topic.UNINSTALLED:
            return ShopNotice(topic, delivery_id)
        with reading_webhook(self.name):
            order = mapping.order_from_webhook(json.loads(request.body))
        return ShopNotice(topic, delivery_id, order)

    def subscribe_webhooks(self, address: str) -> list[str]:
        """One subscription per topic to `address`; the ones already there are kept."""
        data = self.client.graphql(
            queries.WEBHOOK_SUBSCRIPTIONS, {"topics": list(SUBSCRIPTION_TOPICS)}
        )
        existing = {
            node["topic"]: node["id"]
            for node in data["webhookSubscriptions"]["nodes"]
            if node.get("uri") == address
        }
        ids = []
        for topic in SUBSCRIPTION_TOPICS:
            if topic in existing:
                ids.append(existing[topic])
                continue
            created = self._mutate(
                queries.WEBHOOK_SUBSCRIPTION_CREATE,
                "webhookSubscriptionCreate",
                {"topic": topic, "webhookSubscription": {"uri": address, "format": "JSON"}},
            )
            ids.append(created["webhookSubscription"]["id"])
        return ids

    # -- orders listed ------------------------------------------------------------------

    def orders_since(self, cursor: str | None, limit: int = 50) -> OrderPage:
        """Orders changed since the cursor, oldest change first, each listed once.

        The cursor is `<since>|<endCursor>|<ids>|<listed>|<last>`: a listing searches
        `updated_at:>='<since>'` (sortKey UPDATED_AT) and follows Shopify's `endCursor` page
        by page; `<ids>` are the orders changed at `<since>` itself that an earlier listing
        already gave (the search's granularity is the second, so they come again and are
        dropped); `<listed>` counts the listing's orders, `<last>` is its last one's change. At its last page, or `LISTING_DEPTH` orders deep (Shopify documents a
        25,000-object pagination limit), the next listing starts at the newest change seen,
        with the ids changed in that second. When that second's orders began on an
        earlier page, or more share it than a cursor holds, the listing goes on from its
        `endCursor` instead: Shopify's cursor continues the same order, so an order changed
        later sorts after it and nothing is listed twice."""
        since, after, skipped, listed, last = _read_cursor(cursor)
        data = self.client.graphql(
            queries.ORDERS,
            {
                "first": min(limit, queries.ORDERS_PER_PAGE),
                "after": after or None,
                "query": f"updated_at:>='{since}'",
            },
        )
        page = data["orders"]
        fresh = [
            node
            for node in page["nodes"]
            if not (_same_time(node.get("updatedAt"), since) and _number(node) in skipped)
        ]
        orders, unreadable = read_orders(fresh, mapping.order_from_graphql)
        end_cursor = page["pageInfo"].get("endCursor") or after
        listed += len(page["nodes"])
        nodes = page["nodes"]
        going_on = _write_cursor(
            since, end_cursor, skipped, listed, nodes[-1]["updatedAt"] if nodes else last
        )
        if page["pageInfo"]["hasNextPage"] and listed < LISTING_DEPTH:
            return OrderPage(orders, going_on, unreadable)
        newest, ids = _tail(nodes, since, skipped)
        # Restart only if this page holds every order of the newest second the listing saw.
        if nodes and not _same_time(last, newest) and len(ids) <= MAX_SKIPPED:
            return OrderPage(orders, _write_cursor(newest, "", ids, 0, ""), unreadable)
        return OrderPage(orders, going_on, unreadable)

    # -- written back -------------------------------------------------------------------

    def write_fulfilment(self, fulfilment: Fulfilment) -> str:
        """Fulfils every open fulfillment order of the order with the parcel's tracking;
        returns the Fulfillment GID. A fulfillment already carrying this tracking number
        (an earlier attempt that did reach Shopify) is returned instead of a second one. A
        later parcel of an order already fulfilled (we do not split lines) is added to the
        last fulfillment's tracking numbers, which Shopify shows the customer each."""
        order = self._order_fulfilment(fulfilment.source_order_id)
        done = self._fulfillment_with(order, fulfilment.tracking_number)
        if done:
            return done
        open_orders = [
            fo["id"] for fo in order["fulfillmentOrders"]["nodes"] if fo["status"] in FULFILLABLE
        ]
        earlier = order.get("fulfillments") or []
        if not open_orders and earlier:  # another parcel of an order already fulfilled whole
            updated = self._mutate(
                queries.FULFILLMENT_TRACKING_UPDATE,
                "fulfillmentTrackingInfoUpdate",
                mapping.added_parcel(earlier[-1], fulfilment),
            )
            return updated["fulfillment"]["id"]
        if not open_orders:
            raise ChannelResponseError(
                f"order {fulfilment.source_order_id} has no open fulfillment order to fulfil",
                channel=self.name,
            )
        created = self._mutate(
            queries.FULFILLMENT_CREATE,
            "fulfillmentCreate",
            {"fulfillment": mapping.fulfillment_input(fulfilment, open_orders)},
        )
        return created["fulfillment"]["id"]

    def write_tracking_event(self, event: FulfilmentEvent) -> None:
        """A milestone on the order's timeline; one already there (same status and time)
        is not written twice."""
        status = event_status(event.status, event.delayed)
        if status is None:
            return
        ref = event.fulfilment_ref or self._fulfillment_with(
            self._order_fulfilment(event.source_order_id), event.tracking_number
        )
        if not ref:
            raise ChannelResponseError(
                f"order {event.source_order_id} has no fulfillment with tracking number "
                f"{event.tracking_number}",
                channel=self.name,
            )
        fields = mapping.fulfillment_event_input(
            dataclasses.replace(event, fulfilment_ref=ref), status
        )
        data = self.client.graphql(queries.FULFILLMENT_EVENTS, {"id": fields["fulfillmentId"]})
        seen = (data.get("fulfillment") or {}).get("events", {}).get("nodes", [])
        if any(
            e["status"] == status and _at(e.get("happenedAt")) == event.occurred_at for e in seen
        ):
            return
        self._mutate(
            queries.FULFILLMENT_EVENT_CREATE, "fulfillmentEventCreate", {"fulfillmentEvent": fields}
        )

    def write_refund(self, refund: Refund) -> str:
        """`refundCreate` with the transactions Shopify suggests for the returned lines;
        the refund's note carries the idempotency key, so a repeat finds the first."""
        order_gid = mapping.gid("Order", refund.source_order_id)
        data = self.client.graphql(
            queries.SUGGESTED_REFUND,
            {"id": order_gid, "refundLineItems": mapping.refund_line_items(refund)},
        )
        order = data.get("order") or {}
        earlier = refund.made_before(order.get("refunds") or ())
        if earlier:
            return earlier
        suggested = (order.get("suggestedRefund") or {}).get("suggestedTransactions") or []
        try:
            refund_input = mapping.refund_input(refund, order_gid, suggested)
        except (ValueError, KeyError, TypeError) as exc:
            raise ChannelResponseError(
                f"cannot refund order {refund.source_order_id}: {exc}", channel=self.name
            ) from exc
        created = self._mutate(queries.REFUND_CREATE, "refundCreate", {"input": refund_input})
        return created["refund"]["id"]

    # -- helpers ------------------------------------------------------------------------

    def _mutate(self, document: str, name: str, variables: dict[str, Any]) -> dict[str, Any]:
        """The mutation's payload; its `userErrors` (Shopify refused: repeating will not
        help) -> a non-retryable ChannelResponseError with Shopify's messages."""
        payload = self.client.graphql(document, variables).get(name) or {}
        errors = payload.get("userErrors") or []
        if errors:
            messages = "; ".join(
                f"{'.'.join(e.get('field') or ())}: {e.get('message')}".lstrip(": ") for e in errors
            )
            raise ChannelResponseError(f"shopify {name}: {messages}", channel=self.name)
        return payload

    def _order_fulfilment(self, order_id: str) -> dict[str, Any]:
        data = self.client.graphql(queries.ORDER_FULFILMENT, {"id": mapping.gid("Order", order_id)})
        if not data.get("order"):
            raise ChannelResponseError(f"shopify has no order {order_id}", channel=self.name)
        return data["order"]

    @staticmethod
    def _fulfillment_with(order: dict[str, Any], tracking_number: str) -> str:
        for fulfillment in order.get("fulfillments") or ():
            if any(
                t.get("number") == tracking_number for t in fulfillment.get("trackingInfo") or ()
            ):
                return fulfillment["id"]
        return ""


def _read_cursor(cursor: str | None) -> tuple[str, str, frozenset[str], int, str]:
    """`since|endCursor|ids|listed|last`; the earlier `since|endCursor` form reads too."""
    since, after, ids, listed, last = ((cursor or "").split("|") + [""] * 5)[:5]
    skipped = frozenset(i for i in ids.split(",") if i)
    return since or EPOCH, after, skipped, int(listed or 0), last


def _write_cursor(since: str, after: str, ids: Iterable[str], listed: int, last: str) -> str:
    return f"{since}|{after}|{','.join(sorted(ids))}|{listed}|{last}"


def _tail(nodes: list[dict[str, Any]], since: str, skipped: frozenset[str]) -> tuple[str, set[str]]:
    """The newest change on a listing's last page and the orders changed in that second
    (with those of an earlier listing when it is still the cursor's second)."""
    newest = max((n["updatedAt"] for n in nodes if n.get("updatedAt")), default=since, key=_at_key)
    ids = {_number(n) for n in nodes if _same_time(n.get("updatedAt"), newest)}
    return newest, ids | skipped if _same_time(newest, since) else ids


def _number(node: dict[str, Any]) -> str:
    return str(node.get("id", "")).rsplit("/", 1)[-1]


def _at_key(value: str) -> datetime:
    return _at(value) or datetime.min.replace(tzinfo=UTC)


def _same_time(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and _at(a) == _at(b)


def _at(value: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        return None
