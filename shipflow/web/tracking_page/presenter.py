"""What the tracking page shows, worked out from a shipment without Flask: the progress step,
plain-language status, dates, delay, timeline and the actions that apply right now.

`personal` is False for visitors who only know the tracking number: such a view is built
without any name, address, item or carrier free text, so templates cannot leak them.
`place` adds the city (destination and event places) for visitors who gave the order number
and postal code: a weak factor, so never the street, a name or the order's contents.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from carriers.directory import contact
from shipflow import pickup_points, proof_of_delivery
from shipflow.domain import Status
from shipflow.geo import locate
from shipflow.store.models import Shipment
from shipflow.store.postpurchase_models import ReturnRequestRow


def N_(message: str) -> str:  # noqa: N802  (marked for translation, translated when shown)
    return message


STEPS = (
    N_("Ordered"),
    N_("Shipped"),
    N_("In transit"),
    N_("Out for delivery"),
    N_("Delivered"),
)
_STEP = {
    Status.PENDING: 0,
    Status.INFO_RECEIVED: 1,
    Status.IN_TRANSIT: 2,
    Status.EXCEPTION: 2,
    Status.RETURNING_TO_SENDER: 2,
    Status.RETURNED_TO_SENDER: 2,
    Status.EXPIRED: 2,
    Status.CANCELLED: 0,
    Status.OUT_FOR_DELIVERY: 3,
    Status.ATTEMPT_FAILED: 3,
    Status.AVAILABLE_FOR_PICKUP: 3,
    Status.DELIVERED: 4,
}
ISSUES = frozenset(
    {
        Status.EXCEPTION,
        Status.ATTEMPT_FAILED,
        Status.RETURNING_TO_SENDER,
        Status.RETURNED_TO_SENDER,
        Status.EXPIRED,
        Status.CANCELLED,
    }
)

# (headline, one plain sentence) per status.
HEADLINES = {
    Status.PENDING: (N_("Order received"), N_("We have your order and are getting it ready.")),
    Status.INFO_RECEIVED: (
        N_("Label created"),
        N_("Your parcel is packed and waiting for the carrier to collect it."),
    ),
    Status.IN_TRANSIT: (
        N_("On its way"),
        N_("Your parcel is travelling through the carrier's network."),
    ),
    Status.OUT_FOR_DELIVERY: (
        N_("Out for delivery"),
        N_("Your parcel is on the delivery vehicle and should arrive today."),
    ),
    Status.ATTEMPT_FAILED: (
        N_("Delivery attempt failed"),
        N_("The carrier tried to deliver your parcel but couldn't."),
    ),
    Status.AVAILABLE_FOR_PICKUP: (
        N_("Ready for pickup"),
        N_("Your parcel is waiting for you at a pickup point."),
    ),
    Status.DELIVERED: (N_("Delivered"), N_("Your parcel has been delivered.")),
    Status.EXCEPTION: (
        N_("There's a problem with your delivery"),
        N_("The carrier has reported a problem and we're looking into it."),
    ),
    Status.RETURNING_TO_SENDER: (
        N_("On its way back to us"),
        N_("Your parcel is being returned to us. We'll contact you about what happens next."),
    ),
    Status.RETURNED_TO_SENDER: (
        N_("Returned to us"),
        N_("Your parcel came back to us. We'll contact you about what happens next."),
    ),
    Status.EXPIRED: (
        N_("No recent updates"),
        N_("The carrier hasn't sent an update for a while. We're checking with them."),
    ),
    Status.CANCELLED: (
        N_("Shipment cancelled"),
        N_("This shipment was cancelled before it left us."),
    ),
}
REASONS = {
    "customer_unavailable": N_("Nobody was available to receive it."),
    "address_incorrect": N_("The address could not be found or is incomplete."),
    "refused": N_("The delivery was refused."),
    "business_closed": N_("The business was closed."),
    "access_problem": N_("The driver couldn't get into the building."),
    "weather": N_("Bad weather is slowing deliveries."),
    "customs_hold": N_("The parcel is being held at customs."),
    "damaged": N_("The parcel was damaged in transit."),
    "lost": N_("The carrier can't locate the parcel."),
    "carrier_delay": N_("The carrier is running behind schedule."),
    "held_by_carrier": N_("The carrier is holding the parcel."),
    "payment_required": N_("A payment is due before delivery."),
    "cod_refused": N_("The payment due on delivery was not made."),
    "not_collected": N_("The parcel was not collected from the pickup point in time."),
}
# No pickup to show once the parcel is collected, back with us or gone.
ENDED = frozenset({Status.DELIVERED, Status.RETURNED_TO_SENDER, Status.CANCELLED})
# Still coming to the customer: the page may name a delivery date, a delay and the city.
COMING = frozenset(
    {Status.PENDING, Status.INFO_RECEIVED, Status.IN_TRANSIT, Status.OUT_FOR_DELIVERY}
)
EXPECTED, DELIVERED_ON, REDELIVERY_ON, COLLECT_BY = (
    N_("Expected delivery"),
    N_("Delivered on"),
    N_("Redelivery on"),
    N_("Collect by"),
)
ADVICE = {
    Status.PENDING: N_("You don't need to do anything. We'll let you know when it ships."),
    Status.INFO_RECEIVED: N_("You don't need to do anything. We'll let you know when it moves."),
    Status.IN_TRANSIT: N_("You don't need to do anything; we're keeping an eye on it."),
    Status.OUT_FOR_DELIVERY: N_("Please make sure someone can receive it today."),
    Status.ATTEMPT_FAILED: N_(
        "Choose a new delivery day with the link in our latest message, or contact us."
    ),
    Status.AVAILABLE_FOR_PICKUP: N_("Bring an ID and your tracking number to collect it."),
    Status.DELIVERED: N_(
        "Can't find it? Check around your door and with neighbours, then contact us."
    ),
    Status.EXCEPTION: N_("You don't need to do anything yet. We'll contact you if we need you."),
    Status.RETURNING_TO_SENDER: N_(
        "You don't need to do anything. We'll contact you about a refund or a new delivery."
    ),
    Status.RETURNED_TO_SENDER: N_("Contact us if you'd like it sent again or refunded."),
    Status.EXPIRED: N_("You don't need to do anything yet. We'll contact you if we need you."),
    Status.CANCELLED: N_("Contact us if you didn't expect this or have been charged."),
}
REDELIVERY = (
    N_("Redelivery booked"),
    N_("The carrier will bring your parcel again on the day you chose."),
    N_("Please make sure someone can receive it that day."),
)
LOST = (
    N_("We can't find your parcel"),
    N_("The carrier can't locate your parcel. We're asking them to search for it."),
    N_("We'll contact you with a replacement or a refund if it isn't found."),
)


@dataclass(frozen=True)
class Situation:
    """What the page says first, decided in one place: the headline, the one date that
    matters (or, with no day, an honest "we're checking with the carrier"), and what to do."""

    headline: str
    summary: str
    date_label: str | None
    day: date | None  # None under a label: the page says it is checking instead
    advice: str
    overdue: bool = False  # a predicted date has passed: ops should ask the carrier

    @property
    def coming(self) -> bool:
        """Still on its way to the customer with a date ahead: a delay may be told."""
        return self.date_label == EXPECTED and self.day is not None


def situation(
    status: Status,
    reason: str | None,
    today: date,
    predicted: date | None = None,
    delivered_on: date | None = None,
    redelivery_on: date | None = None,
    collect_by: date | None = None,
) -> Situation:
    """The table every state of the tracking page follows (tested row by row)."""
    headline, summary = HEADLINES[status]
    advice = ADVICE[status]
    if status == Status.DELIVERED:
        return Situation(headline, summary, DELIVERED_ON, delivered_on, advice)
    if status == Status.ATTEMPT_FAILED and redelivery_on and redelivery_on >= today:
        return Situation(*REDELIVERY[:2], REDELIVERY_ON, redelivery_on, REDELIVERY[2])
    if status == Status.EXCEPTION and reason == "lost":
        return Situation(*LOST[:2], None, None, LOST[2])
    if status in (Status.EXCEPTION, Status.EXPIRED):
        return Situation(headline, summary, EXPECTED, None, advice)
    if status == Status.AVAILABLE_FOR_PICKUP:
        return Situation(headline, summary, COLLECT_BY if collect_by else None, collect_by, advice)
    if status == Status.OUT_FOR_DELIVERY:
        return Situation(headline, summary, EXPECTED, today, advice)
    if status not in COMING:
        return Situation(headline, summary, None, None, advice)
    if predicted and predicted < today:
        return Situation(headline, summary, EXPECTED, None, advice, overdue=True)
    return Situation(headline, summary, EXPECTED if predicted else None, predicted, advice)


@dataclass(frozen=True)
class EventView:
    status: str
    label: str
    occurred_at: datetime
    reason: str = ""  # ours, translated when shown; the carrier's words come second
    detail: str = ""  # the carrier's own words: personal views only
    where: str = ""  # personal views only


@dataclass(frozen=True)
class PickupView:
    """Where the parcel waits (or will wait) and until when. A store is no secret, but which
    one a customer chose says where they live: visitors with the tracking number alone see
    only the deadline."""

    name: str = ""
    address: str = ""
    hours: str = ""
    deadline: date | None = None


@dataclass(frozen=True)
class ProofView:
    """The carrier's proof of delivery, for the customer's own page only: who signed, where
    the parcel was left, whether there is a photo we keep, or a link to the carrier's."""

    signed_by: str = ""
    left_at: str = ""
    photo: bool = False
    carrier_photo_url: str = ""


# A return's state in a few words (`shipflow.returns.service`'s statuses).
RETURN_HEADLINES = {
    "requested": N_("We'll look at your return"),
    "review": N_("We'll look at your return"),
    "approved": N_("Your return is approved"),
    "label_created": N_("Your return is approved"),
    "refused": N_("We can't accept this return"),
    "in_transit": N_("Your return is on its way to us"),
    "received": N_("We've received your return"),
    "refunded": N_("Your refund has been issued"),
}


@dataclass(frozen=True)
class ReturnView:
    """One return of the order: its state and the page with its label and QR code."""

    headline: str
    url: str
    has_label: bool


def return_views(rows: Iterable[ReturnRequestRow], link: Callable[[str], str]) -> list[ReturnView]:
    """The order's returns, oldest first; `link(return_id)` is the return's signed page."""
    return [
        ReturnView(
            RETURN_HEADLINES.get(r.status, RETURN_HEADLINES["requested"]),
            link(r.id),
            r.status == "label_created",
        )
        for r in sorted(rows, key=lambda r: (r.created_at, r.id))
    ]


@dataclass(frozen=True)
class ParcelView:
    """One of an order's several parcels, for the header that links them."""

    number: int
    headline: str
    carrier_name: str
    tracking_number: str
    url: str
    current: bool
    replaces: int | None = None  # the number of the parcel this one was sent again for


@dataclass(frozen=True)
class TrackingView:
    status: str
    situation: Situation
    reason: str | None
    step: int
    issue: bool
    carrier: str
    tracking_number: str
    zone: tzinfo
    promised_date: date | None
    predicted_date: date | None
    delivered_on: date | None
    shipped_at: datetime | None
    events: list[EventView]
    personal: bool
    order_number: str = ""
    destination: str = ""
    items: list[tuple[str, int]] = field(default_factory=list)
    proof: ProofView | None = None
    return_until: date | None = None
    pickup: PickupView | None = None
    parcels: list[ParcelView] = field(default_factory=list)

    @property
    def late_by_days(self) -> int:
        """Only while the parcel is still coming and its prediction still ahead."""
        if not self.situation.coming or not (self.promised_date and self.predicted_date):
            return 0
        return max(0, (self.predicted_date - self.promised_date).days)

    @property
    def headline(self) -> str:
        return self.situation.headline

    @property
    def carrier_name(self) -> str:
        return contact(self.carrier).name

    @property
    def carrier_phone(self) -> str:
        return contact(self.carrier).phone

    @property
    def carrier_url(self) -> str:
        return contact(self.carrier).tracking_link(self.tracking_number)

    @property
    def going_back(self) -> bool:
        """Coming back to us, or never leaving: no "Delivering to" the customer's city."""
        return self.status in {
            Status.RETURNING_TO_SENDER,
            Status.RETURNED_TO_SENDER,
            Status.CANCELLED,
        }

    @property
    def delivered(self) -> bool:
        return self.status == Status.DELIVERED

    @property
    def attempt_failed(self) -> bool:
        return self.status == Status.ATTEMPT_FAILED


def parcel_views(
    shipments: list[Shipment], current_id: str, link: Callable[[Shipment], str]
) -> list[ParcelView]:
    """Each forward parcel of an order with its state and link, in the order they were sent
    (a replacement ops sent names the parcel it replaces); empty for an order that travels
    in one parcel."""
    forward = sorted(
        (s for s in shipments if s.kind == "forward"), key=lambda s: (s.created_at, s.id)
    )
    if len(forward) < 2:
        return []
    numbers = {s.id: n for n, s in enumerate(forward, start=1)}
    return [
        ParcelView(
            number=numbers[s.id],
            headline=HEADLINES[Status(s.status)][0],
            carrier_name=contact(s.carrier).name,
            tracking_number=s.tracking_number,
            url=link(s),
            current=s.id == current_id,
            replaces=numbers.get((s.details or {}).get("replaces", "")),
        )
        for s in forward
    ]


def _pickup(shipment: Shipment, zone: tzinfo, shows_store: bool) -> PickupView | None:
    point = pickup_points.from_json(shipment.pickup_point)
    deadline = shipment.pickup_deadline
    if Status(shipment.status) in ENDED or not (point or deadline):
        return None
    day = deadline.astimezone(zone).date() if deadline else None
    if not (point and shows_store):
        return PickupView(deadline=day) if day else None
    address = pickup_points.address_line(point.address)
    return PickupView(point.name or point.id, address, point.hours, day)


def destination_zone(ship_to: dict, default: str = "UTC") -> tzinfo:
    """The ship-to address's time zone: given, else from the postal code, else `default`."""
    name = ship_to.get("timezone")
    postal_code = str(ship_to.get("postal_code", ""))
    if not name and postal_code:
        place = locate(str(ship_to.get("country", "")), postal_code)
        name = place.timezone if place else None
    try:
        return ZoneInfo(name or default)
    except (KeyError, ValueError):
        return ZoneInfo(default)


def _place(row, personal: bool) -> str:
    """Where the scan was: the carrier's own words on the customer's page; on a page earned
    with the postal code only the city, since some carriers' words name the doorstep."""
    city = ", ".join(p for p in (row.city, row.state, row.country) if p)
    return (row.location or city) if personal else city


def _city(ship_to: dict) -> str:
    return ", ".join(p for p in (ship_to.get("city"), ship_to.get("state")) if p)


def _event(row, personal: bool, place: bool) -> EventView:
    """Our translated status (and reason) first, the carrier's words as a detail. A label
    being created says it all: no carrier text, no "Shipper" for a place."""
    label = HEADLINES[Status(row.status)][0]
    created = row.status == Status.INFO_RECEIVED
    says_more = row.raw_text.strip().casefold() != label.casefold() and not created
    return EventView(
        status=row.status,
        label=label,
        occurred_at=row.occurred_at,
        reason=REASONS.get(row.reason or "", ""),
        detail=row.raw_text if personal and says_more else "",
        where=_place(row, personal) if (personal or place) and not created else "",
    )


def build_view(
    shipment: Shipment,
    now: datetime,
    personal: bool,
    return_window_days: int | None = None,
    default_zone: str = "UTC",
    place: bool = False,
    redelivery_on: date | None = None,
) -> TrackingView:
    """`redelivery_on`: the day the customer chose after a failed attempt, if any."""
    status, reason = Status(shipment.status), shipment.status_reason
    order = shipment.order
    ship_to = order.ship_to if order else {}
    zone = destination_zone(ship_to, default_zone)
    events = [
        _event(row, personal, place)
        for row in sorted(shipment.events, key=lambda e: e.occurred_at, reverse=True)
    ]
    delivered_on = shipment.delivered_at.astimezone(zone).date() if shipment.delivered_at else None
    pickup = _pickup(shipment, zone, shows_store=personal or place)
    found = situation(
        status,
        reason,
        now.astimezone(zone).date(),
        predicted=shipment.predicted_date,
        delivered_on=delivered_on,
        redelivery_on=redelivery_on,
        collect_by=pickup.deadline if pickup else None,
    )
    view = TrackingView(
        status=status.value,
        situation=found,
        reason=REASONS.get(reason or "") if status in ISSUES and reason != "lost" else None,
        step=_STEP[status],
        issue=status in ISSUES,
        carrier=shipment.carrier,
        tracking_number=shipment.tracking_number,
        zone=zone,
        promised_date=shipment.promised_date or (order.promised_date if order else None),
        predicted_date=shipment.predicted_date,
        delivered_on=delivered_on if status == Status.DELIVERED else None,
        shipped_at=shipment.shipped_at,
        events=events,
        personal=personal,
        pickup=pickup,
    )
    if not personal:
        return replace(view, destination=_city(ship_to)) if place else view
    proof = proof_of_delivery.proof_of(shipment)
    return_until = None
    if status == Status.DELIVERED and delivered_on and return_window_days:
        deadline = delivered_on + timedelta(days=return_window_days)
        return_until = deadline if now.astimezone(zone).date() <= deadline else None
    return _personal(view, order, ship_to, proof, return_until)


def _personal(view, order, ship_to: dict, proof: dict, return_until) -> TrackingView:
    return replace(
        view,
        order_number=order.order_number if order else "",
        destination=_city(ship_to),
        items=[(line.name or line.sku, line.quantity) for line in order.lines] if order else [],
        proof=ProofView(
            signed_by=str(proof.get("signed_by") or ""),
            left_at=str(proof.get("left_at") or ""),
            photo=bool(proof.get("photo")),
            carrier_photo_url=str(proof.get("photo_url") or ""),
        )
        if proof and view.delivered
        else None,
        return_until=return_until,
    )
