"""Domain events: what happened to a shipment, for notifications, alerts, the failed-delivery
workflow and returns to react to. Published through the outbox, so each is handled at least
once and handlers must be idempotent (dedupe on `key`)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date, datetime
from functools import cache
from typing import Any, ClassVar

from shipflow.domain.tracking import Reason, Status, TrackingEvent


@dataclass(frozen=True, kw_only=True)
class DomainEvent:
    topic: ClassVar[str] = ""

    brand_id: str
    shipment_id: str
    occurred_at: datetime

    @property
    def key(self) -> str:
        """Identifies this event for de-duplication by its consumers."""
        return f"{self.topic}:{self.shipment_id}:{self.occurred_at.isoformat()}"

    def payload(self) -> dict[str, Any]:
        # Flat fields only, so no deep copy (asdict's) when a sweep publishes thousands; the
        # names read once per class, not from `fields` for every event.
        cls: type = type(self)  # plain `type`: mypy takes a dataclass's own `__hash__` for it
        data = {name: getattr(self, name) for name in _field_names(cls)}
        for name, value in data.items():
            if isinstance(value, date):  # a datetime too (one class: a union checks slower)
                data[name] = value.isoformat()
        return data


@cache
def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls))


@dataclass(frozen=True, kw_only=True)
class ShipmentShipped(DomainEvent):
    topic: ClassVar[str] = "shipment.shipped"
    predicted_date: date | None = None


@dataclass(frozen=True, kw_only=True)
class OutForDelivery(DomainEvent):
    topic: ClassVar[str] = "shipment.out_for_delivery"


@dataclass(frozen=True, kw_only=True)
class Delivered(DomainEvent):
    topic: ClassVar[str] = "shipment.delivered"


@dataclass(frozen=True, kw_only=True)
class DeliveryAttemptFailed(DomainEvent):
    topic: ClassVar[str] = "shipment.attempt_failed"
    reason: Reason | None = None


@dataclass(frozen=True, kw_only=True)
class AvailableForPickup(DomainEvent):
    """Ready for the customer at a pickup point: which one (`PickupPoint` as a dict: id,
    name, network, address, hours) and the day it goes back if nobody collects it."""

    topic: ClassVar[str] = "shipment.available_for_pickup"
    pickup_point: dict[str, Any] | None = None
    pickup_deadline: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class ShipmentException(DomainEvent):
    topic: ClassVar[str] = "shipment.exception"
    reason: Reason | None = None


@dataclass(frozen=True, kw_only=True)
class ReturningToSender(DomainEvent):
    topic: ClassVar[str] = "shipment.returning_to_sender"
    reason: Reason | None = None  # not_collected, cod_refused: a failed delivery to follow up


@dataclass(frozen=True, kw_only=True)
class ReturnedToSender(DomainEvent):
    topic: ClassVar[str] = "shipment.returned_to_sender"


@dataclass(frozen=True, kw_only=True)
class ShipmentDelayed(DomainEvent):
    topic: ClassVar[str] = "shipment.delayed"
    promised_date: date | None = None
    predicted_date: date | None = None
    why: str = ""

    @property
    def key(self) -> str:
        """Once per shipment and promise: a second delay of the same promise is no news."""
        return f"{self.topic}:{self.shipment_id}:{self.promised_date}"


@dataclass(frozen=True, kw_only=True)
class ShipmentStatusChanged(DomainEvent):
    """Every applied status change, for consumers that want them all (webhooks out)."""

    topic: ClassVar[str] = "shipment.status_changed"
    previous: Status
    status: Status
    reason: Reason | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """With the status: one update may cross two in the same second ("out for delivery"
        and "delivered" scanned together)."""
        return f"{self.topic}:{self.shipment_id}:{self.status}:{self.occurred_at.isoformat()}"


@dataclass(frozen=True, kw_only=True)
class ShipmentTracked(DomainEvent):
    """New carrier events were stored for a shipment (its status may be unchanged). Handled
    in the transaction that stored them, never through the outbox: what reacts (the delivery
    date, delay detection) must see the shipment as the events left it."""

    topic: ClassVar[str] = "shipment.tracked"
    events: tuple[TrackingEvent, ...]  # every stored event of the shipment, in carrier time
    estimated_delivery: datetime | None = None  # the carrier's own estimate, if it gave one


@dataclass(frozen=True, kw_only=True)
class StoreWebhook:
    """News for the brand's store (`return.in_transit`, `return.received`, `refund.requested`),
    POSTed signed to the store's URL through the outbox; `subject_id`: the return or the ops
    action it is about."""

    topic: ClassVar[str] = "store.webhook"

    brand_id: str
    subject_id: str
    event: str
    url: str
    data: dict[str, Any]

    @property
    def key(self) -> str:
        return f"{self.event}:{self.subject_id}"

    def payload(self) -> dict[str, Any]:
        return {"url": self.url, "event": self.event, "data": self.data}


@dataclass(frozen=True, kw_only=True)
class ShopRefund:
    """A received return to refund in the shop its order came from (the shop's account opts
    in with `refunds: true`; otherwise the store hears of it by `StoreWebhook`)."""

    topic: ClassVar[str] = "shop.refund"

    brand_id: str
    return_id: str

    @property
    def key(self) -> str:
        return f"{self.topic}:{self.return_id}"

    def payload(self) -> dict[str, Any]:
        return {"return_id": self.return_id}


@dataclass(frozen=True, kw_only=True)
class OpsRefund:
    """A refund ops decided on (a parcel never received), to make in the shop the order came
    from, as `ShopRefund` does for a return; `action_id` is the audited ops action."""

    topic: ClassVar[str] = "shop.ops_refund"

    brand_id: str
    action_id: str

    @property
    def key(self) -> str:
        return f"{self.topic}:{self.action_id}"

    def payload(self) -> dict[str, Any]:
        return {"action_id": self.action_id}


class OpsNotification:
    """An ops alert, or a digest of many, to send on one of the brand's channels. The alert
    cycle queues these in bulk (`shipflow.delays.routing`); the payload names the channel, the
    stage (new or escalation), the alert ids and their total."""

    topic: ClassVar[str] = "ops.alert"


# The milestone event, if any, that entering each status raises (besides StatusChanged).
MILESTONES: dict[Status, type[DomainEvent]] = {
    Status.IN_TRANSIT: ShipmentShipped,
    Status.OUT_FOR_DELIVERY: OutForDelivery,
    Status.DELIVERED: Delivered,
    Status.ATTEMPT_FAILED: DeliveryAttemptFailed,
    Status.AVAILABLE_FOR_PICKUP: AvailableForPickup,
    Status.EXCEPTION: ShipmentException,
    Status.RETURNING_TO_SENDER: ReturningToSender,
    Status.RETURNED_TO_SENDER: ReturnedToSender,
}
