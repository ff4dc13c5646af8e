"""Orders grouped into classes that every rule, rate card and estimate treats alike, so a
batch is scored once per class, not once per order."""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date

from shipflow.allocation.model import Option, Order, Rejection, is_po_box
from shipflow.allocation.rules import (
    DESTINATION_CHECKS,
    _first,
    billable_weight_g,
    length_plus_girth_mm,
)
from shipflow.allocation.scoring import Score, distance
from shipflow.allocation.service import (
    AllocationContext,
    destination_region,
    evaluate,
    p_late,
    promise_date,
)
from shipflow.domain import CarrierService, Parcel


class Banding:
    """Class keys: everything a rule, a rate card or the estimator can tell apart, and no more.

    A parcel is reduced to its position between every weight/size threshold in use. A
    destination is reduced to its profile: for every option, the destination rules' verdict,
    the rate-card zone and P(late) for each promise date in the batch, plus the lane region.
    """

    def __init__(
        self,
        context: AllocationContext,
        candidates: Sequence[CarrierService],
        promise_dates: Iterable[date],
    ) -> None:
        rules = list(context.rules.services.values())
        cards = list(context.pricer.rate_cards.values())
        self.weight = sorted({r.max_weight_g for r in rules if r.max_weight_g is not None})
        self.side = sorted({r.max_side_mm for r in rules if r.max_side_mm is not None})
        self.girth = sorted(
            {r.max_length_plus_girth_mm for r in rules if r.max_length_plus_girth_mm is not None}
        )
        self.value = sorted(
            {r.max_declared_value_cents for r in rules if r.max_declared_value_cents is not None}
        )
        billable: dict[int | None, set[int]] = defaultdict(set)
        for r in rules:
            if r.max_billable_weight_g is not None:
                billable[r.dim_divisor].add(r.max_billable_weight_g)
        for card in cards:
            billable[card.dim_divisor].update(card.bands_g)
        self.billable = [(d, sorted(edges)) for d, edges in billable.items()]
        self.context = context
        self.options = [Option(w, s) for w in context.warehouses.values() for s in candidates]
        self.promise_dates = sorted(set(promise_dates))
        self._profiles: dict[tuple, int] = {}
        self._profile_of: dict[tuple, int] = {}

    def parcel(self, p: Parcel) -> tuple:
        bl = bisect.bisect_left
        side = max(p.length_mm, p.width_mm, p.height_mm)
        return (
            bl(self.weight, p.weight_g),
            bl(self.side, side),
            bl(self.girth, length_plus_girth_mm(p)),
            *(bl(edges, billable_weight_g(p, d)) for d, edges in self.billable),
        )

    def destination(self, o: Order) -> int:
        d = o.destination
        key = (d.country, d.postal_code, d.state, o.lat, o.lng)
        found = self._profile_of.get(key)
        if found is None:
            profile = self._profile(o)
            found = self._profile_of[key] = self._profiles.setdefault(profile, len(self._profiles))
        return found

    def _profile(self, o: Order) -> tuple:
        ctx, d = self.context, o.destination
        facts: list = [destination_region(d)]
        for option in self.options:
            rules = ctx.rules.for_service(option.service_key)
            verdict = _first(DESTINATION_CHECKS, o, option, rules)
            card = ctx.pricer.rate_cards.get(option.service_key)
            zone = (
                card.zone(option.warehouse.code, d.postal_code, distance(o, option))
                if card
                else None
            )
            lateness = tuple(round(p_late(o, option, ctx, by), 9) for by in self.promise_dates)
            facts.append((verdict and verdict[0], zone, lateness))
        return tuple(facts)

    def order_key(self, o: Order) -> tuple:
        return (tuple(sorted(o.warehouses)), self.shipment_key(o))  # the preference order: no score

    def shipment_key(self, o: Order) -> tuple:
        """The key without the warehouses: an option's verdict and score depend on its own
        warehouse only, so classes sharing this key share each warehouse's scored options."""
        d, a = o.destination, o.attributes
        return (
            self.destination(o),
            d.residential,
            is_po_box(d) if (d.line1 or d.line2) else False,
            o.level,
            o.deliver_by,
            a.cash_on_delivery_cents > 0,
            bisect.bisect_left(self.value, a.declared_value_cents),
            a.hazmat,
            a.signature,
            tuple(self.parcel(p) for p in o.parcels),
        )


@dataclass
class OrderClass:
    """Orders that every rule and score treats alike; `arcs` are (option index, score), best first."""

    orders: list[int]
    arcs: list[tuple[int, Score]]
    rejected: list[Rejection]


def classify(
    orders: Sequence[Order], candidates: Sequence[CarrierService], context: AllocationContext
) -> tuple[list[Option], list[OrderClass]]:
    """Group orders and score one representative per group (exact: see `Banding`)."""
    promise_dates = {promise_date(o, context) for o in _distinct_promises(orders)}
    banding = Banding(context, candidates, promise_dates)
    members: dict[tuple, list[int]] = defaultdict(list)
    for i, order in enumerate(orders):
        members[banding.order_key(order)].append(i)
    options: list[Option] = []
    index: dict[str, int] = {}
    per_warehouse: dict[tuple, tuple[list[tuple[int, Score]], list[Rejection]]] = {}
    classes = []
    for (codes, shipment), indices in members.items():
        order = orders[indices[0]]
        arcs: list[tuple[int, Score]] = []
        rejected: list[Rejection] = []
        for code in codes:
            found = per_warehouse.get((code, shipment))
            if found is None:
                alone = replace(order, warehouses=(code,))
                scored, refused = evaluate(alone, candidates, context)
                found = per_warehouse[(code, shipment)] = ([], refused)
                for option, score in scored:
                    if option.key not in index:
                        index[option.key] = len(options)
                        options.append(option)
                    found[0].append((index[option.key], score))
            arcs.extend(found[0])
            rejected.extend(found[1])
        if len(codes) > 1:
            arcs.sort(key=lambda arc: (arc[1].total, arc[1].option))  # as `evaluate` ranks
        classes.append(OrderClass(indices, arcs, rejected))
    return options, classes


def _distinct_promises(orders: Sequence[Order]) -> list[Order]:
    seen: dict[tuple, Order] = {}
    for o in orders:
        seen.setdefault((o.level, o.deliver_by), o)
    return list(seen.values())
