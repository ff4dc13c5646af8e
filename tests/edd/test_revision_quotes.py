"""A tracking event revises a parcel on its way from its route alone (`route_quote`), and its
remaining transit is dated once per lane and days (`_remaining`): the predictions must be
those of the full quote recomputed from scratch at the event, with the latest model."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from shipflow import geo
from shipflow.brands import sync_brands
from shipflow.domain import CarrierService, Status, TrackingEvent
from shipflow.edd import engine
from shipflow.edd.engine import handed_over_at
from shipflow.edd.repository import store_model
from shipflow.edd.service import _shipment_quote
from shipflow.edd.transit import TransitModel
from shipflow.orders import LineInput, create_order
from shipflow.store.db import unit_of_work
from shipflow.store.models import Shipment
from tests.edd.factories import GROUND, history, warehouse

PLACED = datetime(2026, 11, 23, 15, tzinfo=UTC)  # Monday of Thanksgiving week (Thu 26 closed)
WAREHOUSES = (("EWR", "08817"), ("DFW", "75261"), ("RNO", "89502"))
SERVICES = ("ground", "express", "economy")
DESTINATIONS = ("60601", "10001", "94103", "33101", "98101", "75201", "02108")


def at(day: int, hour: int) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=UTC)


def scan(status: Status, when: datetime, postal_code: str = "") -> TrackingEvent:
    return TrackingEvent(status, when, status.value, postal_code=postal_code, country="US")


PICKED_UP = scan(Status.IN_TRANSIT, at(23, 22))
JOURNEYS = (
    [scan(Status.INFO_RECEIVED, at(23, 16))],  # awaiting handover: the quote's own dates
    [PICKED_UP],
    [PICKED_UP, scan(Status.IN_TRANSIT, at(25, 14))],  # the day before the holiday
    [PICKED_UP, scan(Status.IN_TRANSIT, at(27, 9))],  # after it
    [PICKED_UP, scan(Status.IN_TRANSIT, at(27, 9), postal_code="60601")],  # from a hub
    [PICKED_UP, scan(Status.IN_TRANSIT, at(30, 20))],  # later than most deliveries
    [scan(Status.IN_TRANSIT, at(25, 3)), scan(Status.INFO_RECEIVED, at(23, 16))],
    [PICKED_UP, scan(Status.OUT_FOR_DELIVERY, at(27, 13))],
    [PICKED_UP, scan(Status.ATTEMPT_FAILED, at(25, 20))],
    [PICKED_UP, scan(Status.DELIVERED, at(25, 18))],
)


def trained(transits: list[int], as_of: datetime) -> TransitModel:
    records = [
        record
        for code, postal in WAREHOUSES
        for service in SERVICES
        for record in history(
            transits,
            origin=postal,
            shipper=code,
            service=CarrierService("sandbox", service),
            destination="60601",
        )
    ]
    return TransitModel.fit(records, as_of)


@pytest.fixture
def shipments(runtime):
    """One shipment per journey, warehouse, service and destination in turn, promised with a
    model that is relearned (slower) before any event arrives."""
    with unit_of_work(runtime.sessions) as session:
        brand = sync_brands(session, runtime.settings)[0]
        first = store_model(session, brand.id, trained([1, 2, 2, 3], PLACED), 10, PLACED)
        for n in range(len(JOURNEYS) * len(DESTINATIONS)):
            order = create_order(
                session,
                brand.id,
                order_number=f"R{n}",
                ship_to={"country": "US", "postal_code": DESTINATIONS[n % len(DESTINATIONS)]},
                currency="USD",
                lines=[LineInput("MUG", 1)],
                placed_at=PLACED - timedelta(hours=5 * (n % 4)),
            )
            session.add(
                Shipment(
                    brand_id=brand.id,
                    order=order,
                    carrier="sandbox",
                    service=SERVICES[n % len(SERVICES)],
                    warehouse_code=WAREHOUSES[n % len(WAREHOUSES)][0],
                    tracking_number=f"T{n}",
                )
            )
        session.flush()
        ships = list(session.scalars(select(Shipment).order_by(Shipment.tracking_number)))
        runtime.edd.promise_shipments(session, ships, PLACED)
    with unit_of_work(runtime.sessions) as session:
        store_model(session, brand.id, trained([2, 2, 3, 6, 6], at(23, 0)), 10, at(23, 0))
    return brand.id, first.id


def test_revisions_are_those_of_the_full_quote_with_the_latest_model(runtime, shipments):
    with unit_of_work(runtime.sessions) as session:
        ships = session.scalars(
            select(Shipment).options(joinedload(Shipment.order)).order_by(Shipment.id)
        ).all()
        tracked = [(s, JOURNEYS[int(s.tracking_number[1:]) % len(JOURNEYS)]) for s in ships]
        revised = runtime.edd.revise_shipments(session, tracked)
        brand_id, first_model_id = shipments
        model = runtime.edd.latest_model(session, brand_id)
        setup = runtime.edd.setup_of(session, brand_id)

        def served(ship, events):  # as the service does: the route only, once handed over
            quote, zone = _shipment_quote(ship, model, setup, handed_over_at(events) is None)
            return engine.revise_from_events(quote, model, events, zone)

        def recomputed(ship, events, model):  # as every event did before: all from scratch
            engine._remaining.cache_clear()  # nothing shared with other parcels
            quote, zone = _shipment_quote(ship, model, setup)
            return engine.revise_from_events(quote, model, events, zone)

        predicted = {s.id: served(s, events) for s, events in tracked}
        expected = {s.id: recomputed(s, events, model) for s, events in tracked}
        first_model = runtime.edd.stored_model(session, brand_id, first_model_id)
        at_purchase = {s.id: recomputed(s, events, first_model) for s, events in tracked}
    assert predicted == expected  # every date of the window, and the basis
    assert revised == {sid: p.most_likely for sid, p in expected.items()}
    bases = {p.basis.split(" US:")[0] for p in expected.values()}
    assert bases == {
        "awaiting handover",
        "since handover",
        "from",
        "out for delivery",
        "next delivery day after a failed attempt",
        "delivered",
    }
    assert len(set(revised.values())) >= 5
    # the relearned model is the one revising (as the full quote at each event did)
    assert revised != {sid: p.most_likely for sid, p in at_purchase.items()}


def test_a_route_quote_revises_a_parcel_handed_over_but_not_one_awaiting_handover():
    origin, destination = geo.locate("US", "08817"), geo.locate("US", "60601")
    assert origin is not None and destination is not None
    ewr = warehouse("EWR", "08817")
    route = engine.route_quote(ewr, origin, GROUND, TransitModel(), destination)
    assert route.ok and route.dates is None
    delivered = engine.revise(route, TransitModel(), Status.DELIVERED, PLACED)
    assert delivered is not None and delivered.most_likely == date(2026, 11, 23)
    with pytest.raises(ValueError, match="dated quote"):
        engine.revise(route, TransitModel(), Status.INFO_RECEIVED, PLACED)


def test_a_batch_quotes_each_route_once(runtime, shipments, monkeypatch):
    """Parcels on their way that share a warehouse, service and destination share one route
    quote in a batch (the test above: the same predictions as quoting each)."""
    from shipflow.edd import service

    routes = []

    def counted(warehouse, origin, carrier_service, model, destination, confidence=0.95):
        routes.append((warehouse.code, carrier_service.service, destination.postal_code))
        return engine.route_quote(
            warehouse, origin, carrier_service, model, destination, confidence
        )

    monkeypatch.setattr(service, "route_quote", counted)
    with unit_of_work(runtime.sessions) as session:
        ships = session.scalars(select(Shipment).options(joinedload(Shipment.order))).all()
        runtime.edd.revise_shipments(session, [(s, [PICKED_UP]) for s in ships])
    assert len(ships) == len(JOURNEYS) * len(DESTINATIONS)
    assert sorted(routes) == sorted(set(routes))
    assert len(routes) == 21  # warehouse and service (paired) by destination


def test_a_batch_reads_each_brands_model_and_setup_once(runtime, shipments, monkeypatch):
    """The brand's latest model and setup are the batch's: looked up once per brand, not per
    parcel (each look-up hashes its keys and walks the transaction's memo)."""
    edd = runtime.edd
    looked_up: list[tuple[str, str]] = []

    def counting(name: str):
        real = getattr(edd, name)

        def counted(session, brand_id):
            looked_up.append((name, brand_id))
            return real(session, brand_id)

        return counted

    for name in ("latest_model", "setup_of"):
        monkeypatch.setattr(edd, name, counting(name))
    with unit_of_work(runtime.sessions) as session:
        ships = session.scalars(select(Shipment).options(joinedload(Shipment.order))).all()
        edd.revise_shipments(session, [(s, [PICKED_UP]) for s in ships])
    brands = {s.brand_id for s in ships}
    assert len(ships) > len(brands)
    assert sorted(looked_up) == sorted((n, b) for n in ("latest_model", "setup_of") for b in brands)
