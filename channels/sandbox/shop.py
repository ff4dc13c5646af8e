"""The shop side of the sandbox channel: a platform holding a shop's orders, sending signed
order webhooks Shopify-style and keeping what shipflow writes back, for tests to read.

Deliveries carry `X-Sandbox-Shop-Domain` (which shop), `X-Sandbox-Shop-Topic` and
`X-Sandbox-Shop-Hmac-Sha256`, the base64 HMAC-SHA256 of the raw body with the shop's secret,
and `X-Sandbox-Shop-Webhook-Id`, the same for every retry of one delivery."""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

from channels.webhook_auth import webhook_signature

DOMAIN_HEADER = "X-Sandbox-Shop-Domain"
TOPIC_HEADER = "X-Sandbox-Shop-Topic"
SIGNATURE_HEADER = "X-Sandbox-Shop-Hmac-Sha256"
DELIVERY_HEADER = "X-Sandbox-Shop-Webhook-Id"


@dataclass
class SandboxShop:
    domain: str
    webhook_secret: str
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)  # the shop's id -> order
    fulfilments: dict[str, dict[str, Any]] = field(default_factory=dict)  # by idempotency key
    tracking_events: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)
    access_token: str = ""  # set: API calls must carry it (credentials.access_token)
    throttled_calls: int = 0  # the next this many API calls are refused with a 429
    retry_after: float = 2.0  # what a refused call says to wait, in seconds
    _changes: list[str] = field(default_factory=list)  # order ids, in the order they changed
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def place(self, order: dict[str, Any], topic: str = "orders/create") -> tuple[dict, bytes]:
        """Keep (or update) an order and return the signed webhook announcing it."""
        with self._lock:
            self.orders[str(order["id"])] = order
            self._changes.append(str(order["id"]))
        return self.webhook(order, topic)

    def webhook(self, order: dict[str, Any], topic: str = "orders/create") -> tuple[dict, bytes]:
        body = json.dumps(order).encode()
        headers = {
            "Content-Type": "application/json",
            DOMAIN_HEADER: self.domain,
            TOPIC_HEADER: topic,
            DELIVERY_HEADER: str(uuid.uuid4()),
            SIGNATURE_HEADER: webhook_signature(self.webhook_secret, body),
        }
        return headers, body

    def changed_since(self, cursor: int, limit: int) -> tuple[list[dict[str, Any]], int]:
        """Orders changed after position `cursor` of the change log, and the next cursor."""
        with self._lock:
            ids = self._changes[cursor : cursor + limit]
            return [self.orders[i] for i in ids], cursor + len(ids)

    def throttle(self, calls: int, retry_after: float = 2.0) -> None:
        """Refuse the next `calls` API calls, as a platform over its rate limit does."""
        with self._lock:
            self.throttled_calls, self.retry_after = calls, retry_after

    def admit(self) -> float | None:
        """One API call: None if it may go on, else the seconds it is told to wait."""
        with self._lock:
            if self.throttled_calls <= 0:
                return None
            self.throttled_calls -= 1
            return self.retry_after

    def refund(self, key: str, refund: dict[str, Any]) -> str:
        with self._lock:
            self.refunds.setdefault(key, {**refund, "id": f"ref_{len(self.refunds)}"})
            return self.refunds[key]["id"]

    def fulfil(self, key: str, fulfilment: dict[str, Any]) -> str:
        """The same key twice is one fulfilment (the platform dedupes, as Shopify does)."""
        with self._lock:
            self.fulfilments.setdefault(key, {**fulfilment, "id": f"ful_{len(self.fulfilments)}"})
            return self.fulfilments[key]["id"]

    def record_event(self, key: str, event: dict[str, Any]) -> None:
        with self._lock:
            self.tracking_events.setdefault(key, event)


@dataclass
class ShopNetwork:
    """Every sandbox shop of the process, by domain, so a source built per job finds its shop."""

    shops: dict[str, SandboxShop] = field(default_factory=dict)

    def open(self, domain: str, webhook_secret: str) -> SandboxShop:
        return self.shops.setdefault(domain, SandboxShop(domain, webhook_secret))

    def close(self, domain: str) -> None:
        self.shops.pop(domain, None)


DEFAULT_NETWORK = ShopNetwork()
