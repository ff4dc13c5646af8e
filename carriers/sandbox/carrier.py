"""The sandbox carrier: every capability of a real carrier, backed by the simulated network.

A sandbox tracking number carries its own shipment: "SBX", a service letter, origin and
destination ZIP codes, the ship minute, a sequence and a Luhn check digit. A sequence of 50
or more marks a cash-on-delivery parcel; a pickup-point parcel's destination ZIP is its
store's (`places.STORES`, one per ZIP). Any process can rebuild (and so track) any sandbox
parcel from its number alone; only what customers and shippers did later (instructions,
cancellations) and the label sequence live in a `SandboxBook`: the process's `ShipmentBook`
when the adapter stands alone, the database's when shipflow's runtime injects it (so two web
processes and a worker agree).
"""

from __future__ import annotations

import hashlib
import threading
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Protocol

import zipcodes

from carriers.base import (
    Capability,
    Carrier,
    CarrierAccount,
    CarrierRejected,
    FailedDeliveryInstruction,
    Label,
    PickupConfirmation,
    PickupRequest,
    RateQuote,
    ShipmentRequest,
    WebhookRequest,
    WebhookSignatureError,
)
from carriers.detect import luhn
from carriers.sandbox import labels, mapping, network, rates, services, signing
from carriers.sandbox.network import Instruction, SandboxProfile, SimulatedShipment, Timeline
from carriers.sandbox.places import (
    STORE_BY_ID,
    STORE_BY_ZIP,
    STORES,
    Place,
    Store,
    distance_km,
)
from shipflow.calendars import known_zone
from shipflow.clock import Clock, SystemClock
from shipflow.domain import Address, TrackingUpdate

PREFIX = "SBX"
SERVICE_LETTERS = {
    "G": "ground",
    "E": "express",
    "O": "overnight",
    "C": "economy",
    "S": "same_day",
    "P": services.PICKUP_SERVICE,
}
COD_SEQUENCES = 50  # sequences 0-49 prepaid, 50-99 the same with cash on delivery
RETURN_LETTER = "R"  # returns travel ground
LETTER_OF_SERVICE = {service: letter for letter, service in SERVICE_LETTERS.items()}
NUMBER_LENGTH = len(PREFIX) + 1 + 5 + 5 + 8 + 2 + 1


class SandboxBook(Protocol):
    """What happened to sandbox parcels after their label, and the labels' sequence."""

    def instructions(self, tracking_number: str) -> Sequence[Instruction]: ...
    def add_instruction(self, tracking_number: str, instruction: Instruction) -> None: ...
    def cancelled_at(self, tracking_number: str) -> datetime | None: ...
    def cancel(self, tracking_number: str, at: datetime) -> None: ...
    def next_sequence(self) -> int:
        """The next label's sequence, 0 to COD_SEQUENCES - 1, going round."""
        ...


@dataclass
class ShipmentBook:
    """The process's book: shared by every carrier instance of the process, so a fresh
    adapter built per job sees the customer's instruction."""

    _instructions: dict[str, list[Instruction]] = field(default_factory=lambda: defaultdict(list))
    _cancelled: dict[str, datetime] = field(default_factory=dict)
    _sequence: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def instructions(self, tracking_number: str) -> Sequence[Instruction]:
        return tuple(self._instructions.get(tracking_number, ()))

    def add_instruction(self, tracking_number: str, instruction: Instruction) -> None:
        with self._lock:
            self._instructions[tracking_number].append(instruction)

    def cancelled_at(self, tracking_number: str) -> datetime | None:
        return self._cancelled.get(tracking_number)

    def cancel(self, tracking_number: str, at: datetime) -> None:
        self._cancelled[tracking_number] = at

    def next_sequence(self) -> int:
        with self._lock:
            self._sequence = (self._sequence + 1) % COD_SEQUENCES
            return self._sequence


DEFAULT_BOOK = ShipmentBook()


@lru_cache(maxsize=4096)
def place_of_zip(postal_code: str) -> Place | None:
    found = zipcodes.matching(postal_code[:5]) if len(postal_code) >= 5 else []
    if not found:
        return None
    z = found[0]
    return Place(
        z["city"],
        z["state"],
        float(z["lat"]),
        float(z["long"]),
        known_zone(z["timezone"]) or "",
        z["zip_code"],
    )


def _check_digit(digits: str) -> str:
    return next(d for d in "0123456789" if luhn(digits, d))


def make_tracking_number(
    service_letter: str, origin: str, destination: str, at: datetime, seq: int
) -> str:
    digits = f"{origin}{destination}{int(at.timestamp() // 60):08d}{seq:02d}"
    return f"{PREFIX}{service_letter}{digits}{_check_digit(digits)}"


class SandboxCarrier(Carrier):
    name = "sandbox"
    # Everything, but pushes need no subscription: it pushes every label it sold.
    capabilities = frozenset(Capability) - {Capability.PUSH_SUBSCRIPTIONS}
    track_batch_size = 50

    def __init__(
        self,
        account: CarrierAccount,
        clock: Clock | None = None,
        profile: SandboxProfile | None = None,
        book: SandboxBook | None = None,
        wall_clock: Clock | None = None,
    ) -> None:
        """Parcels move on `clock` (the demo's runs fast); webhook signatures, which guard
        against replays, are stamped and checked on `wall_clock`, the real time, as a real
        carrier's are."""
        super().__init__(account, clock)
        self.wall_clock = wall_clock or SystemClock()
        self.profile = profile or SandboxProfile.with_overrides(account.credentials)
        self.book: SandboxBook = book or DEFAULT_BOOK
        self.seed = account.credentials.get("seed", "sandbox")
        self.webhook_secret = account.credentials.get("webhook_secret", "")
        self.label_format = account.credentials.get("label_format", "PDF").upper()

    # --- shipments -----------------------------------------------------------------------------

    def shipment(self, tracking_number: str) -> SimulatedShipment | None:
        """Rebuild a parcel from its number; None if it is not a well-formed sandbox number."""
        tn = tracking_number.strip().upper()
        if len(tn) != NUMBER_LENGTH or not tn.startswith(PREFIX) or not tn[4:].isdigit():
            return None
        letter, digits = tn[3], tn[4:-1]
        service = "ground" if letter == RETURN_LETTER else SERVICE_LETTERS.get(letter)
        origin, destination = place_of_zip(digits[:5]), place_of_zip(digits[5:10])
        if not (service and origin and destination and _check_digit(digits) == tn[-1]):
            return None
        store = STORE_BY_ZIP.get(destination.postal_code)
        if service == services.PICKUP_SERVICE and store is None:
            return None
        ship_time = datetime.fromtimestamp(int(digits[10:18]) * 60, UTC)
        cod = int(digits[18:20]) >= COD_SEQUENCES
        return SimulatedShipment(
            tn,
            origin,
            destination,
            service,
            ship_time,
            self.seed,
            cash_on_delivery=cod,
            store=store if service == services.PICKUP_SERVICE else None,
        )

    def timeline(self, tracking_number: str) -> tuple[SimulatedShipment, Timeline] | None:
        shipment = self.shipment(tracking_number)
        if shipment is None:
            return None
        tn = shipment.tracking_number
        full = network.simulate(shipment, self.profile, self.book.instructions(tn))
        cancelled_at = self.book.cancelled_at(tn)
        if cancelled_at:
            label_created = full.events[0]
            void = network.RawEvent("CN", cancelled_at, label_created.place, "Shipper")
            full = Timeline((label_created, void), full.pickup_date, full.promised_date)
        return shipment, full

    def visible_events(self, tracking_number: str) -> tuple[network.RawEvent, ...]:
        found = self.timeline(tracking_number)
        return found[1].until(self.clock.now()) if found else ()

    def estimated_delivery(
        self, shipment: SimulatedShipment, timeline: Timeline, now: datetime
    ) -> datetime:
        """The end of the promised day's delivery window; like real carriers, the sandbox
        re-plans only once an exception is visible (a silent delay keeps the old promise)."""
        day = timeline.promised_date
        if any(e.code == "EX" for e in timeline.until(now)):
            day = next((e.at.date() for e in timeline.events if e.code == "OD"), day)
        window_end = services.SERVICES[shipment.service].delivery_window[1]
        return datetime.combine(day, time(), shipment.destination.zone) + timedelta(
            hours=window_end
        )

    def tracking_payload(self, tracking_number: str) -> dict | None:
        """What the sandbox's tracking API answers; None for unknown or not-yet-created numbers."""
        found = self.timeline(tracking_number)
        if not found:
            return None
        shipment, timeline = found
        now = self.clock.now()
        events = timeline.until(now)
        if not events:
            return None
        estimate = self.estimated_delivery(shipment, timeline, now)
        return mapping.tracking_payload(
            shipment.tracking_number, shipment.service, estimate, events
        )

    # --- the Carrier interface -----------------------------------------------------------------

    def _store(self, request: ShipmentRequest) -> Store:
        """The customer's store, or for a parcel sent without one, the nearest to them."""
        chosen = request.pickup_point
        if chosen is not None:
            if chosen.id not in STORE_BY_ID:
                raise CarrierRejected(
                    f"unknown sandbox pickup point {chosen.id!r}; known: {', '.join(STORE_BY_ID)}",
                    carrier=self.name,
                    carrier_code="PICKUP_POINT",
                )
            return STORE_BY_ID[chosen.id]
        home = self._places(request)[1]
        return min(STORES, key=lambda s: distance_km(home, _store_place(s)))

    def _places(self, request: ShipmentRequest) -> tuple[Place, Place]:
        places = []
        for role, address in (("shipper", request.shipper), ("recipient", request.recipient)):
            place = place_of_zip(address.postal_code) if address.country == "US" else None
            if place is None:
                raise CarrierRejected(
                    f"sandbox serves US ZIP codes only; {role} has {address.postal_code!r}",
                    carrier=self.name,
                    carrier_code="ADDRESS",
                )
            places.append(place)
        return places[0], places[1]

    def _offered(self, service: str, km: float) -> bool:
        return service in services.SERVICES and (
            service != "same_day" or km <= self.profile.same_day_max_km
        )

    def _ship_time(self, request: ShipmentRequest, origin: Place) -> datetime:
        now = self.clock.now()
        if request.ship_date and request.ship_date > now.astimezone(origin.zone).date():
            return datetime.combine(request.ship_date, time(9), origin.zone)
        return now

    def rates(self, request: ShipmentRequest) -> list[RateQuote]:
        origin, destination = self._places(request)
        km = distance_km(origin, destination)
        quotes = []
        for service in services.SERVICES:
            if not self._offered(service, km):
                continue
            probe = SimulatedShipment(
                "", origin, destination, service, self._ship_time(request, origin)
            )
            quotes.append(
                RateQuote(
                    carrier=self.name,
                    service=service,
                    price=rates.price(service, km, tuple(request.parcels)),
                    transit_days=services.transit_days(service, km),
                    estimated_delivery=network.promised_date(probe, self.profile),
                )
            )
        return quotes

    def _label(self, request: ShipmentRequest, service: str, letter: str, is_return: bool) -> Label:
        if service == services.PICKUP_SERVICE:  # the parcel travels to the store
            store = self._store(request)
            to_store = replace(
                request.recipient,
                line1=store.line1,
                city=store.city,
                state=store.state,
                postal_code=store.postal_code,
            )
            request = replace(request, recipient=to_store, pickup_point=None)
        origin, destination = self._places(request)
        km = distance_km(origin, destination)
        if not self._offered(service, km):
            raise CarrierRejected(
                f"sandbox does not offer {service!r} over {km:.0f} km",
                carrier=self.name,
                carrier_code="SERVICE",
            )
        ship_time = self._ship_time(request, origin)
        tn = make_tracking_number(
            letter,
            origin.postal_code,
            destination.postal_code,
            ship_time,
            self.book.next_sequence()
            + (COD_SEQUENCES if request.cash_on_delivery is not None else 0),
        )
        qr_payload = f"SANDBOX-RETURN:{tn}" if is_return else ""
        content = labels.LabelContent(
            tn,
            service,
            request.shipper,
            request.recipient,
            sum(rates.billable_pounds(p) for p in request.parcels),
            qr_payload,
        )
        render = labels.render_png if self.label_format == "PNG" else labels.render_pdf
        return Label(
            carrier=self.name,
            service=service,
            tracking_number=tn,
            label_format="PNG" if self.label_format == "PNG" else "PDF",
            label_data=render(content),
            price=rates.price(service, km, tuple(request.parcels)),
            carrier_shipment_id=tn,
            qr_code=labels.qr_png(qr_payload) if is_return else None,
        )

    def create_label(self, request: ShipmentRequest) -> Label:
        letter = LETTER_OF_SERVICE.get(request.service)
        if letter is None:
            raise CarrierRejected(
                f"unknown sandbox service {request.service!r}; "
                f"known: {', '.join(services.SERVICES)}",
                carrier=self.name,
                carrier_code="SERVICE",
            )
        return self._label(request, request.service, letter, is_return=False)

    def create_return_label(self, request: ShipmentRequest) -> Label:
        """The shipper is the customer; the label also comes as a QR code for drop-off."""
        return self._label(request, "ground", RETURN_LETTER, is_return=True)

    def _known(self, tracking_number: str) -> tuple[SimulatedShipment, Timeline]:
        found = self.timeline(tracking_number)
        if not found:
            raise CarrierRejected(
                f"unknown sandbox tracking number {tracking_number!r}",
                carrier=self.name,
                carrier_code="NOT_FOUND",
            )
        return found

    def cancel(self, tracking_number: str) -> None:
        shipment, timeline = self._known(tracking_number)
        if any(e.code != "LC" for e in timeline.until(self.clock.now())):
            raise CarrierRejected(
                "label already in the network; it can no longer be cancelled",
                carrier=self.name,
                carrier_code="NOT_CANCELLABLE",
            )
        self.book.cancel(shipment.tracking_number, self.clock.now())

    def track(self, tracking_numbers: Sequence[str]) -> list[TrackingUpdate]:
        payloads = (self.tracking_payload(tn) for tn in tracking_numbers)
        return [mapping.parse_tracking(p) for p in payloads if p]

    def verify_webhook(self, request: WebhookRequest) -> None:
        try:
            signing.verify(
                self.webhook_secret,
                request.headers,
                request.body,
                self.wall_clock.now(),
            )
        except signing.SignatureInvalid as exc:
            raise WebhookSignatureError(str(exc), carrier=self.name) from None

    def parse_webhook(self, request: WebhookRequest) -> list[TrackingUpdate]:
        return mapping.parse_webhook_body(request.body)

    def failed_delivery_action(self, instruction: FailedDeliveryInstruction) -> str:
        """Accepted only while the last visible scan is a failed attempt; changes the future."""
        shipment, timeline = self._known(instruction.tracking_number)
        now = self.clock.now()
        visible = timeline.until(now)
        if not visible or visible[-1].code != "NA":
            raise CarrierRejected(
                "instructions are accepted only after a failed delivery attempt",
                carrier=self.name,
                carrier_code="NO_FAILED_ATTEMPT",
            )
        self.book.add_instruction(shipment.tracking_number, Instruction(now, instruction))
        return _reference("SBXI", shipment.tracking_number, now)

    def schedule_pickup(self, request: PickupRequest) -> PickupConfirmation:
        if request.pickup_date < self.clock.now().date() or not services.is_working_day(
            request.pickup_date, services.MON_SAT
        ):
            raise CarrierRejected(
                f"no sandbox pickups on {request.pickup_date:%a %Y-%m-%d}",
                carrier=self.name,
                carrier_code="PICKUP_DATE",
            )
        reference = _reference("SBXP", _address_key(request.address), request.pickup_date)
        return PickupConfirmation(self.name, reference, request.pickup_date)


def _store_place(store: Store) -> Place:
    place = place_of_zip(store.postal_code)
    assert place is not None, f"sandbox store {store.id} has an unknown ZIP code"
    return place


def _address_key(address: Address) -> str:
    return f"{address.postal_code}|{address.line1}"


def _reference(prefix: str, key: str, when: datetime | date) -> str:
    digest = hashlib.sha256(f"{key}|{when.isoformat()}".encode()).hexdigest()
    return f"{prefix}{int(digest[:12], 16) % 10**10:010d}"
