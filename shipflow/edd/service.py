"""The EDD service: quotes for a brand from its configuration and its newest stored model.

The web widget asks `EddService.quote`; the fulfilment flow
`EddService.promise_shipments`; the tracking pipeline `EddService.revise_shipments`. Models
are read from the database once and cached; a newer stored model is picked up within
`refresh_seconds`.
"""

from __future__ import annotations

import logging
import threading
import time as clock_time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from typing import TYPE_CHECKING, NamedTuple

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from carriers.reach import Reach, delivers_to, reach_of
from shipflow import geo
from shipflow.brands import brand_by_code, brand_config
from shipflow.domain import CarrierService, ServiceLevel, Status, TrackingEvent, Warehouse
from shipflow.edd.backlog import backlog_stretches, stale_after
from shipflow.edd.engine import (
    Estimate,
    estimate,
    handed_over_at,
    quote_from,
    revise_from_events,
    route_quote,
    same_estimate_until,
    warm_up,
)
from shipflow.edd.history import HistoryRecord
from shipflow.edd.incidents import Excess, open_excess, widened
from shipflow.edd.repository import add_history, latest_model_id, load_model
from shipflow.edd.transit import TransitModel
from shipflow.store.db import insert_all, per_transaction
from shipflow.store.edd_models import PredictionRevision
from shipflow.store.models import Shipment, table_of
from shipflow.store.shipment_writes import TrackedShipment, stage, write_staged

if TYPE_CHECKING:
    from shipflow.config import BrandConfig, Settings
    from shipflow.runtime import Runtime

log = logging.getLogger(__name__)
UNTRAINED = TransitModel()  # distance prior only, until a model is stored
NOT_SERVED = "no service delivers to"  # an Estimate's no_estimate for an unreachable address
# A cart's lines: (SKU, quantity) pairs, as a product page (one line) or a cart has them.
Lines = tuple[tuple[str, int], ...]
_REVISIONS = table_of(PredictionRevision)


@dataclass
class _RevisionBatch:
    """What `revise_shipments` gathers over one batch (the revisions and delivery records to
    write) and works out once for it: each brand's model and setup, and each route's undated
    quote (brand, warehouse, carrier, service, destination: `route_quote` depends on nothing
    else)."""

    revisions: list[dict] = field(default_factory=list)
    delivered: dict[str, list[HistoryRecord]] = field(default_factory=dict)
    brands: dict[str, tuple[TransitModel, BrandSetup]] = field(default_factory=dict)
    routes: dict[tuple[str, ...], tuple[Estimate, str] | None] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class BrandSetup:
    """What quoting needs of a brand's configuration, converted once."""

    config: BrandConfig
    warehouses: tuple[Warehouse, ...]
    services: tuple[CarrierService, ...]
    skus: frozenset[str]
    prices: Mapping[str, int]  # service key -> what the shopper pays for it (minor units)

    @classmethod
    def of(cls, brand: BrandConfig) -> BrandSetup:
        warehouses = tuple(w.to_domain() for w in brand.warehouses)
        services = tuple(s for account in brand.carriers for s in account.services_domain())
        skus = {p.sku for p in brand.products} | {s for w in warehouses for s in w.stock}
        prices = {
            f"{account.carrier}:{s.code}": s.price
            for account in brand.carriers
            for s in account.services
            if s.price is not None
        }
        return cls(brand, warehouses, services, frozenset(skus), prices)

    @property
    def standard_services(self) -> tuple[CarrierService, ...]:
        """What a product page promises: the level an order gets unless it asks for more
        (allocation may upgrade it, never downgrade it)."""
        standard = tuple(s for s in self.services if s.level == ServiceLevel.STANDARD)
        return standard or self.services

    def services_at(self, level: ServiceLevel) -> tuple[CarrierService, ...]:
        """The services a quote at `level` may use: standard as a product page promises it,
        or another level a checkout offers (`pickup_point`: to a store)."""
        if level is ServiceLevel.STANDARD:
            return self.standard_services
        return tuple(s for s in self.services if s.level == level)

    def cutoffs(self) -> dict[str, tuple[time, str]]:
        return {w.code: (w.cutoff, w.timezone) for w in self.warehouses}

    def warehouse(self, code: str) -> Warehouse | None:
        return next((w for w in self.warehouses if w.code == code), None)

    def service(self, carrier: str, service: str) -> CarrierService | None:
        return next(
            (s for s in self.services if s.carrier == carrier and s.service == service), None
        )


class InvalidQuery(Exception):
    """A quote asked for something that does not exist; `field` names the culprit."""

    def __init__(self, field: str, message: str, status: int = 422) -> None:
        super().__init__(f"{field}: {message}")
        self.field, self.message, self.status = field, message, status


class EddService:
    """One per runtime (its composition root builds it): brand setups, the stored models
    parsed once, the newest model per brand, quotes cached from one cut-off to the next."""

    def __init__(
        self, runtime: Runtime, refresh_seconds: float = 30.0, cache_size: int = 50_000
    ) -> None:
        self.runtime = runtime
        self.refresh_seconds = refresh_seconds
        self.cache_size = cache_size
        self._setups: dict[str, BrandSetup] = {}
        # per brand code: (checked at, its newest stored model, that model quoting now)
        self._models: dict[str, tuple[float, TransitModel, TransitModel]] = {}
        self._excess: dict[str, Excess] = {}  # per brand code, read with its model
        self._brand_ids: dict[str, str] = {}
        self._quotes: dict[tuple, Estimate] = {}
        # per brand code: (a moment, when its quotes next change: `same_estimate_until`)
        self._spans: dict[str, tuple[datetime, datetime]] = {}
        # per brand code: held while its model is looked up, so one brand's slow lookup holds
        # up no other brand's quotes (`_locks_lock` guards the dict, not the lookups)
        self._locks: dict[str, threading.Lock] = {}
        self._locks_lock = threading.Lock()
        self._stored: OrderedDict[tuple[str, int], TransitModel] = OrderedDict()
        self._stored_lock = threading.Lock()

    def stored_model(self, session: Session, brand_id: str, model_id: int) -> TransitModel:
        """A stored model, parsed once (rows never change once written)."""
        key = (brand_id, model_id)
        with self._stored_lock:
            if key in self._stored:
                self._stored.move_to_end(key)
                return self._stored[key]
        model = load_model(session, model_id)
        with self._stored_lock:
            self._stored[key] = model
            while len(self._stored) > 8:
                self._stored.popitem(last=False)
        return model

    def latest_model(self, session: Session, brand_id: str | None) -> TransitModel:
        model_id = (
            per_transaction(
                session, ("edd.latest_model", brand_id), lambda: latest_model_id(session, brand_id)
            )
            if brand_id
            else None
        )
        return (
            self.stored_model(session, brand_id, model_id) if brand_id and model_id else UNTRAINED
        )

    def setup_of(self, session: Session, brand_id: str) -> BrandSetup:
        """`setup` of a brand row's configuration."""
        brand = brand_config(session, brand_id, self.runtime.settings)
        if brand is None:
            raise UnconfiguredBrand(f"brand {brand_id} is not in the configuration")
        return self.setup(brand)

    def setup(self, brand: BrandConfig) -> BrandSetup:
        """The brand's converted configuration (rebuilt if handed another version of it)."""
        setup = self._setups.get(brand.code)
        if setup is None or setup.config is not brand:
            setup = self._setups[brand.code] = BrandSetup.of(brand)
            self._spans.pop(brand.code, None)
            self._quotes.clear()
        return setup

    def model(self, brand_code: str, now: datetime) -> TransitModel:
        """The brand's newest stored model stretched by its current backlog, both looked up
        again after `refresh_seconds`: by one request, while the others quote on with the
        model they have (its queries, the backlog's aggregate among them, hold up no more
        than the request that runs them)."""
        checked = self._models.get(brand_code)
        clock = clock_time.monotonic()
        if checked and clock - checked[0] < self.refresh_seconds:
            return checked[2]
        lock = self._lock(brand_code)
        if checked is None:
            lock.acquire()  # a brand's first quote waits for its model
        elif not lock.acquire(blocking=False):
            return checked[2]  # another request is refreshing it: quote on with this one
        try:
            return self._refresh(brand_code, now)
        finally:
            lock.release()

    def _lock(self, brand_code: str) -> threading.Lock:
        with self._locks_lock:
            return self._locks.setdefault(brand_code, threading.Lock())

    def _refresh(self, brand_code: str, now: datetime) -> TransitModel:
        checked = self._models.get(brand_code)
        clock = clock_time.monotonic()
        if checked and clock - checked[0] < self.refresh_seconds:
            return checked[2]  # refreshed while this request waited for the lock
        try:
            with self.runtime.sessions() as session:
                brand_id = self._brand_ids.get(brand_code)
                if brand_id is None:
                    brand = brand_by_code(session, brand_code)
                    brand_id = brand.id if brand else None
                    if brand_id:
                        self._brand_ids[brand_code] = brand_id
                model = self.latest_model(session, brand_id)
                excess = open_excess(session, brand_id) if brand_id else {}
                stretch = backlog_stretches(
                    session, brand_id, now, model.config, stale_after(self.runtime.clock)
                )
        except SQLAlchemyError as exc:  # quote from what we have; look again next time
            log.warning("EDD model lookup failed for %s: %s", brand_code, exc)
            return checked[2] if checked else UNTRAINED
        # the same stored model keeps its arrays and lanes while its stretch does not change
        quoting = (checked[2] if checked and checked[1] is model else model).with_backlog(stretch)
        if checked is None or checked[2] is not quoting or self._excess.get(brand_code) != excess:
            self._quotes.clear()  # quotes of the old model, stretch or incidents are stale
        self._excess[brand_code] = excess
        self._models[brand_code] = (clock, model, quoting)
        return quoting

    def quote(
        self,
        brand: BrandConfig,
        lines: Lines,
        postal_code: str,
        country: str,
        now: datetime,
        level: ServiceLevel = ServiceLevel.STANDARD,
    ) -> Estimate:
        """The promise for `lines` ordered `now` at `level`, cached until a warehouse's cut-off
        passes (`same_estimate_until`; the countdown is `now`'s). A cart is complete when its
        slowest line arrives: its promise is that line's."""
        setup = self.setup(brand)
        for sku, _ in lines:
            if sku not in setup.skus:
                raise InvalidQuery(
                    "sku", f"{setup.config.name} sells no product with SKU {sku!r}", 404
                )
        services = setup.services_at(level)
        if not services:
            raise InvalidQuery(
                "service_level", f"{setup.config.name} offers no {level} service", 404
            )
        if len(country) != 2 or not country.isalpha():
            raise InvalidQuery("country", "expected a two-letter country code like US")
        country = country.upper()
        reach = reach_of(country, postal_code)
        services = tuple(s for s in services if delivers_to(s.carrier, reach))
        if not services:
            return Estimate(confidence=brand.edd_confidence, no_estimate=f"{NOT_SERVED} {reach}")
        model = self.model(brand.code, now)
        until = self._same_until(setup, now)
        destination = None
        estimates = []
        for sku, quantity in lines:
            key = (brand.code, sku, quantity, country, postal_code, until, level)
            cached = self._quotes.get(key)
            if cached is None:
                destination = destination or _destination(country, postal_code, reach)
                cached = widened(
                    estimate(
                        setup.warehouses,
                        services,
                        model,
                        sku,
                        quantity,
                        destination,
                        now,
                        setup.config.edd_confidence,
                    ),
                    self._excess.get(brand.code, {}),
                    setup.config.alerts.lane.region,
                )
                if len(self._quotes) >= self.cache_size:
                    self._quotes.clear()
                self._quotes[key] = cached
            if not cached.ok:
                return cached
            estimates.append(cached)
        slowest = max(estimates, key=lambda e: (_window(e).promised, _window(e).latest))
        return replace(slowest, countdown=slowest.cutoff - now if slowest.cutoff else None)

    def _same_until(self, setup: BrandSetup, now: datetime) -> datetime:
        """When the brand's quotes change with the clock (`same_estimate_until`), computed
        again once that moment has come, or for a moment before the one it was computed for
        (a clock set back)."""
        code = setup.config.code
        span = self._spans.get(code)
        if span is None or not span[0] <= now < span[1]:
            span = self._spans[code] = (now, same_estimate_until(setup.warehouses, now))
        return span[1]

    def promise_shipments(
        self, session: Session, shipments: Sequence[Shipment], now: datetime
    ) -> dict[str, Estimate | None]:
        """Promise a date for each new shipment and its order (only where none was promised
        yet: a promise is never silently changed); the first prediction is its most likely
        date, kept in `prediction_revisions` (one insert for the batch). Each shipment's
        estimate, by id; None for one that cannot be quoted."""
        revisions: list[dict] = []
        promised = {s.id: self._promise(session, s, now, revisions) for s in shipments}
        insert_all(session, _REVISIONS, revisions)
        return promised

    def _promise(
        self, session: Session, shipment: Shipment, now: datetime, revisions: list[dict]
    ) -> Estimate | None:
        stored = self.latest_model(session, shipment.brand_id)
        model = per_transaction(  # a batch's shipments share the brand's backlog and lanes
            session,
            ("edd.backlog", shipment.brand_id),
            lambda: stored.with_backlog(
                backlog_stretches(
                    session, shipment.brand_id, now, stored.config, stale_after(self.runtime.clock)
                )
            ),
        )
        quoted = self._shipment_quote(session, shipment, model)
        if quoted is None or not quoted[0].ok:
            return quoted[0] if quoted else None
        by = brand_setup(session, shipment.brand_id, self.runtime.settings).config.alerts.lane
        excess = per_transaction(  # a batch's shipments share the brand's open incidents
            session,
            ("edd.open_excess", shipment.brand_id),
            lambda: open_excess(session, shipment.brand_id),
        )
        promise = widened(quoted[0], excess, by.region)
        if shipment.promised_date is None:
            shipment.promised_date = promise.promised
        order = shipment.order
        if order is not None and order.promised_date is None:
            order.promised_date = promise.promised
        most_likely = _window(promise).most_likely
        revisions += _revision(shipment, most_likely, "at purchase", now)
        shipment.predicted_date = most_likely
        return promise

    def revise_shipments(
        self, session: Session, tracked: Sequence[tuple[TrackedShipment, Sequence[TrackingEvent]]]
    ) -> dict[str, date | None]:
        """Predict delivery for each shipment of a batch from its events, keeping each change
        in `prediction_revisions` (one insert for the batch); None for a shipment that cannot
        be quoted (the caller may fall back on the carrier's estimate). The new predictions are
        written in one UPDATE (`shipment_writes`); promises are left alone. Delivered shipments
        join the history (one write per brand). Each brand's model and setup are read once per
        batch, each route quoted once (`_RevisionBatch`)."""
        batch = _RevisionBatch()
        revised = {
            shipment.id: self._revise(session, shipment, events, batch)
            for shipment, events in tracked
        }
        insert_all(session, _REVISIONS, batch.revisions)
        write_staged(session)  # the new predictions, one UPDATE for the batch
        for brand_id, records in batch.delivered.items():
            add_history(session, brand_id, records, "tracked")
        return revised

    def _revise(
        self,
        session: Session,
        shipment: TrackedShipment,
        events: Sequence[TrackingEvent],
        batch: _RevisionBatch,
    ) -> date | None:
        order = shipment.order
        if order is None or not events:
            return None
        brand_id = shipment.brand_id
        if brand_id not in batch.brands:
            batch.brands[brand_id] = (
                self.latest_model(session, brand_id),
                self.setup_of(session, brand_id),
            )
        model, setup = batch.brands[brand_id]
        if handed_over_at(events) is None:
            quoted = _shipment_quote(shipment, model, setup)
        else:
            ship_to = order.ship_to or {}
            route = (
                brand_id,
                shipment.warehouse_code,
                shipment.carrier,
                shipment.service,
                str(ship_to.get("country", "")),
                str(ship_to.get("postal_code", "")),
            )
            if route not in batch.routes:
                batch.routes[route] = _shipment_quote(shipment, model, setup, dated=False)
            quoted = batch.routes[route]
        if quoted is None or not quoted[0].ok:
            return None
        promise, zone = quoted
        prediction = revise_from_events(promise, model, events, zone)
        if prediction is None:
            return None
        latest = max(events, key=lambda e: e.occurred_at)
        day = prediction.most_likely
        batch.revisions.extend(_revision(shipment, day, prediction.basis, latest.occurred_at))
        stage(session, shipment, predicted_date=day)
        if latest.status == Status.DELIVERED:
            record = _delivery_record(shipment, events, setup)
            batch.delivered.setdefault(brand_id, []).append(record)
        return day

    def _shipment_quote(
        self, session: Session, shipment: Shipment, model: TransitModel
    ) -> tuple[Estimate, str] | None:
        if shipment.order is None:
            return None
        return _shipment_quote(shipment, model, self.setup_of(session, shipment.brand_id))

    def warm_up(self, now: datetime) -> None:
        """Build calendars, postal index and models before the first customer asks."""
        geo.locate("US", "10001")
        years = range(now.year, now.year + 2)
        for brand in self.runtime.settings.brands:
            setup = self.setup(brand)
            # a brand ships at least within its warehouses' countries
            countries = sorted({"US", *(w.address.country.upper() for w in setup.warehouses)})
            for country in countries:
                geo.load(country)
            warm_up(setup.warehouses, setup.services, countries, years)
            self.model(brand.code, now)


def _destination(country: str, postal_code: str, reach: Reach | None) -> geo.Location:
    """The located postal code; InvalidQuery saying what is wrong with an unknown one. The
    ZIP table places military post offices at 0, 0: they are overseas, nowhere to measure
    a distance from, so their transit comes from lane history only."""
    destination = geo.locate(country, postal_code)
    if destination is None:
        try:
            geo.validate_postal_code(country, postal_code)
        except geo.InvalidPostalCode as error:
            raise InvalidQuery("postal_code", str(error)) from None
        raise InvalidQuery("postal_code", f"{postal_code!r} is not a known postal code")
    if reach is Reach.MILITARY:
        return replace(destination, lat=None, lng=None)
    return destination


class DatedWindow(NamedTuple):
    promised: date
    earliest: date
    most_likely: date
    latest: date


def _window(result: Estimate) -> DatedWindow:
    """The dates of an estimate that is `ok`: the engine sets all four whenever it promises."""
    promised, earliest = result.promised, result.earliest
    most_likely, latest = result.most_likely, result.latest
    if promised is None or earliest is None or most_likely is None or latest is None:
        raise ValueError(f"estimate without its dates: {result.no_estimate or 'none missing'}")
    return DatedWindow(promised, earliest, most_likely, latest)


def widget_answer(result: Estimate, now: datetime) -> dict:
    """The widget's JSON: dates in the customer's calendar, or why there is no date."""
    why = result.no_estimate
    if why is not None:
        if why.startswith(NOT_SERVED):  # the shopper is told which addresses are not served
            reach = why.removeprefix(NOT_SERVED).strip()
            return {"available": False, "reason": "not_served", "reach": reach}
        return {
            "available": False,
            "reason": "out_of_stock" if why.startswith("no stock") else "no_estimate",
        }
    window = _window(result)
    assumptions = result.assumptions
    countdown = max(0, int((result.cutoff - now).total_seconds())) if result.cutoff else None
    return {
        "available": True,
        "promise_date": window.promised.isoformat(),
        "earliest": window.earliest.isoformat(),
        "most_likely": window.most_likely.isoformat(),
        "latest": window.latest.isoformat(),
        "cutoff_at": result.cutoff.isoformat() if result.cutoff else None,
        "countdown_seconds": countdown,
        "warehouse": assumptions.warehouse,
        "carrier": assumptions.carrier,
        "service": assumptions.service,
        "confidence": result.confidence,
        "basis": {
            "lane": assumptions.lane_level,
            "lane_samples": assumptions.lane_samples,
            "handling": assumptions.handling,
        },
    }


# --- after purchase -------------------------------------------------------------------------


class UnconfiguredBrand(LookupError):
    """A brand row that the configuration does not (or no longer) name."""


def brand_setup(session: Session, brand_id: str, settings: Settings) -> BrandSetup:
    brand = brand_config(session, brand_id, settings)
    if brand is None:
        raise UnconfiguredBrand(f"brand {brand_id} is not in the configuration")
    return BrandSetup.of(brand)


def _shipment_quote(
    shipment: Shipment | TrackedShipment, model: TransitModel, setup: BrandSetup, dated: bool = True
) -> tuple[Estimate, str] | None:
    """The quote for the shipment as allocated (its warehouse and service, the order's moment),
    and the destination's time zone; None when the shipment lacks what quoting needs. Not
    `dated`: its route only (`route_quote`), all a revision after handover needs, so each
    tracking event of a parcel on its way re-reads no handling, cut-off or dates; the route is
    still worked out from the configuration and the latest model at each event, as the full
    quote was (a warehouse or service reconfigured, or a lane the new model cannot quote,
    is seen at the next event)."""
    order = shipment.order
    if order is None:
        return None
    warehouse = setup.warehouse(shipment.warehouse_code)
    service = setup.service(shipment.carrier, shipment.service) or CarrierService(
        shipment.carrier, shipment.service
    )
    ship_to = order.ship_to or {}
    destination = geo.locate(
        str(ship_to.get("country", "")).upper(), str(ship_to.get("postal_code", ""))
    )
    if warehouse is None or destination is None:
        return None
    origin = geo.locate(warehouse.address.country, warehouse.address.postal_code) or (
        geo.location_at(warehouse.address.country, warehouse.latitude, warehouse.longitude)
    )
    confidence = setup.config.edd_confidence
    quote = (
        quote_from(warehouse, origin, service, model, destination, order.placed_at, confidence)
        if dated
        else route_quote(warehouse, origin, service, model, destination, confidence)
    )
    return quote, destination.timezone or warehouse.timezone


def _revision(
    shipment: Shipment | TrackedShipment, day: date, basis: str, at: datetime
) -> list[dict]:
    """The `prediction_revisions` row to insert if the prediction changes to `day`."""
    if shipment.predicted_date == day:
        return []
    return [{"shipment_id": shipment.id, "predicted_date": day, "basis": basis, "revised_at": at}]


MOVING = (Status.IN_TRANSIT, Status.OUT_FOR_DELIVERY, Status.DELIVERED)


def _delivery_record(
    shipment: TrackedShipment, events: Sequence[TrackingEvent], setup: BrandSetup
) -> HistoryRecord:
    """A delivered shipment as a history record the next training learns from."""
    ordered = sorted(events, key=lambda e: e.occurred_at)
    handed = next((e.occurred_at for e in ordered if e.status in MOVING), None)
    delivered = next(e.occurred_at for e in reversed(ordered) if e.status == Status.DELIVERED)
    order = shipment.order
    warehouse = setup.warehouse(shipment.warehouse_code)
    if order is None or warehouse is None:  # `_revise` quoted it, which needs both
        raise ValueError(f"shipment {shipment.id} has no order or no configured warehouse")
    ship_to = order.ship_to or {}
    return HistoryRecord(
        order_id=shipment.id,
        ordered_at=order.placed_at,
        shipper_id=shipment.warehouse_code,
        origin_postal_code=warehouse.address.postal_code,
        origin_country=warehouse.address.country,
        destination_postal_code=str(ship_to.get("postal_code", "")),
        destination_country=str(ship_to.get("country", "")).upper(),
        carrier=shipment.carrier,
        service=shipment.service,
        handed_to_carrier_at=handed,
        delivered_at=delivered,
        promised_date=shipment.promised_date,
        origin_state=warehouse.address.state,
        destination_state=str(ship_to.get("state", "")),
    )
