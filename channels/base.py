"""The order-source interface every channel implements, the data it speaks and its errors.

A source declares its capabilities; calling an operation it lacks raises `NotSupported`.
Nothing here knows of the database or the web: the service side (`shipflow.channel_orders`)
turns an `InboundOrder` into an order and an outbox message into a write-back.
"""

from __future__ import annotations

import enum
from collections.abc import Container, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from shipflow.domain import Address, PickupPoint, Status, WebhookRequest

__all__ = [
    "Capability",
    "ChannelAccount",
    "ChannelAuthError",
    "ChannelError",
    "ChannelRateLimited",
    "ChannelResponseError",
    "Fulfilment",
    "FulfilmentEvent",
    "InboundLine",
    "InboundOrder",
    "NotSupported",
    "OrderPage",
    "OrderSource",
    "Refund",
    "ShopNotice",
    "Topic",
    "WebhookRequest",
    "WebhookPing",
    "WebhookSignatureError",
]


class Capability(enum.StrEnum):
    ORDER_WEBHOOKS = "order_webhooks"
    ORDER_LISTING = "order_listing"
    FULFILMENTS = "fulfilments"
    TRACKING_EVENTS = "tracking_events"
    WEBHOOK_SUBSCRIPTIONS = "webhook_subscriptions"  # we create them through the platform's API
    REFUNDS = "refunds"


class Topic(enum.StrEnum):
    """What a shop's webhook is about, in shipflow's words (each platform names them its way)."""

    ORDER_CREATED = "order_created"
    ORDER_PAID = "order_paid"
    ORDER_UPDATED = "order_updated"
    ORDER_CANCELLED = "order_cancelled"
    UNINSTALLED = "uninstalled"  # the shop removed our app: disable the account


class ChannelError(Exception):
    """A channel call failed; `retryable` when trying again later may succeed."""

    def __init__(self, message: str, *, channel: str = "", retryable: bool = False) -> None:
        super().__init__(message)
        self.channel = channel
        self.retryable = retryable


class ChannelRateLimited(ChannelError):
    """The platform throttled us (HTTP 429, GraphQL THROTTLED): wait `retry_after` seconds."""

    def __init__(self, message: str, *, channel: str = "", retry_after: float | None = None):
        super().__init__(message, channel=channel, retryable=True)
        self.retry_after = retry_after


class ChannelAuthError(ChannelError):
    """The platform refused our credentials (revoked token, uninstalled app)."""


class ChannelResponseError(ChannelError):
    """The shop sent something we cannot read (not JSON, wrong shape, unknown topic)."""


class WebhookSignatureError(ChannelError):
    """A webhook is unsigned, wrongly signed or for another shop: refuse it, store nothing."""


class WebhookPing(WebhookSignatureError):
    """An unsigned reachability test, not an event: WooCommerce posts `webhook_id=<id>` to a
    new webhook's URL and keeps the webhook pending until it gets HTTP 200. The intake
    answers it 200 and stores nothing; one that does not know pings refuses it as unsigned."""


class NotSupported(ChannelError):
    """The platform (or this source) does not offer the operation."""


@dataclass(frozen=True, slots=True)
class ChannelAccount:
    """One brand's connection to one shop: who the shop is at its platform (e.g.
    `my-store.myshopify.com`) and the credentials (from configuration, or given through the
    API, the CLI or an app install and stored encrypted: `shipflow.secrets_at_rest`)."""

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
    weight_g: int | None = None  # None: the shop did not say
    source_line_id: str = ""  # the shop's id of the line (write-back and refunds name it)


@dataclass(frozen=True, slots=True)
class InboundOrder:
    """An order as the shop has it, in shipflow's terms: what `shipflow.orders` creates.
    `source_order_id` is the shop's own id, so importing the same order twice is a no-op.

    Mappings are lenient: a field that is missing or unreadable is named in `problems`
    ("shipping_address.zip missing") and the order is still returned, to be kept and marked
    as needing attention; only a payload that is not an order at all raises."""

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
    paid: bool = True  # payment captured or authorized (not: pending, cash on delivery)
    cash_on_delivery: int = 0  # minor units the driver or store collects; 0: prepaid
    cancelled: bool = False
    shipping_method: str = ""  # the checkout's shipping line (its code, else its title)
    pickup_point: PickupPoint | None = None  # a store or locker chosen at checkout
    location_id: str = ""  # the shop's fulfilment location (mapped to a warehouse)
    # Nothing for shipflow to ship: the shop shows every line that ships fulfilled already
    # (a point-of-sale sale, an order fulfilled by hand or by another app, or by us), none of
    # its lines ships (gift cards, digital goods), or it is no order yet (a checkout draft).
    nothing_to_ship: bool = False
    problems: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ShopNotice:
    """What one verified webhook says: its topic, the platform's id of this delivery (the
    same delivery retried keeps it) and the order it carries (None for an uninstall)."""

    topic: Topic
    delivery_id: str
    order: InboundOrder | None = None


@dataclass(frozen=True, slots=True)
class OrderPage:
    """Orders changed since a cursor, and the cursor to ask with next time; the listed
    orders the mapping could not read beside them, so that one does not hold up the rest."""

    orders: Sequence[InboundOrder]
    cursor: str
    unreadable: Sequence[UnreadableOrder] = ()


@dataclass(frozen=True, slots=True)
class UnreadableOrder:
    """A listed order skipped as unreadable: the shop's id for it (blank if it had none) and
    what was wrong, for the ops alert."""

    source_order_id: str
    error: str


@dataclass(frozen=True, slots=True)
class Fulfilment:
    """A shipment of a shop's order, to write back so the shop shows it as fulfilled.
    The shop may see it twice (at-least-once delivery): sources dedupe on `idempotency_key`."""

    source_order_id: str
    carrier: str
    service: str
    tracking_number: str
    idempotency_key: str
    tracking_url: str = ""  # the customer's branded tracking page
    carrier_name: str = ""  # as customers know it ("Black Cat", "UPS")


@dataclass(frozen=True, slots=True)
class FulfilmentEvent:
    """A milestone of a written-back fulfilment (out for delivery, delivered, ...).
    `fulfilment_ref` is what `write_fulfilment` returned for this parcel."""

    source_order_id: str
    tracking_number: str
    status: Status
    occurred_at: datetime
    idempotency_key: str
    fulfilment_ref: str = ""
    delayed: bool = False  # running late: platforms with a "delayed" event say so
    estimated_delivery: datetime | None = None
    city: str = ""
    country: str = ""
    message: str = ""


@dataclass(frozen=True, slots=True)
class Refund:
    """Money back for a received return, created in the shop when the brand opts in.
    `lines` are (source line id, quantity); `amount` in minor units of `currency`."""

    source_order_id: str
    amount: int
    currency: str
    idempotency_key: str
    lines: tuple[tuple[str, int], ...] = ()
    note: str = ""

    @property
    def marker(self) -> str:
        """Written into the refund's note on platforms that take no idempotency key, so a
        repeated request finds the refund it made."""
        return f"[shipflow {self.idempotency_key}]"

    @property
    def marked_note(self) -> str:
        return " ".join(filter(None, (self.note, self.marker)))

    def made_before(self, refunds: Iterable[Mapping[str, Any]]) -> str:
        """The id of the refund among the order's `refunds` whose note carries our marker
        (this one, made by an earlier call), or "" if none does."""
        return next((str(r["id"]) for r in refunds if self.marker in (r.get("note") or "")), "")


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

    def parse_webhook(self, request: WebhookRequest) -> ShopNotice:
        """What a verified webhook says; `ChannelResponseError` if it is not one we read."""
        raise self._unsupported("webhooks")

    def webhook_topic(self, request: WebhookRequest, header: str, topics: Container[str]) -> str:
        """The platform's name of the webhook's topic, in its `header`: one of `topics`, else
        `ChannelResponseError`."""
        topic = request.header(header)
        if topic not in topics:
            raise ChannelResponseError(f"not a topic we read: {topic!r}", channel=self.name)
        return topic

    def subscribe_webhooks(self, address: str) -> list[str]:
        """Create (or keep) the platform's webhook subscriptions for every topic we read,
        delivered to `address`; returns the platform's subscription ids."""
        raise self._unsupported("webhook subscriptions")

    def orders_since(self, cursor: str | None, limit: int = 50) -> OrderPage:
        """Orders created or changed after `cursor` (None: from the start), oldest first."""
        raise self._unsupported("listing orders")

    def write_fulfilment(self, fulfilment: Fulfilment) -> str:
        """Mark the shop's order fulfilled with this shipment; returns the shop's reference."""
        raise self._unsupported("fulfilments")

    def write_tracking_event(self, event: FulfilmentEvent) -> None:
        raise self._unsupported("tracking events")

    def write_refund(self, refund: Refund) -> str:
        """Refund in the shop (a received return); returns the shop's reference."""
        raise self._unsupported("refunds")
