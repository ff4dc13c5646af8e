"""The domain: plain dataclasses and enums. No I/O, no Flask, no SQLAlchemy."""

from shipflow.domain.model import (
    Address,
    Money,
    Parcel,
    ServiceLevel,
)
from shipflow.domain.tracking import (
    TERMINAL_STATUSES,
    Reason,
    Status,
    TrackingEvent,
    TrackingUpdate,
    Transition,
    apply_event,
)

__all__ = [
    "TERMINAL_STATUSES",
    "Address",
    "Money",
    "Parcel",
    "Reason",
    "ServiceLevel",
    "Status",
    "TrackingEvent",
    "TrackingUpdate",
    "Transition",
    "apply_event",
]
