"""The carrier interface every adapter implements, its request/response models and errors.

An adapter declares its capabilities; calling an operation it lacks raises `NotSupported`.
Carrier failures surface as one `CarrierError` hierarchy carrying the carrier's own message.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, ClassVar, Protocol, TypeVar

from shipflow.clock import Clock, SystemClock
from shipflow.domain import (
    Address,
    Money,
    Parcel,
    PickupPoint,
    TrackingUpdate,
    WebhookRequest,
)

T = TypeVar("T")


class Capability(enum.StrEnum):
    RATES = "rates"
    LABELS = "labels"
    CANCEL = "cancel"
    TRACKING_POLL = "tracking_poll"
    WEBHOOKS = "webhooks"
    RETURN_LABELS = "return_labels"
    FAILED_DELIVERY_ACTIONS = "failed_delivery_actions"
    PICKUPS = "pickups"
    PICKUP_POINT_DELIVERY = "pickup_point_delivery"  # to a store or locker the customer chose
    CASH_ON_DELIVERY = "cash_on_delivery"  # the driver or the store collects the amount
    PUSH_SUBSCRIPTIONS = "push_subscriptions"  # pushes only the numbers we subscribe


class CarrierError(Exception):
    """A carrier call failed. `carrier_message` is the carrier's own words."""

    def __init__(
        self,
        message: str,
        *,
        carrier: str = "",
        status_code: int | None = None,
        carrier_code: str = "",
        carrier_message: str = "",
        retryable: bool = False,
    ) -> None:
        super().__init__(message)
        self.carrier = carrier
        self.status_code = status_code
        self.carrier_code = carrier_code
        self.carrier_message = carrier_message
        self.retryable = retryable


class CarrierUnavailable(CarrierError):
    """Timeouts, connection errors, 5xx after retries: try again later, lose nothing."""


class CarrierRateLimited(CarrierUnavailable):
    """429 after retries; `retry_after` seconds if the carrier said."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        super().__init__(message, retryable=True, **kw)
        self.retry_after = retry_after


class CarrierOutcomeUnknown(CarrierError):
    """A purchase or void was sent and no usable answer came back (a timeout, a 5xx, an
    unreadable reply): the carrier may have done it. Never retried: doing it again could
    buy or void twice; someone checks with the carrier first."""


class CarrierAuthError(CarrierError):
    """Credentials rejected even after a token refresh."""


class CarrierRejected(CarrierError):
    """The carrier refused the request (validation, unknown tracking number, ...)."""


class CarrierResponseError(CarrierError):
    """The carrier answered with something we cannot read (malformed JSON, wrong shape)."""


class WebhookSignatureError(CarrierError):
    """A webhook's signature is missing or wrong: reject it, store nothing as an event."""


class NotSupported(CarrierError):
    """The carrier (or this adapter) does not offer the operation."""


@dataclass(frozen=True, slots=True)
class ShipmentRequest:
    shipper: Address
    recipient: Address
    parcels: Sequence[Parcel]
    service: str
    reference: str = ""
    ship_date: date | None = None
    declared_value: Money | None = None
    signature_required: bool = False
    is_return: bool = False
    cash_on_delivery: Money | None = None  # to collect from the customer; None: prepaid
    pickup_point: PickupPoint | None = None  # deliver to this store instead of the address


@dataclass(frozen=True, slots=True)
class RateQuote:
    carrier: str
    service: str
    price: Money
    transit_days: int | None = None
    estimated_delivery: date | None = None


@dataclass(frozen=True, slots=True)
class Label:
    carrier: str
    service: str
    tracking_number: str
    label_format: str  # "PDF", "PNG", "ZPL", "GIF"
    label_data: bytes
    price: Money | None = None
    carrier_shipment_id: str = ""
    qr_code: bytes | None = None


class FailedDeliveryAction(enum.StrEnum):
    REATTEMPT = "reattempt"
    UPDATE_ADDRESS = "update_address"
    HOLD_AT_PICKUP_POINT = "hold_at_pickup_point"
    RETURN_TO_SENDER = "return_to_sender"


@dataclass(frozen=True, slots=True)
class FailedDeliveryInstruction:
    tracking_number: str
    action: FailedDeliveryAction
    reattempt_on: date | None = None
    address: Address | None = None
    pickup_point_id: str = ""
    instructions: str = ""


@dataclass(frozen=True, slots=True)
class PickupRequest:
    address: Address
    pickup_date: date
    ready_at: str = "09:00"
    closes_at: str = "17:00"
    parcel_count: int = 1


@dataclass(frozen=True, slots=True)
class PickupConfirmation:
    carrier: str
    confirmation_number: str
    pickup_date: date


@dataclass(frozen=True, slots=True)
class TrackingQuery:
    """A number to poll and what some carriers check before they answer: the last four
    digits of the recipient's phone (SF Express, Kuaidi100 for SF numbers); and where the
    parcel leaves from and goes to, from which Kuaidi100 predicts its arrival."""

    tracking_number: str
    phone_last4: str = ""
    origin: Address | None = None  # the shipment's warehouse
    destination: Address | None = None  # the order's ship-to


@dataclass(frozen=True, slots=True)
class WebhookReply:
    """The answer a carrier documents for its push, sent instead of our 202 (Kuaidi100 and SF
    read the body; 17TRACK retries anything but a 200)."""

    status: int
    body: bytes
    content_type: str = "application/json"


def one_parcel(request: ShipmentRequest, carrier: str) -> Parcel:
    """The request's parcel, for carriers whose label call takes one; more is NotSupported."""
    if len(request.parcels) != 1:
        raise NotSupported(f"{carrier} labels are made one parcel at a time", carrier=carrier)
    return request.parcels[0]


class CallLimiter(Protocol):
    """Waits until the account may make one more call to the carrier."""

    def acquire(self) -> None: ...


@dataclass
class CarrierAccount:
    """Credentials and settings of one brand's account with one carrier. `call_limiter`, when
    the runtime injects one, is the account's rate limit shared by every process; without it
    the adapter keeps its own in-process bucket."""

    carrier: str
    account_id: str
    credentials: dict[str, str] = field(default_factory=dict)
    sandbox: bool = True
    base_url: str = ""
    rate_limit_per_second: float = 10.0
    call_limiter: CallLimiter | None = None


class Carrier:
    """Base class of every adapter. Subclasses set `name`, `capabilities` and override
    the operations they support; the rest raise `NotSupported`."""

    name: ClassVar[str] = ""
    capabilities: ClassVar[frozenset[Capability]] = frozenset()
    # What `failed_delivery_action` carries out, where FAILED_DELIVERY_ACTIONS is declared.
    failed_delivery_actions: ClassVar[frozenset[FailedDeliveryAction]] = frozenset(
        FailedDeliveryAction
    )
    track_batch_size: ClassVar[int] = 1
    webhook_reply: ClassVar[WebhookReply | None] = None

    def __init__(self, account: CarrierAccount, clock: Clock | None = None) -> None:
        """`clock` tells the adapter what "now" is (the sandbox network runs on it)."""
        self.account = account
        self.clock = clock or SystemClock()

    def supports(self, capability: Capability) -> bool:
        return capability in self.capabilities

    def instruction_actions(self, service: str) -> frozenset[FailedDeliveryAction]:
        """The failed-delivery actions the carrier carries out for parcels of `service`
        (adapters whose API differs per service narrow `failed_delivery_actions`)."""
        if Capability.FAILED_DELIVERY_ACTIONS not in self.capabilities:
            return frozenset()
        return self.failed_delivery_actions

    def takes_instruction(self, action: FailedDeliveryAction, service: str = "") -> bool:
        """Whether the carrier carries out this failed-delivery action itself."""
        return action in self.instruction_actions(service)

    @classmethod
    def pickup_chains(cls, service: str) -> frozenset[str]:
        """The store chains (`PickupPoint.chain`) a pickup-point service delivers to; empty
        where the service takes any of the carrier's points."""
        return frozenset()

    def _unsupported(self, operation: str) -> NotSupported:
        return NotSupported(f"{self.name} does not support {operation}", carrier=self.name)

    def rates(self, request: ShipmentRequest) -> list[RateQuote]:
        raise self._unsupported("rate quotes")

    def create_label(self, request: ShipmentRequest) -> Label:
        raise self._unsupported("labels")

    def create_return_label(self, request: ShipmentRequest) -> Label:
        """A label with the return flag set, as most carriers make a return (adapters whose
        API differs override this); `NotSupported` unless RETURN_LABELS is declared."""
        if Capability.RETURN_LABELS not in self.capabilities:
            raise self._unsupported("return labels")
        return self.create_label(replace(request, is_return=True))

    def cancel(self, tracking_number: str) -> None:
        raise self._unsupported("cancelling labels")

    def track(self, tracking_numbers: Sequence[str]) -> list[TrackingUpdate]:
        """Poll up to `track_batch_size` numbers. Unknown numbers are left out of the result
        (never an empty `TrackingUpdate`), a failed call raises `CarrierError`."""
        raise self._unsupported("tracking polls")

    def track_batches(self, numbers: Sequence[T]) -> Iterator[Sequence[T]]:
        """`numbers` (or the carrier's ids for them) in slices of `track_batch_size`, the
        most one tracking call takes."""
        for start in range(0, len(numbers), self.track_batch_size):
            yield numbers[start : start + self.track_batch_size]

    def track_queries(self, queries: Sequence[TrackingQuery]) -> list[TrackingUpdate]:
        """`track` for carriers that need more than the number (see `TrackingQuery`); the
        polls call this, and only those carriers override it."""
        return self.track([q.tracking_number for q in queries])

    def subscribe(
        self, queries: Sequence[TrackingQuery], webhook_url: str
    ) -> dict[str, CarrierError]:
        """Ask the carrier to push these numbers' events to `webhook_url` (carriers whose push
        address is set in their dashboard ignore it); the error of each number refused, the
        others being subscribed. A number subscribed before is no error."""
        raise self._unsupported("push subscriptions")

    def verify_webhook(self, request: WebhookRequest) -> None:
        """Raise `WebhookSignatureError` unless the webhook is authentic."""
        raise self._unsupported("webhooks")

    def parse_webhook(self, request: WebhookRequest) -> list[TrackingUpdate]:
        raise self._unsupported("webhooks")

    def failed_delivery_action(self, instruction: FailedDeliveryInstruction) -> str:
        """Push the customer's choice to the carrier; returns the carrier's reference."""
        raise self._unsupported("failed-delivery actions")

    def schedule_pickup(self, request: PickupRequest) -> PickupConfirmation:
        raise self._unsupported("pickups")
