"""The domain: plain dataclasses and enums. No I/O, no Flask, no SQLAlchemy."""

from shipflow.domain.inbound import WebhookRequest
from shipflow.domain.model import (
    Address,
    CarrierService,
    Money,
    Parcel,
    PickupPoint,
    ServiceLevel,
    Warehouse,
)
from shipflow.domain.tracking import (
    TERMINAL_STATUSES,
    ProofOfDelivery,
    Reason,
    Status,
    TrackingEvent,
    TrackingUpdate,
    Transition,
    UnreadableItem,
    apply_event,
)

__all__ = [
    "TERMINAL_STATUSES",
    "Address",
    "CarrierService",
    "Money",
    "Parcel",
    "PickupPoint",
    "ProofOfDelivery",
    "Reason",
    "ServiceLevel",
    "Status",
    "TrackingEvent",
    "TrackingUpdate",
    "Warehouse",
    "Transition",
    "UnreadableItem",
    "WebhookRequest",
    "apply_event",
]
