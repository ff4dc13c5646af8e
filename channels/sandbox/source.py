"""The sandbox shop as an `OrderSource`."""

from __future__ import annotations

import json

from channels.base import (
    Capability,
    ChannelAccount,
    ChannelAuthError,
    ChannelError,
    ChannelRateLimited,
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
from channels.sandbox import mapping
from channels.sandbox.shop import (
    DEFAULT_NETWORK,
    DELIVERY_HEADER,
    DOMAIN_HEADER,
    SIGNATURE_HEADER,
    TOPIC_HEADER,
    SandboxShop,
    ShopNetwork,
)
from channels.sandbox.units import TOPICS
from channels.webhook_auth import require_own_shop, signing_secret, webhook_signature
from shipflow.signatures import same_secret


class SandboxOrderSource(OrderSource):
    name = "sandbox"
    capabilities = frozenset(Capability)

    def __init__(self, account: ChannelAccount, network: ShopNetwork | None = None) -> None:
        super().__init__(account)
        self.network = network or DEFAULT_NETWORK

    def verify_webhook(self, request: WebhookRequest) -> None:
        secret = signing_secret(self, "webhook_secret")
        given = request.header(SIGNATURE_HEADER)
        if not given or not same_secret(given, webhook_signature(secret, request.body)):
            raise WebhookSignatureError("sandbox shop signature wrong", channel=self.name)
        require_own_shop(self, request.header(DOMAIN_HEADER))

    def parse_webhook(self, request: WebhookRequest) -> ShopNotice:
        topic = TOPICS[self.webhook_topic(request, TOPIC_HEADER, TOPICS)]
        delivery_id = request.header(DELIVERY_HEADER) or ""
        if topic is Topic.UNINSTALLED:
            return ShopNotice(topic, delivery_id)
        with reading_webhook(self.name):
            order = mapping.inbound_order(json.loads(request.body))
        return ShopNotice(topic, delivery_id, order)

    def orders_since(self, cursor: str | None, limit: int = 50) -> OrderPage:
        raws, position = self._shop().changed_since(int(cursor or 0), limit)
        orders, unreadable = read_orders(raws, mapping.inbound_order)
        return OrderPage(orders, str(position), unreadable)

    def write_fulfilment(self, fulfilment: Fulfilment) -> str:
        return self._shop().fulfil(fulfilment.idempotency_key, mapping.fulfilment_json(fulfilment))

    def write_tracking_event(self, event: FulfilmentEvent) -> None:
        self._shop().record_event(event.idempotency_key, mapping.event_json(event))

    def write_refund(self, refund: Refund) -> str:
        return self._shop().refund(refund.idempotency_key, mapping.refund_json(refund))

    def _shop(self) -> SandboxShop:
        """The shop for one API call: open, and not throttling us."""
        shop = self.network.shops.get(self.account.shop)
        if shop is None:  # like a platform that is down: the outbox tries again later
            raise ChannelError(f"no sandbox shop {self.account.shop!r} is open", retryable=True)
        if shop.access_token and self.account.credentials.get("access_token") != shop.access_token:
            raise ChannelAuthError("sandbox shop refused the access token", channel=self.name)
        wait = shop.admit()
        if wait is not None:
            raise ChannelRateLimited(
                "sandbox shop: 429 Too Many Requests", channel=self.name, retry_after=wait
            )
        return shop
