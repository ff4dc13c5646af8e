"""Quote a delivery date: pick the warehouse, add transit, land on a delivery day.

Everything here is pure (no clock, no I/O): the caller passes the ordering moment and the model.
The HTTP quote endpoint should call `estimate` (or `quote_from` for a fixed warehouse/service).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from shipflow import geo
from shipflow.calendars import BusinessCalendar, CutOff, apply_cutoff, calendar, preload
from shipflow.domain import CarrierService, Status, TrackingEvent, Warehouse
from shipflow.edd.dates import DatePMF, date_pmf, ordinal_pmf
from shipflow.edd.distribution import Distribution, point_mass
from shipflow.edd.lanes import Lane, Origin
from shipflow.edd.transit import MIN_PROMISE_LEVEL, TransitModel

EARLIEST_LEVEL, LATEST_LEVEL = 0.05, 0.95
# The window is stated to hold what lies between the two levels; the model's calibration says
# how much predictive mass its shortest span needs for that.
WINDOW_MASS = LATEST_LEVEL - EARLIEST_LEVEL
NO_LANE = "no lane history and no distance prior"


@dataclass(frozen=True, slots=True)
class Assumptions:
    warehouse: str = ""
    carrier: str = ""
    service: str = ""
    lane_level: str = ""  # the finest region pair with enough history, or "prior:distance"
    lane_samples: float = 0.0  # recency-weighted deliveries behind that level
    handling: str = ""  # "learned:<level>" or "configured"
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Estimate:
    """A promise (at `confidence`) with its window, or `no_estimate` saying why not."""

    promised: date | None = None
    earliest: date | None = None
    most_likely: date | None = None
    latest: date | None = None
    confidence: float = 0.95
    cutoff: datetime | None = None  # order before this moment to get this promise
    countdown: timedelta | None = None
    assumptions: Assumptions = field(default_factory=Assumptions)
    no_estimate: str | None = None
    # What revise() needs to predict the rest of the journey.
    lane: Lane | None = None
    destination: geo.Location | None = None
    delivery: BusinessCalendar | None = None
    dates: DatePMF | None = None

    @property
    def ok(self) -> bool:
        return self.no_estimate is None


def resolve_destination(
    country: str, postal_code: str = "", coordinates: tuple[float, float] | None = None
) -> geo.Location | None:
    if postal_code:
        return geo.locate(country, postal_code)
    if coordinates:
        return geo.location_at(country, *coordinates)
    return geo.locate(country, "")


def estimate(
    warehouses: Sequence[Warehouse],
    services: Sequence[CarrierService],
    model: TransitModel,
    sku: str,
    quantity: int,
    destination: geo.Location | None,
    ordered_at: datetime,
    confidence: float = 0.95,
) -> Estimate:
    """The best promise over warehouses with stock and services: earliest date, then nearest."""
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence}")
    if destination is None:
        return Estimate(confidence=confidence, no_estimate="unknown postal code")
    stocked = [w for w in warehouses if w.stock.get(sku, 0) >= quantity]
    if not stocked:
        return Estimate(confidence=confidence, no_estimate=f"no stock of {sku} x{quantity}")
    levels = Levels.of(model, confidence)
    candidates: list[tuple[date, float, int, LaneQuote]] = []
    for warehouse in stocked:
        origin = warehouse_location(warehouse)
        distance = geo.distance_km(origin, destination)
        nearness = distance if distance is not None else float("inf")
        start = handover(warehouse, origin, model, ordered_at)
        for service in services:
            quote = lane_quote(start, service, model, destination, distance)
            if quote is not None:
                bound = quote.earliest_promise(levels)
                candidates.append((bound, nearness, len(candidates), quote))
    # Building dates is the cost: go from the most promising lane and stop at the first that
    # cannot beat the best even at its earliest possible promise. Ranks end in the lane's
    # position, so ties go to the nearer warehouse, then to the first lane, as they always did.
    best, best_rank = None, None
    for bound, nearness, position, quote in sorted(candidates):
        if best_rank is not None and (bound, nearness, position) > best_rank:
            break
        rank = (quote.dates(levels)[1], nearness, position)
        if best_rank is None or rank < best_rank:
            best, best_rank = quote, rank
    if best is None:
        return Estimate(confidence=confidence, no_estimate=NO_LANE)
    return best.estimate(confidence, levels)  # only the winner is worth an Estimate


def warm_up(
    warehouses: Sequence[Warehouse],
    services: Sequence[CarrierService],
    countries: Sequence[str],
    years: range,
) -> None:
    """Build every calendar quoting will touch, so the first quote to a region is not slow."""
    for warehouse in warehouses:
        for weekdays in (warehouse.working_days, warehouse.pickup_days & warehouse.working_days):
            cal = calendar(weekdays, *warehouse.holidays)
            cal.is_business_day(date(years.start, 1, 1))
            cal.is_business_day(date(years.stop - 1, 1, 1))
        warehouse_location(warehouse)
    for service in services:
        for country in countries:
            preload(service.delivery_days, country, years)


def warehouse_location(warehouse: Warehouse) -> geo.Location:
    address = warehouse.address
    found = geo.locate(address.country, address.postal_code) if address.postal_code else None
    if found:
        return found
    return geo.location_at(address.country, warehouse.latitude, warehouse.longitude)


@dataclass(frozen=True, slots=True)
class Levels:
    """The predictive levels an estimate quotes at, looked up once for all its lanes."""

    promise: float
    rate: float | None  # see DatePMF.promise
    window_mass: float
    # the promise that keeps the window's stated share (WINDOW_MASS), as level and rate
    window_level: float
    window_rate: float | None

    @classmethod
    def of(cls, model: TransitModel, confidence: float) -> Levels:
        return cls(
            model.upper(confidence),
            model.promise_rate(confidence),
            model.window_mass(WINDOW_MASS),
            model.upper(WINDOW_MASS),
            model.promise_rate(WINDOW_MASS),
        )

    def window(self, dates: DatePMF) -> tuple[date, date]:
        """The shortest span holding the calibrated mass, ending no sooner than the promise
        that keeps the window's stated share: with most parcels on one day, a mass calibrated
        on past models' days decides that day alone or that day and the next for whole lanes
        at once, where the promise's calibration buys the next day for those that need it."""
        earliest, latest = dates.window(self.window_mass)
        return earliest, max(latest, dates.promise(self.window_level, self.window_rate))

    @property
    def floor(self) -> float:
        """The level no promise falls below: with a rate, the first date it may choose."""
        return self.promise if self.rate is None else MIN_PROMISE_LEVEL


@dataclass(frozen=True, slots=True)
class Handover:
    """What quoting needs of a warehouse for one ordering moment, whatever the service."""

    warehouse: Warehouse
    origin: geo.Location
    cut: CutOff
    handed: tuple[tuple[date, float], ...]  # (day the carrier has the parcel, probability)
    handling_source: str  # "learned:<level>" or "configured"


def handover(
    warehouse: Warehouse, origin: geo.Location, model: TransitModel, ordered_at: datetime
) -> Handover:
    working = calendar(warehouse.working_days, *warehouse.holidays)
    pickup = calendar(warehouse.pickup_days & warehouse.working_days, *warehouse.holidays)
    learned = model.predict_handling(Origin(warehouse.code, origin.regions))
    handling = learned or point_mass(warehouse.handling_days, "configured")
    cut = _cut(warehouse, ordered_at)
    return Handover(
        warehouse,
        origin,
        cut,
        handed_over(cut.start_day, handling, working, pickup),
        f"learned:{learned.level}" if learned else "configured",
    )


def same_estimate_until(warehouses: Sequence[Warehouse], ordered_at: datetime) -> datetime:
    """The first of the warehouses' next cut-offs. `estimate` depends on its ordering moment
    only through each warehouse's cut-off (`handover`: the day it starts on and its deadline,
    both the same from one cut-off to the next), so it gives the same answer (but its
    `countdown`) for every moment from `ordered_at` to this one, which names that span."""
    deadlines = (_cut(w, ordered_at).deadline for w in warehouses)
    return min(deadlines, default=datetime.max.replace(tzinfo=UTC))  # none: never changes


def _cut(warehouse: Warehouse, ordered_at: datetime) -> CutOff:
    """The warehouse's cut-off for an order at `ordered_at`, on its working days."""
    working = calendar(warehouse.working_days, *warehouse.holidays)
    return apply_cutoff(ordered_at, warehouse.timezone, warehouse.cutoff, working)


@lru_cache(maxsize=4096)
def handed_over(
    start: date, handling: Distribution, working: BusinessCalendar, pickup: BusinessCalendar
) -> tuple[tuple[date, float], ...]:
    """Handling business days from `start`, then the next pickup: computed once per warehouse
    and day, not per service and destination."""
    return tuple((pickup.next_day(working.add(start, days)), p) for days, p in handling.support())


@dataclass(frozen=True, slots=True)
class LaneQuote:
    """One warehouse and service to a destination: transit known, dates built on demand."""

    start: Handover
    service: CarrierService
    destination: geo.Location
    lane: Lane
    transit: Distribution
    delivery: BusinessCalendar

    def dates(self, levels: Levels) -> tuple[DatePMF, date, date, date]:
        """Delivery dates, promise, earliest and latest (cached, see `summary`)."""
        return summary(self.start.handed, self.transit, self.delivery, levels)

    def earliest_promise(self, levels: Levels) -> date:
        """A day the promise cannot precede, without building dates: the transit quantile from
        the first handover day (later handovers only deliver later). The margin, far above
        rounding, keeps it a bound where the promise's own quantile tolerance could tip over."""
        days = _first_reaching(self.transit.support(), levels.floor - 1e-9)
        first = min(day for day, _ in self.start.handed)
        return date.fromordinal(self.delivery.ordinals_from(first, days)[days])

    def estimate(self, confidence: float, levels: Levels) -> Estimate:
        start, transit = self.start, self.transit
        dates, promised, earliest, latest = self.dates(levels)
        notes = tuple(n for n in (start.origin.note, self.destination.note) if n)
        return Estimate(
            promised=promised,
            earliest=earliest,
            most_likely=dates.most_likely,
            latest=latest,
            confidence=confidence,
            cutoff=start.cut.deadline,
            countdown=start.cut.countdown,
            assumptions=Assumptions(
                start.warehouse.code,
                self.service.carrier,
                self.service.service,
                transit.level,
                round(transit.samples, 1),
                start.handling_source,
                notes,
            ),
            lane=self.lane,
            destination=self.destination,
            delivery=self.delivery,
            dates=dates,
        )


def _first_reaching(support: tuple[tuple[int, float], ...], level: float) -> int:
    """The fewest transit days whose cumulative mass reaches `level` (else the most)."""
    total = 0.0
    for days, q in support:
        total += q
        if total >= level:
            return days
    return support[-1][0]


def quote_from(
    warehouse: Warehouse,
    origin: geo.Location,
    service: CarrierService,
    model: TransitModel,
    destination: geo.Location,
    ordered_at: datetime,
    confidence: float = 0.95,
) -> Estimate:
    """The promise for one warehouse and service (the benchmark scores this directly)."""
    start = handover(warehouse, origin, model, ordered_at)
    distance = geo.distance_km(origin, destination)
    quote = lane_quote(start, service, model, destination, distance)
    if quote is None:
        return Estimate(confidence=confidence, no_estimate=NO_LANE)
    return quote.estimate(confidence, Levels.of(model, confidence))


def route_quote(
    warehouse: Warehouse,
    origin: geo.Location,
    service: CarrierService,
    model: TransitModel,
    destination: geo.Location,
    confidence: float = 0.95,
) -> Estimate:
    """`quote_from` without its dates: the lane, destination and delivery days, all that
    `revise` needs of a parcel handed over (the dates follow from the ordering moment and the
    handling, both behind it, and cost most of a quote); NO_LANE where `quote_from` says so."""
    distance = geo.distance_km(origin, destination)
    route = lane_route(warehouse, origin, service, model, destination, distance)
    if route is None:
        return Estimate(confidence=confidence, no_estimate=NO_LANE)
    lane, _transit, delivery = route
    return Estimate(confidence=confidence, lane=lane, destination=destination, delivery=delivery)


def lane_quote(
    start: Handover,
    service: CarrierService,
    model: TransitModel,
    destination: geo.Location,
    distance: float | None,
) -> LaneQuote | None:
    """One service from a warehouse's handover; None without a transit model."""
    route = lane_route(start.warehouse, start.origin, service, model, destination, distance)
    return None if route is None else LaneQuote(start, service, destination, *route)


def lane_route(
    warehouse: Warehouse,
    origin: geo.Location,
    service: CarrierService,
    model: TransitModel,
    destination: geo.Location,
    distance: float | None,
) -> tuple[Lane, Distribution, BusinessCalendar] | None:
    """One service's lane from a warehouse to a destination, its transit and the delivery
    days: what a dated quote and `route_quote`'s undated one share; None without a transit
    model."""
    lane = Lane(service.key, origin.regions, destination.regions, distance, warehouse.code)
    transit = model.predict(lane)
    if transit is None:
        return None
    return lane, transit, calendar(service.delivery_days, destination.country)


@lru_cache(maxsize=65536)
def summary(
    handed: tuple[tuple[date, float], ...],
    transit: Distribution,
    delivery: BusinessCalendar,
    levels: Levels,
) -> tuple[DatePMF, date, date, date]:
    """Delivery dates, the promise (see `DatePMF.promise`) and the window (`Levels.window`),
    cached: same handover days, same answer."""
    dates = delivery_dates(handed, transit, delivery)
    return dates, dates.promise(levels.promise, levels.rate), *levels.window(dates)


def delivery_dates(
    handed: tuple[tuple[date, float], ...], transit: Distribution, delivery: BusinessCalendar
) -> DatePMF:
    """Combine handover days and transit into delivery dates."""
    mass: dict[int, float] = {}
    support = transit.support()
    longest = support[-1][0]
    for handover_day, p in handed:
        after = delivery.ordinals_from(handover_day, longest)
        for transit_days, q in support:
            day = after[transit_days]
            mass[day] = mass.get(day, 0.0) + p * q
    return ordinal_pmf(mass)


@dataclass(frozen=True, slots=True)
class Prediction:
    """The current best guess after purchase; the promise it revises is left untouched."""

    most_likely: date
    earliest: date
    latest: date
    at_confidence: date
    basis: str


def revise(
    promise: Estimate,
    model: TransitModel,
    status: Status | None,
    event_at: datetime,
    zone: str = "UTC",
    handed_over_at: datetime | None = None,
    event_location: geo.Location | None = None,
) -> Prediction | None:
    """Predict delivery from the latest tracking event; None when the promise had no estimate.
    Before handover the promise's dates are revised, so it must have them (not `route_quote`).

    `zone` is the destination's time zone (delivery dates are in the customer's calendar).
    With an event location the rest of the journey is that region -> destination; without,
    the lane's transit is conditioned on the business days already spent since handover.
    """
    if promise.delivery is None or promise.lane is None:
        return None
    delivery = promise.delivery
    today = event_at.astimezone(ZoneInfo(zone)).date()
    if status == Status.DELIVERED:
        return _fixed(today, "delivered")
    if status == Status.OUT_FOR_DELIVERY:
        return _fixed(today, "out for delivery")
    if status == Status.ATTEMPT_FAILED:
        return _fixed(delivery.after(today, 1), "next delivery day after a failed attempt")
    earliest_possible = delivery.next_day(today)
    levels = Levels.of(model, promise.confidence)
    if handed_over_at is None:
        if promise.dates is None:
            raise ValueError("a parcel awaiting handover is revised from a dated quote")
        mass = {
            d: p for d, p in zip(promise.dates.days, promise.dates.probabilities(), strict=True)
        }
        return Prediction(*_dated(mass, earliest_possible, levels), "awaiting handover")
    lane, start = promise.lane, handed_over_at.astimezone(ZoneInfo(zone)).date()
    elapsed, basis = delivery.count(start, today), "since handover"
    if event_location is not None:
        distance = (
            geo.distance_km(event_location, promise.destination) if (promise.destination) else None
        )
        lane = Lane(lane.service, event_location.regions, lane.destination, distance)
        start, elapsed, basis = today, 0, f"from {event_location.regions[0]}"
    transit = model.predict(lane)
    if transit is None:
        return None
    return Prediction(
        *_remaining(transit, max(elapsed, 0), start, delivery, earliest_possible, levels), basis
    )


@lru_cache(maxsize=65536)
def _remaining(
    transit: Distribution,
    elapsed: int,
    start: date,
    delivery: BusinessCalendar,
    not_before: date,
    levels: Levels,
) -> tuple[date, date, date, date]:
    """Most likely, earliest, latest and at-confidence dates of the transit left after
    `elapsed` business days from `start`, cached: parcels of a lane handed over and scanned
    on the same days share them, and each tracking event revises one (most of a revision's
    CPU, where the quote's geography and calendars are cached already)."""
    support = transit.at_least(elapsed).support()
    # n business days after `start` for every n at once (n=0: `start` or the next open day)
    ordinals = delivery.ordinals_from(start, support[-1][0])
    mass: dict[date, float] = {}
    for days, p in support:
        day = date.fromordinal(ordinals[days])
        mass[day] = mass.get(day, 0.0) + p
    return _dated(mass, not_before, levels)


MOVING = frozenset(
    {
        Status.IN_TRANSIT,
        Status.OUT_FOR_DELIVERY,
        Status.ATTEMPT_FAILED,
        Status.AVAILABLE_FOR_PICKUP,
        Status.DELIVERED,
    }
)


def revise_from_events(
    promise: Estimate, model: TransitModel, events: Sequence[TrackingEvent], zone: str = "UTC"
) -> Prediction | None:
    """`revise` from a shipment's normalized events: handover is the first moving event,
    position the latest event's postal code when the carrier gives one."""
    if not events:
        return None
    latest = sorted(events, key=lambda e: e.occurred_at)[-1]
    where = geo.locate(latest.country, latest.postal_code) if latest.postal_code else None
    handed = handed_over_at(events)
    return revise(promise, model, latest.status, latest.occurred_at, zone, handed, where)


def handed_over_at(events: Sequence[TrackingEvent]) -> datetime | None:
    """When the carrier had the parcel: its first moving event (None: not yet)."""
    return min((e.occurred_at for e in events if e.status in MOVING), default=None)


def _fixed(day: date, basis: str) -> Prediction:
    return Prediction(day, day, day, day, basis)


def _dated(
    mass: dict[date, float], not_before: date, levels: Levels
) -> tuple[date, date, date, date]:
    """Most likely, earliest, latest and at-confidence dates; dates already past collapse
    onto the first possible delivery day."""
    moved: dict[date, float] = {}
    for day, p in mass.items():
        moved[max(day, not_before)] = moved.get(max(day, not_before), 0.0) + p
    dates = date_pmf(moved)
    earliest, latest = levels.window(dates)
    return dates.most_likely, earliest, latest, dates.quantile(levels.promise)
