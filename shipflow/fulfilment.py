"""Order placed -> allocation -> label -> shipment with its promised date (DESIGN's data flow).

Allocation scores each (warehouse, carrier service) option on the carrier's own quote and on
the delivery-date engine's chance of missing the promise; the chosen carrier then issues the
label, and the promise is stored with the shipment and the order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import insert
from sqlalchemy.orm import Session

from carriers.base import Capability, Carrier, CarrierError, Label, ShipmentRequest
from shipflow import geo, label_purchases, pickup_points
from shipflow.allocation.model import Option, OrderAttributes
from shipflow.allocation.model import Order as AllocationOrder
from shipflow.allocation.rules import BrandRules
from shipflow.allocation.scoring import Pricer, QuoteCache, RateCard, ScoringWeights
from shipflow.allocation.service import Allocation, AllocationContext, NotAllocated, allocate
from shipflow.domain import CarrierService, Money, Parcel, ServiceLevel
from shipflow.edd.engine import quote_from, warehouse_location
from shipflow.edd.service import BrandSetup
from shipflow.edd.transit import TransitModel
from shipflow.orders import ship_to_address
from shipflow.store.allocation_models import AllocationRules
from shipflow.store.db import per_transaction
from shipflow.store.models import Order, ParcelRow, Shipment, new_shipment_id
from shipflow.store.postpurchase_models import LabelRow

if TYPE_CHECKING:
    from shipflow.config import BrandConfig
    from shipflow.runtime import Runtime


@dataclass
class CarrierQuotes:
    """Allocation's quote provider: each option priced by its carrier's rate API."""

    carriers: dict[str, Carrier]

    def quote(self, order: AllocationOrder, option: Option) -> int | None:
        carrier = self.carriers.get(option.service.account)
        if carrier is None or not carrier.supports(Capability.RATES):
            return None
        request = ShipmentRequest(
            shipper=option.warehouse.address,
            recipient=order.destination,
            parcels=order.parcels,
            service=option.service.service,
        )
        try:
            rates = carrier.rates(request)
        except CarrierError:
            return None
        return next((r.price.amount for r in rates if r.service == option.service.service), None)


@dataclass
class EngineLateness:
    """Allocation's lateness estimator on the delivery-date engine: P(delivered after the
    promise) for an order placed at `ordered_at`."""

    setup: BrandSetup
    model: TransitModel
    ordered_at: datetime

    def p_late(self, service_key, origin, destination, ship_date, promise_date: date) -> float:
        warehouse = self.setup.warehouse(origin.regions[0])  # allocation names its origin so
        carrier, _, service_code = service_key.partition(":")
        service = self.setup.service(carrier, service_code)
        place = geo.locate(destination.country, destination.postal_code)
        if warehouse is None or service is None or place is None:
            return 1.0
        estimate = quote_from(
            warehouse, warehouse_location(warehouse), service, self.model, place, self.ordered_at
        )
        return 1.0 - estimate.dates.cdf(promise_date) if estimate.dates else 1.0


@dataclass(frozen=True)
class ParsedRules:
    """A brand's `rules` mapping (config.yaml or the API), parsed and checked once."""

    rules: BrandRules
    rate_cards: dict[str, RateCard]
    weights: ScoringWeights

    @classmethod
    def parse(cls, data: dict) -> ParsedRules:
        """Raises RuleConfigError naming the key path of what is wrong."""
        rules = dict(data)
        cards = rules.pop("rate_cards", {}) or {}
        return cls(
            rules=BrandRules.from_dict(rules),
            rate_cards={
                k: RateCard.from_dict(v, f"rules.rate_cards.{k}") for k, v in cards.items()
            },
            weights=ScoringWeights.from_dict(rules.pop("scoring", {}) or {}, "rules.scoring"),
        )


def allocation_context(
    brand: BrandConfig,
    setup: BrandSetup,
    quotes: QuoteCache,
    runtime: Runtime,
    model: TransitModel,
    rules: ParsedRules,
) -> AllocationContext:
    now = runtime.clock.now()
    return AllocationContext(
        warehouses={w.code: w for w in setup.warehouses},
        rules=rules.rules,
        pricer=Pricer(rules.rate_cards, quotes),
        estimator=EngineLateness(setup, model, now),
        ship_date=now.date(),
        weights=replace(rules.weights),
        promise_confidence=brand.edd_confidence,
    )


def brand_rules(session: Session, brand_id: str, brand: BrandConfig) -> dict:
    """The rules in force: the API's, if set, else config.yaml's."""
    stored = session.get(AllocationRules, brand_id)
    return stored.rules if stored is not None else dict(brand.rules)


def replace_brand_rules(session: Session, brand_id: str, rules: dict) -> None:
    """Rules set through the API, in force instead of config.yaml's; raises RuleConfigError
    (naming the key path) and keeps the rules in force if they do not parse."""
    ParsedRules.parse(rules)
    stored = session.get(AllocationRules, brand_id) or AllocationRules(brand_id=brand_id)
    stored.rules = rules
    session.add(stored)


def restore_config_rules(session: Session, brand_id: str) -> None:
    """Drop the rules set through the API: config.yaml's are in force again."""
    stored = session.get(AllocationRules, brand_id)
    if stored is not None:
        session.delete(stored)


class Fulfilment:
    """One brand's fulfilment on a runtime (which builds it once): adapters and configuration."""

    def __init__(self, runtime: Runtime, brand: BrandConfig) -> None:
        self.runtime = runtime
        self.brand = brand
        self.setup = BrandSetup.of(brand)
        self.carriers = {
            a.code: runtime.carriers.account(brand.code, a.code) for a in brand.carriers
        }
        self.weights_g = {p.sku: p.weight_g for p in brand.products}
        # Kept for the brand's lifetime in this process, so carrier rate calls are cached
        # across orders and requests, not repeated for every allocation.
        self.quotes = QuoteCache(CarrierQuotes(self.carriers), runtime.clock)

    @property
    def label_services(self) -> tuple[CarrierService, ...]:
        """The services allocation may choose: those of accounts that make labels, never a
        tracking-only one (17TRACK, Kuaidi100, DHL tracking) whatever its config lists."""
        return tuple(
            s for s in self.setup.services if self.carriers[s.account].supports(Capability.LABELS)
        )

    def context(self, session: Session, brand_id: str) -> AllocationContext:
        """Built once per transaction: a batch of orders reads the rules and the model once,
        and shares the context's memo of promises and lane prices."""
        return per_transaction(
            session, ("allocation.context", brand_id), lambda: self._context(session, brand_id)
        )

    def _context(self, session: Session, brand_id: str) -> AllocationContext:
        rules = ParsedRules.parse(brand_rules(session, brand_id, self.brand))
        model = self.runtime.edd.latest_model(session, brand_id)
        return allocation_context(self.brand, self.setup, self.quotes, self.runtime, model, rules)

    def allocation_order(self, order: Order) -> AllocationOrder:
        """The order as allocation sees it: destination, parcels, warehouses stocking it. A
        shop order keeps the service level of its checkout's shipping line and the warehouse
        of its fulfilment location, where the shop's account maps them (`channel_orders`)."""
        destination = ship_to_address(order)
        place = geo.locate(destination.country, destination.postal_code)
        weight = sum(self.weights_g.get(line.sku, 500) * line.quantity for line in order.lines)
        chosen = order.source_details or {}
        stocked = [
            w.code
            for w in self.setup.warehouses
            if chosen.get("warehouse") in (None, w.code)
            and all(w.stock.get(line.sku, 0) >= line.quantity for line in order.lines)
        ]
        level = ServiceLevel.PICKUP_POINT if order.pickup_point else ServiceLevel.STANDARD
        return AllocationOrder(
            id=order.id,
            destination=destination,
            lat=place.lat if place else None,
            lng=place.lng if place else None,
            parcels=(Parcel(weight_g=max(weight, 1)),),
            warehouses=tuple(stocked),
            level=ServiceLevel(chosen["service_level"]) if chosen.get("service_level") else level,
            attributes=OrderAttributes(cash_on_delivery_cents=order.cash_on_delivery),
            pickup_chain=(order.pickup_point or {}).get("chain", ""),
        )

    def allocate(self, session: Session, order: Order) -> tuple[AllocationOrder, Allocation]:
        context = self.context(session, order.brand_id)
        wanted = self.allocation_order(order)
        if not wanted.warehouses:
            raise NotAllocated("no warehouse holds stock for every line of the order")
        return wanted, allocate(wanted, self.label_services, context)

    def plan(self, session: Session, order: Order) -> Plan:
        """Allocate the order: where from, with which service and what to ask the carrier
        (nothing bought yet); raises NotAllocated."""
        wanted, decision = self.allocate(session, order)
        if decision.chosen is None:
            raise NotAllocated(decision.reason)
        service_key, _, warehouse_code = decision.chosen.option.partition("@")
        carrier_code, _, service_code = service_key.partition(":")
        service = self.setup.service(carrier_code, service_code)
        warehouse = self.setup.warehouse(warehouse_code)
        # allocation chooses among the setup's own services and warehouses
        assert service is not None and warehouse is not None, decision.chosen.option
        request = ShipmentRequest(
            shipper=warehouse.address,
            recipient=wanted.destination,
            parcels=wanted.parcels,
            service=service.service,
            reference=order.order_number,
            declared_value=Money(order.total_amount, order.currency),
            cash_on_delivery=(
                Money(order.cash_on_delivery, order.currency) if order.cash_on_delivery else None
            ),
            pickup_point=pickup_points.from_json(order.pickup_point),
        )
        return Plan(self, order, wanted, decision, service.account, warehouse.code, request)

    def ship(self, session: Session, order: Order) -> Shipment:
        """Allocate, buy the label and open the shipment with its promise (not committed);
        raises what stopped it."""
        [shipped] = ship_all(session, [self.plan(session, order)], self.runtime)
        if isinstance(shipped, Exception):
            raise shipped
        return shipped

    def open_shipment(self, plan: Plan, label: Label, now: datetime) -> Shipment:
        """The shipment of the plan's bought label, added to the order's (not promised yet:
        `ship_all` promises a batch's shipments together)."""
        chosen = plan.decision.chosen
        assert chosen is not None  # a plan is made of a chosen option
        return Shipment(
            id=new_shipment_id(),
            brand_id=plan.order.brand_id,
            order=plan.order,  # in `order.shipments` at once: a batch's next change sees it
            carrier=label.carrier,
            carrier_account=plan.account,
            service=label.service,
            tracking_number=label.tracking_number,
            warehouse_code=plan.warehouse_code,
            cost_amount=label.price.amount if label.price else chosen.cost_cents,
            cost_currency=label.price.currency if label.price else self.brand.currency,
            created_at=now,
            updated_at=now,
            next_poll_at=now,
            details={
                "allocation": plan.decision.reason,
                "runner_up": _option(plan.decision.runner_up),
            },
            pickup_point=plan.order.pickup_point,
            parcels=[ParcelRow(weight_g=p.weight_g) for p in plan.wanted.parcels],
            events=[],
        )


@dataclass(frozen=True)
class Plan:
    """An order's allocation, decided: the label to buy for it (`ship_all`)."""

    fulfilment: Fulfilment
    order: Order
    wanted: AllocationOrder
    decision: Allocation
    account: str  # the carrier account that sells the label
    warehouse_code: str
    request: ShipmentRequest

    def purchase(self) -> tuple[label_purchases.Purchase, Callable[[], Label]]:
        carrier = self.fulfilment.carriers[self.account]
        return (
            label_purchases.Purchase(self.order.brand_id, self.order.id, self.account),
            lambda: carrier.create_label(self.request),
        )


def ship_all(
    session: Session, plans: Sequence[Plan], runtime: Runtime
) -> list[Shipment | Exception]:
    """Buy the plans' labels (`label_purchases.buy_all`: every purchase recorded pending in
    one committed transaction, then each carrier called) and open a shipment with its promise
    for each label bought, not committed: the batch's rows go in together, one INSERT a
    table. Each plan's shipment, or what stopped it."""
    now = runtime.clock.now()
    labels = label_purchases.buy_all(session, [plan.purchase() for plan in plans], now)
    bought = [
        (p, label) for p, label in zip(plans, labels, strict=True) if isinstance(label, Label)
    ]
    shipments = {id(p): p.fulfilment.open_shipment(p, label, now) for p, label in bought}
    if shipments:
        session.add_all(shipments.values())
        # Promised before the flush: each shipment and its order are written once, with it.
        runtime.edd.promise_shipments(session, list(shipments.values()), now)
        session.flush()  # the labels' rows point at the shipments'
        session.execute(
            insert(LabelRow),
            [
                {
                    "brand_id": p.order.brand_id,
                    "shipment_id": shipments[id(p)].id,
                    "label_format": label.label_format,
                    "data": label.label_data,
                }
                for p, label in bought
            ],
        )
    return [
        shipments[id(p)] if isinstance(label, Label) else label
        for p, label in zip(plans, labels, strict=True)
    ]


def _option(score) -> str | None:
    return score.option if score else None
