"""The sandbox shop as an `OrderSource`."""

from __future__ import annotations

import hmac
import json

from channels.base import (
    Capability,
    ChannelAccount,
    ChannelError,
    ChannelResponseError,
    Fulfilment,
    FulfilmentEvent,
    InboundOrder,
    OrderPage,
    OrderSource,
    WebhookRequest,
    WebhookSignatureError,
)
from channels.sandbox import mapping
from channels.sandbox.shop import (
    DEFAULT_NETWORK,
    DOMAIN_HEADER,
    ORDER_TOPICS,
    SIGNATURE_HEADER,
    TOPIC_HEADER,
    SandboxShop,
    ShopNetwork,
    signature,
)


class SandboxOrderSource(OrderSource):
    name = "sandbox"
    capabilities = frozenset(Capability)

    def __init__(self, account: ChannelAccount, network: ShopNetwork | None = None) -> None:
        super().__init__(account)
        self.network = network or DEFAULT_NETWORK

    def verify_webhook(self, request: WebhookRequest) -> None:
        secret = self.account.credentials.get("webhook_secret", "")
        if not secret:  # anyone can compute an HMAC with an empty key
            raise WebhookSignatureError(
                "no webhook secret: set the channel account's credentials.webhook_secret",
                channel=self.name,
            )
        given = request.header(SIGNATURE_HEADER)
        if not given or not hmac.compare_digest(given, signature(secret, request.body)):
            raise WebhookSignatureError("sandbox shop signature wrong", channel=self.name)
        shop = request.header(DOMAIN_HEADER)
        if shop != self.account.shop:
            raise WebhookSignatureError(
                f"webhook is from shop {shop!r}, this account is {self.account.shop!r}",
                channel=self.name,
            )

    def parse_order(self, request: WebhookRequest) -> InboundOrder:
        topic = request.header(TOPIC_HEADER)
        if topic not in ORDER_TOPICS:
            raise ChannelResponseError(f"not an order webhook: {topic!r}", channel=self.name)
        try:
            return mapping.inbound_order(json.loads(request.body))
        except (ValueError, KeyError, TypeError) as exc:
            raise ChannelResponseError(f"unreadable order: {exc!r}", channel=self.name) from exc

    def orders_since(self, cursor: str | None, limit: int = 50) -> OrderPage:
        orders, position = self._shop().changed_since(int(cursor or 0), limit)
        return OrderPage([mapping.inbound_order(o) for o in orders], str(position))

    def write_fulfilment(self, fulfilment: Fulfilment) -> str:
        return self._shop().fulfil(fulfilment.idempotency_key, mapping.fulfilment_json(fulfilment))

    def write_tracking_event(self, event: FulfilmentEvent) -> None:
        self._shop().record_event(event.idempotency_key, mapping.event_json(event))

    def _shop(self) -> SandboxShop:
        shop = self.network.shops.get(self.account.shop)
        if shop is None:  # like a platform that is down: the outbox tries again later
            raise ChannelError(f"no sandbox shop {self.account.shop!r} is open", retryable=True)
        return shop
