"""The simulated carrier network: a pure function from a shipment to its timeline of raw events.

Everything is decided by `random.Random(f"{seed}:{tracking_number}")`, so the same shipment
always tells the same story, whichever process asks and whenever. The parcel's fate (late,
exception, lost, failed attempts, collected from the pickup point) is drawn first, then the
times, so a customer's instruction after a failed attempt changes only the future. Whether a
cash-on-delivery customer refuses to pay is drawn from a generator of its own, so prepaid
parcels tell the same story as before that existed.
Times are local to each scan's place; pickups and deliveries follow the public holidays of the
network's country (US federal ones in the US) and its make-up working days (`services`), never
happen on Sundays but a make-up one, and on Saturdays only for services that deliver then or on
a make-up Saturday.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime, time, timedelta

from carriers.base import FailedDeliveryAction, FailedDeliveryInstruction
from carriers.sandbox.places import Place, Store, distance_km, midpoint, nearest_hub
from carriers.sandbox.services import (
    MON_FRI,
    MON_SAT,
    PICKUP_SERVICE,
    SERVICES,
    ServiceRule,
    add_working_days,
    ground_transit_days,
    is_working_day,
)

# --- the profile: every rate the simulation draws from ------------------------------------------

FAILURE_REASONS = ("customer_unavailable", "access_problem", "business_closed", "address_incorrect")


@dataclass(frozen=True, slots=True)
class SandboxProfile:
    """The knobs of the simulated network (shares are per parcel, 0..1)."""

    late_rate: float = 0.08  # delayed 1-2 delivery days in the network, with no notice
    failed_attempt_rate: float = 0.06  # the first delivery attempt fails
    refail_rate: float = 0.3  # a further attempt fails too
    max_attempts: int = 3  # then the parcel waits at a pickup point
    failure_reason_weights: tuple[float, ...] = (0.55, 0.2, 0.15, 0.1)  # FAILURE_REASONS order
    exception_rate: float = 0.03  # weather or damage on the way, 1-2 days' delay
    weather_share: float = 0.7  # of exceptions; the rest are damaged parcels
    loss_rate: float = 0.005  # vanishes after leaving the origin hub
    loss_reported_after_days: int = 5
    pickup_collection_rate: float = 0.8  # held parcels the customer collects
    hold_days: int = 5  # business days at the pickup point before going back
    cutoff_hour: int = 17  # labels created later are picked up the next pickup day
    same_day_max_km: float = 100.0
    cod_refusal_rate: float = 0.1  # cash-on-delivery customers who will not pay

    @classmethod
    def with_overrides(cls, settings: Mapping[str, str]) -> SandboxProfile:
        """A profile with the numeric knobs found in `settings` (e.g. account credentials)."""
        changes = {
            f.name: type(getattr(cls(), f.name))(settings[f.name])
            for f in fields(cls)
            if f.name in settings and isinstance(getattr(cls(), f.name), int | float)
        }
        return cls(**changes)

    def expected_return_share(self) -> float:
        """Parcels going back to the sender when nobody intervenes: a failed attempt finding
        the address incorrect, or every attempt failed and the parcel left uncollected."""
        wrong_address = self.failure_reason_weights[3] / sum(self.failure_reason_weights)
        tries_again = (1 - wrong_address) * self.refail_rate
        at_attempt = [tries_again**k for k in range(self.max_attempts)]  # reached, given 1st fails
        unclaimed = at_attempt[-1] * (1 - wrong_address) * (1 - self.pickup_collection_rate)
        return (
            (1 - self.loss_rate)
            * self.failed_attempt_rate
            * (wrong_address * sum(at_attempt) + unclaimed)
        )


# --- timeline ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RawEvent:
    """One scan as the sandbox carrier reports it: its own code, reason code, words and place."""

    code: str
    at: datetime
    place: Place
    facility: str
    reason: str = ""
    store: Store | None = None  # where a held parcel waits (code PK)
    deadline: datetime | None = None  # and until when

    @property
    def text(self) -> str:
        words = RAW_TEXT[self.code]
        return f"{words}: {self.reason.replace('_', ' ')}" if self.reason else words


RAW_TEXT = {
    "LC": "Shipping label created",
    "PU": "Picked up",
    "AR": "Arrived at facility",
    "DP": "Departed facility",
    "OD": "Out for delivery",
    "DL": "Delivered",
    "NA": "Delivery attempt failed",
    "EX": "Exception",
    "RS": "Returning to sender",
    "RD": "Returned to sender",
    "PK": "Held at pickup point",
    "CN": "Label cancelled",
}


@dataclass(frozen=True, slots=True)
class SimulatedShipment:
    tracking_number: str
    origin: Place
    destination: Place
    service: str
    ship_time: datetime
    seed: str = "0"
    cash_on_delivery: bool = False
    store: Store | None = None  # the pickup-point service's store (at `destination`)


@dataclass(frozen=True, slots=True)
class Instruction:
    """A customer's choice after a failed attempt, as the carrier received it."""

    issued_at: datetime
    instruction: FailedDeliveryInstruction


@dataclass(frozen=True, slots=True)
class Timeline:
    events: tuple[RawEvent, ...]
    pickup_date: date
    promised_date: date

    def until(self, now: datetime) -> tuple[RawEvent, ...]:
        return tuple(e for e in self.events if e.at <= now)


@dataclass(frozen=True, slots=True)
class _Fate:
    """Everything random about a parcel except times, drawn before anything else."""

    lost: bool
    exception: str  # "", "weather" or "damaged"
    delay_days: int  # late parcels and exceptions
    attempt_failures: tuple[str, ...]  # reason of each failed attempt, in order
    collected: bool


def _draw_fate(rng: random.Random, p: SandboxProfile) -> _Fate:
    lost = rng.random() < p.loss_rate
    exception = ""
    if rng.random() < p.exception_rate:
        exception = "weather" if rng.random() < p.weather_share else "damaged"
    delay = rng.choice((1, 2)) if rng.random() < p.late_rate else 0
    delay += rng.choice((1, 2)) if exception else 0
    failures: list[str] = []
    rate = p.failed_attempt_rate
    while len(failures) < p.max_attempts and rng.random() < rate:
        failures.append(rng.choices(FAILURE_REASONS, p.failure_reason_weights)[0])
        rate = p.refail_rate
        if failures[-1] == "address_incorrect":
            break
    return _Fate(lost, exception, delay, tuple(failures), rng.random() < p.pickup_collection_rate)


@dataclass
class _Story:
    """Builds one timeline; `rng` draws times only, the fate is already known."""

    shipment: SimulatedShipment
    profile: SandboxProfile
    instructions: Sequence[Instruction]
    rng: random.Random
    events: list[RawEvent] = field(default_factory=list)

    @property
    def rule(self) -> ServiceRule:
        return SERVICES[self.shipment.service]

    def at(self, day: date, hours: tuple[float, float], place: Place) -> datetime:
        """A local time on `day` within `hours`, never before the previous event."""
        moment = datetime.combine(day, time(), place.zone) + timedelta(
            hours=self.rng.uniform(*hours)
        )
        if self.events and moment <= self.events[-1].at:
            moment = self.events[-1].at + timedelta(minutes=self.rng.uniform(20, 90))
        return moment.astimezone(place.zone)

    def scan(
        self,
        code: str,
        moment: datetime,
        place: Place,
        facility: str,
        reason: str = "",
        store: Store | None = None,
        deadline: datetime | None = None,
    ) -> None:
        local = moment.astimezone(place.zone).replace(microsecond=0)
        self.events.append(RawEvent(code, local, place, facility, reason, store, deadline))

    def after(self, hours: tuple[float, float]) -> datetime:
        return self.events[-1].at + timedelta(hours=self.rng.uniform(*hours))


def pickup_date(shipment: SimulatedShipment, profile: SandboxProfile) -> date:
    local = shipment.ship_time.astimezone(shipment.origin.zone)
    cutoff = 12 if shipment.service == "same_day" else profile.cutoff_hour
    day = local.date() if local.hour < cutoff else local.date() + timedelta(days=1)
    return add_working_days(day, 0, MON_SAT, shipment.origin.country)


def promised_date(shipment: SimulatedShipment, profile: SandboxProfile) -> date:
    km = distance_km(shipment.origin, shipment.destination)
    rule = SERVICES[shipment.service]
    return add_working_days(
        pickup_date(shipment, profile),
        rule.transit(km),
        rule.delivery_weekdays,
        shipment.origin.country,
    )


def simulate(
    shipment: SimulatedShipment,
    profile: SandboxProfile | None = None,
    instructions: Sequence[Instruction] = (),
) -> Timeline:
    """The whole story of `shipment`, including its future (callers show only the past)."""
    profile = profile or SandboxProfile()
    rng = random.Random(f"{shipment.seed}:{shipment.tracking_number}")
    fate = _draw_fate(rng, profile)
    story = _Story(shipment, profile, sorted(instructions, key=lambda i: i.issued_at), rng)
    promised = promised_date(shipment, profile)
    picked_up = pickup_date(shipment, profile)
    origin = shipment.origin
    story.scan("LC", shipment.ship_time, origin, "Shipper")

    pickup_hours = (9.0, 11.5) if shipment.service == "same_day" else (15.0, 18.5)
    story.scan("PU", story.at(picked_up, pickup_hours, origin), origin, origin.city)
    first_attempt = add_working_days(
        promised, fate.delay_days, story.rule.delivery_weekdays, shipment.origin.country
    )
    _line_haul(story, fate, first_attempt)
    refuses_to_pay = shipment.cash_on_delivery and (
        random.Random(f"{shipment.seed}:{shipment.tracking_number}:cod").random()
        < profile.cod_refusal_rate
    )
    if not fate.lost and shipment.service == PICKUP_SERVICE:
        held_at = story.at(first_attempt, PICKUP_POINT_HOURS, shipment.destination)
        _hold_at_pickup_point(story, held_at, fate.collected, refuses_to_pay)
    elif not fate.lost:
        refused = replace(fate, attempt_failures=(COD_REFUSED,))
        _deliver(story, refused if refuses_to_pay else fate, first_attempt)
    return Timeline(tuple(story.events), picked_up, promised)


def _line_haul(story: _Story, fate: _Fate, first_attempt: date) -> None:
    """Origin hub, optional exception, destination hub; a lost parcel's story ends here."""
    shipment, rule = story.shipment, story.rule
    if shipment.service == "same_day":  # a courier van, no hubs
        if fate.lost:
            _report_loss(story, shipment.origin)
        elif fate.exception:
            story.scan("EX", story.after((0.5, 2.0)), shipment.origin, "Courier", fate.exception)
        return
    origin_hub, dest_hub = nearest_hub(shipment.origin), nearest_hub(shipment.destination)
    story.scan("AR", story.after((1.0, 3.0)), origin_hub, f"{origin_hub.city} Hub")
    story.scan("DP", story.after((1.5, 4.0)), origin_hub, f"{origin_hub.city} Hub")
    if fate.lost:
        _report_loss(story, origin_hub)
        return
    km = distance_km(origin_hub, dest_hub)
    travel = 2 + km / 800 if rule.by_air else km / 70
    departed = story.events[-1].at
    eve = datetime.combine(first_attempt - timedelta(days=1), time(), dest_hub.zone)
    arrival = max(
        departed + timedelta(hours=story.rng.uniform(travel, travel + 1)),
        eve + timedelta(hours=story.rng.uniform(19.0, 23.5)),
    )
    relay = nearest_hub(midpoint(origin_hub, dest_hub))
    if not rule.by_air and relay not in (origin_hub, dest_hub):
        story.scan("AR", departed + (arrival - departed) / 2, relay, f"{relay.city} Hub")
        story.scan("DP", story.after((1.0, 3.0)), relay, f"{relay.city} Hub")
    if fate.exception:
        held = story.events[-1].at + (arrival - story.events[-1].at) / 2
        story.scan("EX", held, dest_hub, f"{dest_hub.city} Hub", fate.exception)
    story.scan("AR", max(arrival, story.after((1.0, 2.0))), dest_hub, f"{dest_hub.city} Hub")
    story.scan(
        "DP", story.at(first_attempt, (4.0, 6.5), dest_hub), dest_hub, f"{dest_hub.city} Hub"
    )


def _report_loss(story: _Story, last_seen: Place) -> None:
    """The parcel vanished after its last scan; the carrier admits it days later."""
    last_day = story.events[-1].at.date()
    reported = add_working_days(
        last_day, story.profile.loss_reported_after_days, MON_FRI, story.shipment.origin.country
    )
    story.scan("EX", story.at(reported, (10, 16), last_seen), last_seen, "Claims", "lost")


COD_REFUSED, NOT_COLLECTED = "cod_refused", "not_collected"
BACK_AT_ONCE = frozenset({"address_incorrect", COD_REFUSED})  # no second attempt
OUT_FOR_DELIVERY_HOURS = (7.0, 9.5)
PICKUP_POINT_HOURS = (9.0, 12.0)
RETURN_HOURS = (10.0, 14.0)


def _deliver(story: _Story, fate: _Fate, day: date) -> None:
    """Attempts until delivered, held at a pickup point or sent back. After a failed attempt,
    the next scan's time is drawn first: an instruction given before it changes what it is."""
    destination = story.shipment.destination
    weekdays = story.rule.delivery_weekdays
    out_at = story.at(day, OUT_FOR_DELIVERY_HOURS, destination)
    for attempt, reason in enumerate((*fate.attempt_failures, "")):
        story.scan("OD", out_at, destination, "Delivery station")
        moment = story.at(day, story.rule.delivery_window, destination)
        if not reason:
            story.scan("DL", moment, destination, "Front door")
            return
        story.scan("NA", moment, destination, "Delivery station", reason)
        next_day = add_working_days(day, 1, weekdays, story.shipment.origin.country)
        wrong_address = reason in BACK_AT_ONCE
        last_attempt = attempt + 1 == story.profile.max_attempts
        if wrong_address:
            next_at = story.at(
                add_working_days(day, 1, MON_FRI, story.shipment.origin.country),
                RETURN_HOURS,
                destination,
            )
        else:
            hours = PICKUP_POINT_HOURS if last_attempt else OUT_FOR_DELIVERY_HOURS
            next_at = story.at(next_day, hours, destination)
        instruction = next((i for i in story.instructions if moment <= i.issued_at < next_at), None)
        if instruction:
            _follow(story, instruction)
        elif wrong_address:
            _return_to_sender(story, next_at, COD_REFUSED if reason == COD_REFUSED else "")
        elif last_attempt:
            _hold_at_pickup_point(story, next_at, fate.collected)
        else:
            day, out_at = next_day, next_at
            continue
        return


def _follow(story: _Story, instruction: Instruction) -> None:
    """The customer's choice, carried out from the next working day after it was given."""
    destination = story.shipment.destination
    weekdays = story.rule.delivery_weekdays
    issued_day = instruction.issued_at.astimezone(destination.zone).date()
    next_day = add_working_days(issued_day, 1, weekdays, story.shipment.origin.country)
    choice = instruction.instruction
    match choice.action:
        case FailedDeliveryAction.RETURN_TO_SENDER:
            back_day = add_working_days(issued_day, 1, MON_FRI, story.shipment.origin.country)
            _return_to_sender(story, story.at(back_day, RETURN_HOURS, destination))
        case FailedDeliveryAction.HOLD_AT_PICKUP_POINT:
            held_at = story.at(next_day, PICKUP_POINT_HOURS, destination)
            _hold_at_pickup_point(story, held_at, collected=True)
        case _:  # re-attempt, possibly at a corrected address: the customer will be there
            day = choice.reattempt_on or next_day
            if day <= issued_day or not is_working_day(day, weekdays, destination.country):
                day = add_working_days(
                    max(day, issued_day), 1, weekdays, story.shipment.origin.country
                )
            if choice.address and choice.address.city:
                destination = replace(
                    destination,
                    city=choice.address.city,
                    state=choice.address.state,
                    postal_code=choice.address.postal_code,
                )
            out_at = story.at(day, OUT_FOR_DELIVERY_HOURS, destination)
            story.scan("OD", out_at, destination, "Delivery station")
            moment = story.at(day, story.rule.delivery_window, destination)
            story.scan("DL", moment, destination, "Front door")


def _local_point(place: Place) -> Store:
    """The delivery station's own counter, where parcels wait after the last failed attempt."""
    name = f"Pickup point {place.city}"
    return Store(f"SBX-{place.postal_code}", name, "Sandbox Post", "", *_city(place))


def _city(place: Place) -> tuple[str, str, str]:
    return place.city, place.state, place.postal_code


def _hold_at_pickup_point(
    story: _Story, held_at: datetime, collected: bool, refuses_to_pay: bool = False
) -> None:
    """Held `hold_days` business days: collected (paid, for COD), refused at the counter, or
    sent back the morning after the deadline."""
    destination = story.shipment.destination
    store = story.shipment.store or _local_point(destination)
    day = held_at.date()
    give_up = add_working_days(day, story.profile.hold_days, MON_FRI, story.shipment.origin.country)
    deadline = datetime.combine(give_up, time(), destination.zone) + timedelta(
        hours=RETURN_HOURS[0]
    )
    story.scan("PK", held_at, destination, store.name, store=store, deadline=deadline)
    if collected:
        pickup = add_working_days(
            day, story.rng.randint(0, 3), MON_SAT, story.shipment.origin.country
        )
        moment = story.at(pickup, (12.0, 19.0), destination)
        if refuses_to_pay:
            _return_to_sender(story, moment, COD_REFUSED)
        else:
            story.scan("DL", moment, destination, store.name)
        return
    _return_to_sender(story, story.at(give_up, RETURN_HOURS, destination), NOT_COLLECTED)


def _return_to_sender(story: _Story, leaves_at: datetime, reason: str = "") -> None:
    origin, destination = story.shipment.origin, story.shipment.destination
    story.scan("RS", leaves_at, destination, "Delivery station", reason)
    transit = ground_transit_days(distance_km(origin, destination))
    back = add_working_days(leaves_at.date(), transit, MON_FRI, story.shipment.origin.country)
    story.scan("RD", story.at(back, (10.0, 16.0), origin), origin, "Shipper")
