"""The order-source interface every channel implements, the data it speaks and its errors.

A source declares its capabilities; calling an operation it lacks raises `NotSupported`.
Nothing here knows of the database or the web: the service side (`shipflow.channel_orders`)
turns an `InboundOrder` into an order and an outbox message into a write-back.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar

from shipflow.domain import Address, Status, WebhookRequest

__all__ = [
    "Capability",
    "ChannelAccount",
    "ChannelError",
    "ChannelResponseError",
    "Fulfilment",
    "FulfilmentEvent",
    "InboundLine",
    "InboundOrder",
    "NotSupported",
    "OrderPage",
    "OrderSource",
    "WebhookRequest",
    "WebhookSignatureError",
]


class Capability(enum.StrEnum):
    ORDER_WEBHOOKS = "order_webhooks"
    ORDER_LISTING = "order_listing"
    FULFILMENTS = "fulfilments"
    TRACKING_EVENTS = "tracking_events"


class ChannelError(Exception):
    """A channel call failed; `retryable` when trying again later may succeed."""

    def __init__(self, message: str, *, channel: str = "", retryable: bool = False) -> None:
        super().__init__(message)
        self.channel = channel
        self.retryable = retryable


class ChannelResponseError(ChannelError):
    """The shop sent something we cannot read (not JSON, wrong shape, unknown topic)."""


class WebhookSignatureError(ChannelError):
    """A webhook is unsigned, wrongly signed or for another shop: refuse it, store nothing."""


class NotSupported(ChannelError):
    """The platform (or this source) does not offer the operation."""


@dataclass(frozen=True, slots=True)
class ChannelAccount:
    """One brand's connection to one shop: who the shop is at its platform (e.g.
    `my-store.myshopify.com`) and the credentials (from configuration, never the database)."""

    channel: str
    account_id: str
    shop: str
    credentials: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class InboundLine:
    sku: str
    quantity: int
    unit_price: int = 0  # minor units
    name: str = ""


@dataclass(frozen=True, slots=True)
class InboundOrder:
    """An order as the shop has it, in shipflow's terms: what `shipflow.orders` creates.
    `source_order_id` is the shop's own id, so importing the same order twice is a no-op."""

    source_order_id: str
    order_number: str
    currency: str
    ship_to: Address
    lines: tuple[InboundLine, ...]
    placed_at: datetime | None = None
    updated_at: datetime | None = None
    customer_name: str = ""
    customer_email: str = ""
    customer_phone: str = ""
    language: str = "en"


@dataclass(frozen=True, slots=True)
class OrderPage:
    """Orders changed since a cursor, and the cursor to ask with next time."""

    orders: Sequence[InboundOrder]
    cursor: str


@dataclass(frozen=True, slots=True)
class Fulfilment:
    """A shipment of a shop's order, to write back so the shop shows it as fulfilled.
    The shop may see it twice (at-least-once delivery): sources dedupe on `idempotency_key`."""

    source_order_id: str
    carrier: str
    service: str
    tracking_number: str
    idempotency_key: str
    tracking_url: str = ""


@dataclass(frozen=True, slots=True)
class FulfilmentEvent:
    """A milestone of a written-back fulfilment (out for delivery, delivered, ...)."""

    source_order_id: str
    tracking_number: str
    status: Status
    occurred_at: datetime
    idempotency_key: str


class OrderSource:
    """Base class of every channel. Subclasses set `name`, `capabilities` and override the
    operations they support; the rest raise `NotSupported`."""

    name: ClassVar[str] = ""
    capabilities: ClassVar[frozenset[Capability]] = frozenset()

    def __init__(self, account: ChannelAccount) -> None:
        self.account = account

    def supports(self, capability: Capability) -> bool:
        return capability in self.capabilities

    def _unsupported(self, operation: str) -> NotSupported:
        return NotSupported(f"{self.name} does not support {operation}", channel=self.name)

    def verify_webhook(self, request: WebhookRequest) -> None:
        """Raise `WebhookSignatureError` unless the webhook is authentic and from this
        account's shop."""
        raise self._unsupported("webhooks")

    def parse_order(self, request: WebhookRequest) -> InboundOrder:
        """The order a verified webhook carries; `ChannelResponseError` if it carries none."""
        raise self._unsupported("webhooks")

    def orders_since(self, cursor: str | None, limit: int = 50) -> OrderPage:
        """Orders created or changed after `cursor` (None: from the start), oldest first."""
        raise self._unsupported("listing orders")

    def write_fulfilment(self, fulfilment: Fulfilment) -> str:
        """Mark the shop's order fulfilled with this shipment; returns the shop's reference."""
        raise self._unsupported("fulfilments")

    def write_tracking_event(self, event: FulfilmentEvent) -> None:
        raise self._unsupported("tracking events")
