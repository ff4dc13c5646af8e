"""How good an option is: cost + lambda * expected lateness cost + performance penalties, in cents.

Cost comes from the brand's rate cards (zone by distance band or zone table, weight band), or
from a carrier quote provider behind a TTL cache. Lateness comes from a `TransitEstimator` (the
EDD engine plugs in; `TransitTable` is the fallback). Performance is learned per lane from
tracking outcomes with Bayesian smoothing towards the service's and then everybody's mean.
"""

from __future__ import annotations

import bisect
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from shipflow.allocation.model import Option, Order
from shipflow.allocation.rules import RuleConfigError, _get, _unknown, billable_weight_g
from shipflow.clock import Clock
from shipflow.domain import ServiceLevel
from shipflow.geo import Location, haversine_km

DEFAULT_PROMISE_DAYS = {
    ServiceLevel.SAME_DAY: 0,
    ServiceLevel.EXPRESS: 2,
    ServiceLevel.STANDARD: 5,
    ServiceLevel.ECONOMY: 8,
    ServiceLevel.PICKUP_POINT: 5,  # ground to the store
}


def business_days(start: date, end: date) -> int:
    """Monday-Friday days after `start` up to and including `end` (negative if end < start)."""
    if end < start:
        return -business_days(end, start)
    weeks, extra = divmod((end - start).days, 7)
    count = weeks * 5
    for i in range(1, extra + 1):
        if (start + timedelta(days=i)).weekday() < 5:
            count += 1
    return count


def add_business_days(start: date, days: int) -> date:
    day = start
    while days > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            days -= 1
    return day


# --- cost -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RateCard:
    """A service's price list: zone (by distance or table) x weight band -> cents per parcel.

    `bands_g` are inclusive upper bounds of billable weight; `prices[zone][i]` prices band i.
    `zone_table` maps warehouse code -> destination postal prefix -> zone (longest prefix wins)
    and takes precedence over `zone_km` (inclusive upper bounds in km, in zone order).
    """

    bands_g: tuple[int, ...]
    prices: Mapping[str, tuple[int, ...]]
    zone_km: tuple[tuple[float, str], ...] = ()
    zone_table: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    dim_divisor: int | None = None
    residential_surcharge_cents: int = 0

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "rate_card") -> RateCard:
        _unknown(
            data,
            ("bands_kg", "prices", "zone_km", "zone_table", "dim_divisor", "residential_cents"),
            where,
        )
        bands = _get(data, "bands_kg", list, where)
        prices = _get(data, "prices", dict, where)
        if not bands or not prices:
            raise RuleConfigError(f"{where}: bands_kg and prices are required")
        for zone, row in prices.items():
            if not isinstance(row, list) or len(row) != len(bands):
                raise RuleConfigError(
                    f"{where}.prices.{zone}: expected {len(bands)} prices in cents, one per band"
                )
        zone_km = tuple((float(km), str(z)) for km, z in _get(data, "zone_km", list, where, []))
        table = _get(data, "zone_table", dict, where, {})
        if not zone_km and not table:
            raise RuleConfigError(f"{where}: give zone_km (distance bands) or zone_table")
        zones = {z for _, z in zone_km} | {z for t in table.values() for z in t.values()}
        missing = sorted(zones - set(prices))
        if missing:
            raise RuleConfigError(f"{where}.prices: no prices for zone(s) {missing}")
        return cls(
            bands_g=tuple(round(float(kg) * 1000) for kg in bands),
            prices={str(z): tuple(int(p) for p in row) for z, row in prices.items()},
            zone_km=zone_km,
            zone_table={str(w): {str(p): str(z) for p, z in t.items()} for w, t in table.items()},
            dim_divisor=_get(data, "dim_divisor", int, where),
            residential_surcharge_cents=_get(data, "residential_cents", int, where, 0),
        )

    def zone(self, warehouse_code: str, postal_code: str, distance_km: float | None) -> str | None:
        table = self.zone_table.get(warehouse_code)
        if table:
            for length in range(len(postal_code), 0, -1):
                zone = table.get(postal_code[:length])
                if zone:
                    return zone
        if distance_km is not None:
            for limit, zone in self.zone_km:
                if distance_km <= limit:
                    return zone
        return None

    def price(self, zone: str, billable_g: int) -> int | None:
        band = bisect.bisect_left(self.bands_g, billable_g)
        row = self.prices.get(zone)
        return None if row is None or band >= len(row) else row[band]


class QuoteProvider(Protocol):
    """A carrier's rate API; None when it has no price for this shipment."""

    def quote(self, order: Order, option: Option) -> int | None: ...


@dataclass
class QuoteCache:
    """Remembers provider quotes per lane and weight band for `ttl` (rates change slowly)."""

    provider: QuoteProvider
    clock: Clock
    ttl: timedelta = timedelta(hours=6)
    band_g: int = 500
    _entries: dict[tuple, tuple[datetime, int | None]] = field(default_factory=dict)

    def key(self, order: Order, option: Option) -> tuple:
        postal = order.destination.postal_code.replace(" ", "")[:3]
        band = math.ceil(order.weight_g / self.band_g)
        return (option.key, order.destination.country, postal, band, order.destination.residential)

    def quote(self, order: Order, option: Option) -> int | None:
        key, now = self.key(order, option), self.clock.now()
        hit = self._entries.get(key)
        if hit and now - hit[0] < self.ttl:
            return hit[1]
        value = self.provider.quote(order, option)
        self._entries[key] = (now, value)
        return value


@dataclass
class Pricer:
    """Prices an option: the quote provider first (if any, and it answers), else the rate card."""

    rate_cards: Mapping[str, RateCard]
    provider: QuoteProvider | None = None

    def price(self, order: Order, option: Option, memo=None) -> tuple[int | None, str]:
        """(cents, how) or (None, why not). `memo(key, compute)` may remember zones and prices."""
        if self.provider is not None:
            quoted = self.provider.quote(order, option)
            if quoted is not None:
                return quoted, "quote"
        card = self.rate_cards.get(option.service_key)
        if card is None:
            return None, f"no rate card for {option.service_key}"
        remember = memo or (lambda _key, compute: compute())
        d = order.destination
        zone = remember(
            ("zone", option.key, d.country, d.postal_code, order.lat, order.lng),
            lambda: card.zone(option.warehouse.code, d.postal_code, distance(order, option)),
        )
        if zone is None:
            return None, "no zone for this destination"
        return _card_price(card, zone, order)


def _card_price(card: RateCard, zone: str, order: Order) -> tuple[int | None, str]:
    total = card.residential_surcharge_cents if order.destination.residential else 0
    for parcel in order.parcels:
        billable = billable_weight_g(parcel, card.dim_divisor)
        cents = card.price(zone, billable)
        if cents is None:
            return None, f"no rate for zone {zone} at {billable / 1000:.1f} kg"
        total += cents
    return total, f"zone {zone}"


def distance(order: Order, option: Option) -> float | None:
    if order.lat is None or order.lng is None:
        return None
    w = option.warehouse
    return haversine_km(w.latitude, w.longitude, order.lat, order.lng)


# --- lateness ---------------------------------------------------------------------------------


class TransitEstimator(Protocol):
    """P(delivered after promise_date | shipped on ship_date) for a service on a lane."""

    def p_late(
        self,
        service_key: str,
        origin: Location,
        destination: Location,
        ship_date: date,
        promise_date: date,
    ) -> float: ...


@dataclass(frozen=True)
class TransitTable:
    """Fallback estimator: per service, distance bands (km, inclusive) -> P(business days = i).

    A service or distance it does not know is assumed late (p = 1): never promise blindly.
    """

    bands_km: Mapping[str, tuple[float, ...]]
    pmf: Mapping[str, tuple[tuple[float, ...], ...]]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "transit") -> TransitTable:
        bands, pmfs = {}, {}
        for key, entry in data.items():
            rows = _get(entry, "days_pmf", list, f"{where}.{key}")
            km = _get(entry, "bands_km", list, f"{where}.{key}")
            if not rows or not km or len(rows) != len(km):
                raise RuleConfigError(f"{where}.{key}: one days_pmf row per bands_km entry")
            bands[key] = tuple(float(k) for k in km)
            pmfs[key] = tuple(tuple(float(p) for p in row) for row in rows)
        return cls(bands, pmfs)

    def p_late(
        self,
        service_key: str,
        origin: Location,
        destination: Location,
        ship_date: date,
        promise_date: date,
    ) -> float:
        bands = self.bands_km.get(service_key)
        if not bands or not (origin.has_coordinates and destination.has_coordinates):
            return 1.0
        km = haversine_km(origin.lat, origin.lng, destination.lat, destination.lng)  # type: ignore[arg-type]
        band = bisect.bisect_left(bands, km)
        if band >= len(bands):
            return 1.0
        allowed = business_days(ship_date, promise_date)
        row = self.pmf[service_key][band]
        return max(0.0, 1.0 - sum(row[: allowed + 1])) if allowed >= 0 else 1.0


# --- performance ------------------------------------------------------------------------------

METRICS = ("late", "failed_attempt", "rto", "lost_damaged")


@dataclass(frozen=True, slots=True)
class Outcome:
    """One finished shipment from tracking history, reduced to what allocation learns from."""

    service_key: str
    origin: str  # warehouse code
    destination: str  # destination region, e.g. state
    on_time: bool
    failed_attempt: bool = False
    rto: bool = False
    lost_damaged: bool = False


@dataclass
class LanePerformance:
    """Smoothed bad-outcome shares per lane: (count + k * prior) / (n + k), prior = service mean.

    The service mean is itself smoothed towards the mean over all services, so a new lane
    starts at its service's record and a new service at everybody's.
    """

    strength: float = 50.0
    _lanes: dict[tuple[str, str, str], list[float]] = field(default_factory=dict)
    _services: dict[str, list[float]] = field(default_factory=dict)
    _all: list[float] = field(default_factory=lambda: [0.0] * (len(METRICS) + 1))

    @classmethod
    def learn(cls, outcomes: Iterable[Outcome], strength: float = 50.0) -> LanePerformance:
        lanes: dict = defaultdict(lambda: [0.0] * (len(METRICS) + 1))
        services: dict = defaultdict(lambda: [0.0] * (len(METRICS) + 1))
        everyone = [0.0] * (len(METRICS) + 1)
        for o in outcomes:
            bad = (not o.on_time, o.failed_attempt, o.rto, o.lost_damaged)
            for counts in (
                lanes[(o.service_key, o.origin, o.destination)],
                services[o.service_key],
                everyone,
            ):
                counts[0] += 1
                for i, flag in enumerate(bad, start=1):
                    counts[i] += flag
        return cls(strength, dict(lanes), dict(services), everyone)

    def rates(self, service_key: str, origin: str, destination: str) -> dict[str, float]:
        k = self.strength
        overall = [c / self._all[0] if self._all[0] else 0.0 for c in self._all[1:]]
        s = self._services.get(service_key)
        service = (
            [(s[i + 1] + k * overall[i]) / (s[0] + k) for i in range(len(METRICS))]
            if s
            else overall
        )
        lane = self._lanes.get((service_key, origin, destination))
        if lane is None:
            return dict(zip(METRICS, service, strict=True))
        return {m: (lane[i + 1] + k * service[i]) / (lane[0] + k) for i, m in enumerate(METRICS)}


# --- score ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScoringWeights:
    """A brand's trade-offs, in cents: what a late order, a failed attempt... costs it."""

    lateness_lambda: float = 1.0
    late_cost_cents: int = 800
    penalty_cents: Mapping[str, int] = field(
        default_factory=lambda: {
            "late": 0,
            "failed_attempt": 300,
            "rto": 1500,
            "lost_damaged": 4000,
        }
    )
    promise_days: Mapping[ServiceLevel, int] = field(
        default_factory=lambda: dict(DEFAULT_PROMISE_DAYS)
    )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "scoring") -> ScoringWeights:
        _unknown(
            data, ("lateness_lambda", "late_cost_cents", "penalty_cents", "promise_days"), where
        )
        default = cls()
        penalties = dict(default.penalty_cents)
        for name, cents in _get(data, "penalty_cents", dict, where, {}).items():
            if name not in METRICS or not isinstance(cents, int):
                raise RuleConfigError(
                    f"{where}.penalty_cents.{name}: expected one of {METRICS} -> int"
                )
            penalties[name] = cents
        days = dict(default.promise_days)
        for level, n in _get(data, "promise_days", dict, where, {}).items():
            try:
                days[ServiceLevel(level)] = int(n)
            except ValueError:
                raise RuleConfigError(
                    f"{where}.promise_days.{level}: unknown level or bad days"
                ) from None
        return cls(
            lateness_lambda=float(_get(data, "lateness_lambda", (int, float), where, 1.0)),
            late_cost_cents=_get(data, "late_cost_cents", int, where, default.late_cost_cents),
            penalty_cents=penalties,
            promise_days=days,
        )


@dataclass(frozen=True, slots=True)
class Score:
    """An option's score and how it was made up (all cents but p_late)."""

    option: str
    cost_cents: int
    p_late: float
    lateness_cents: float
    performance_cents: float
    preference_cents: int
    promise_date: date
    priced_by: str = ""

    @property
    def total(self) -> float:
        return (
            self.cost_cents + self.lateness_cents + self.performance_cents - self.preference_cents
        )

    def explain(self) -> str:
        return (
            f"{self.option}: {self.total / 100:.2f} = cost {self.cost_cents / 100:.2f} ({self.priced_by})"
            f" + lateness {self.lateness_cents / 100:.2f} (P(late)={self.p_late:.1%} by {self.promise_date})"
            f" + performance {self.performance_cents / 100:.2f} - preference {self.preference_cents / 100:.2f}"
        )


def destination_location(order: Order) -> Location:
    d = order.destination
    regions = tuple(r for r in (d.state and f"{d.country}:{d.state}", d.country) if r)
    return Location(
        d.country, d.postal_code, order.lat, order.lng, regions, subdivision=d.state or None
    )


def origin_location(option: Option) -> Location:
    w = option.warehouse
    return Location(w.address.country, w.address.postal_code, w.latitude, w.longitude, (w.code,))
