"""The one tracking language of every carrier, and the shipment state machine.

Carriers speak hundreds of codes; shipflow speaks the twelve statuses of DESIGN.md. The
state machine decides whether an incoming event moves a shipment's status: every event is
kept, but a late or stale scan never moves a parcel backwards.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from shipflow.domain.model import PickupPoint


class Status(enum.StrEnum):
    PENDING = "pending"
    INFO_RECEIVED = "info_received"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    ATTEMPT_FAILED = "attempt_failed"
    AVAILABLE_FOR_PICKUP = "available_for_pickup"
    DELIVERED = "delivered"
    EXCEPTION = "exception"
    RETURNING_TO_SENDER = "returning_to_sender"
    RETURNED_TO_SENDER = "returned_to_sender"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


class Reason(enum.StrEnum):
    CUSTOMER_UNAVAILABLE = "customer_unavailable"
    ADDRESS_INCORRECT = "address_incorrect"
    REFUSED = "refused"
    BUSINESS_CLOSED = "business_closed"
    ACCESS_PROBLEM = "access_problem"
    WEATHER = "weather"
    CUSTOMS_HOLD = "customs_hold"
    DAMAGED = "damaged"
    LOST = "lost"
    CARRIER_DELAY = "carrier_delay"
    HELD_BY_CARRIER = "held_by_carrier"
    PAYMENT_REQUIRED = "payment_required"
    COD_REFUSED = "cod_refused"  # the customer would not pay the cash-on-delivery amount
    NOT_COLLECTED = "not_collected"  # left at a pickup point past its deadline
    OTHER = "other"


TERMINAL_STATUSES = frozenset(
    {Status.DELIVERED, Status.RETURNED_TO_SENDER, Status.EXPIRED, Status.CANCELLED}
)

# How far along the journey each status is; a move to a lower rank is a stale scan.
# Statuses sharing a rank may follow each other freely (a re-attempt after a failed one).
_PROGRESS = {
    Status.PENDING: 0,
    Status.INFO_RECEIVED: 1,
    Status.IN_TRANSIT: 2,
    Status.EXCEPTION: 2,
    Status.OUT_FOR_DELIVERY: 3,
    Status.ATTEMPT_FAILED: 3,
    Status.AVAILABLE_FOR_PICKUP: 3,
    Status.RETURNING_TO_SENDER: 4,
    Status.DELIVERED: 5,
    Status.RETURNED_TO_SENDER: 5,
    Status.CANCELLED: 5,
    Status.EXPIRED: 5,
}

# Carrier events that reopen a terminal state: a parcel scanned again after "expired",
# a delivered parcel that goes back to the sender (refused at the door after the scan).
_REOPENINGS = {
    Status.EXPIRED: frozenset(Status) - {Status.PENDING, Status.EXPIRED},
    Status.DELIVERED: frozenset({Status.RETURNING_TO_SENDER, Status.RETURNED_TO_SENDER}),
}


@dataclass(frozen=True, slots=True)
class TrackingEvent:
    """One normalized carrier event. `occurred_at` is the carrier's time, zone-aware."""

    status: Status
    occurred_at: datetime
    raw_code: str
    raw_text: str = ""
    reason: Reason | None = None
    location: str = ""
    city: str = ""
    state: str = ""
    postal_code: str = ""
    country: str = ""

    def __post_init__(self) -> None:
        if self.occurred_at.tzinfo is None or self.occurred_at.utcoffset() is None:
            raise ValueError("occurred_at must be time-zone aware")

    @property
    def dedupe_key(self) -> tuple:
        """What makes two reports the same event, whichever path (webhook or poll) brought it."""
        return (self.raw_code, self.occurred_at.timestamp(), self.status.value)


@dataclass(frozen=True, slots=True)
class ProofOfDelivery:
    """What the carrier shows for a delivery: who signed, where the parcel was left, and a
    photo, either as a link (`photo_url`) or as the image itself (`photo`, base64)."""

    signed_by: str = ""
    photo_url: str = ""
    left_at: str = ""
    photo: str = ""


@dataclass(frozen=True, slots=True)
class UnreadableItem:
    """A part of a carrier payload (an event) that could not be read: kept raw, so one bad
    event neither sinks the rest of the payload nor is lost."""

    what: str
    raw: str  # the carrier's JSON for that item
    error: str


@dataclass(frozen=True, slots=True)
class TrackingUpdate:
    """What one carrier payload says about one tracking number; `unreadable` holds the events
    the adapter had to skip."""

    carrier: str
    tracking_number: str
    events: tuple[TrackingEvent, ...] = ()
    estimated_delivery: datetime | None = None
    service: str = ""
    proof_of_delivery: ProofOfDelivery | None = None
    pickup_point: PickupPoint | None = None  # where the parcel waits (or will wait)
    pickup_deadline: datetime | None = None  # collect by then, or it goes back
    extra: dict = field(default_factory=dict)
    unreadable: tuple[UnreadableItem, ...] = ()

    @property
    def latest(self) -> TrackingEvent | None:
        return max(self.events, key=lambda e: e.occurred_at, default=None)


@dataclass(frozen=True, slots=True)
class Transition:
    """The state machine's verdict on one event."""

    previous: Status
    status: Status
    moved: bool
    why: str


def apply_event(current: Status, event: TrackingEvent, latest_at: datetime | None) -> Transition:
    """Decide the shipment's status after `event`, given its `current` status and the time
    of the newest event already applied (`latest_at`). The event is stored either way."""
    new = event.status
    if latest_at is not None and event.occurred_at < latest_at:
        return Transition(current, current, False, "older than the newest applied event")
    if new == current:
        return Transition(current, current, False, "same status")
    if current in TERMINAL_STATUSES:
        if new in _REOPENINGS.get(current, ()):
            return Transition(current, new, True, f"carrier reopened {current}")
        return Transition(current, current, False, f"{current} is terminal")
    if new == Status.EXPIRED or _PROGRESS[new] >= _PROGRESS[current]:
        return Transition(current, new, True, "forward")
    if current in (Status.EXCEPTION, Status.ATTEMPT_FAILED, Status.AVAILABLE_FOR_PICKUP):
        # A held or failed parcel resumes its journey (back on a truck, back in the network).
        return Transition(current, new, True, f"resumed after {current}")
    if (current, new) == (Status.RETURNING_TO_SENDER, Status.AVAILABLE_FOR_PICKUP):
        # The return was stopped and the parcel sent to a store the customer chose instead
        # (ECPay's store change after an uncollected parcel or a closed store).
        return Transition(current, new, True, "sent to a new pickup point")
    return Transition(current, current, False, f"{new} would move back from {current}")
