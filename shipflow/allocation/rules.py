"""Per-brand allocation rules: which options may carry an order, and if not, which rule said no.

Rules arrive as plain dicts (config.yaml, API); `from_dict` turns them into frozen dataclasses and
names the offending key in `RuleConfigError`. Each check returns None (ok) or a human reason.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from carriers.base import Capability
from carriers.reach import delivers_to, reach_of
from shipflow.allocation.model import LEVEL_RANK, Option, Order, Rejection, is_po_box
from shipflow.domain import Parcel, ServiceLevel
from shipflow.geo import ServiceArea

DEFAULT_MAX_P_LATE = 0.5  # a deliver-by date rejects options more likely late than on time


class RuleConfigError(ValueError):
    """A rules dict that cannot be understood; the message names the key and what was expected."""


def _get(
    data: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: str, default=None
):
    value = data.get(key, default)
    if value is not None and not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise RuleConfigError(f"{where}.{key}: expected {names}, got {value!r}")
    return value


def _strings(data: Mapping[str, Any], key: str, where: str) -> list[str]:
    """A list of codes; numbers (a postal code YAML read as one) are taken as their text."""
    values = _get(data, key, list, where, [])
    for i, value in enumerate(values):
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise RuleConfigError(f"{where}.{key}[{i}]: expected a code (text), got {value!r}")
    return [str(value) for value in values]


def _unknown(data: Mapping[str, Any], known: Iterable[str], where: str) -> None:
    extra = sorted(set(data) - set(known))
    if extra:
        raise RuleConfigError(f"{where}: unknown key(s) {', '.join(extra)}; known: {sorted(known)}")


def _grams(kg: float | None) -> int | None:
    return None if kg is None else round(kg * 1000)


def _mm(cm: float | None) -> int | None:
    return None if cm is None else round(cm * 10)


def normalize_postal(code: str) -> str:
    return code.replace(" ", "").replace("-", "").upper()


def length_plus_girth_mm(parcel: Parcel) -> int:
    """Carriers' size limit: the longest side plus twice the sum of the two others."""
    sides = sorted((parcel.length_mm, parcel.width_mm, parcel.height_mm), reverse=True)
    return sides[0] + 2 * (sides[1] + sides[2])


def dimensional_weight_g(parcel: Parcel, divisor: int) -> int:
    """Volume over the carrier's divisor (cm3/kg: 5000 metric, ~5000 for 139 in3/lb), in grams."""
    return math.ceil(parcel.length_mm * parcel.width_mm * parcel.height_mm / divisor)


def billable_weight_g(parcel: Parcel, divisor: int | None) -> int:
    if not divisor:
        return parcel.weight_g
    return max(parcel.weight_g, dimensional_weight_g(parcel, divisor))


@dataclass(frozen=True)
class Serviceability:
    """Where a service delivers; an empty list means no restriction of that kind."""

    countries: frozenset[str] = frozenset()
    postal_codes: frozenset[str] = frozenset()
    postal_ranges: tuple[tuple[str, str], ...] = ()
    excluded_postal_codes: frozenset[str] = frozenset()
    areas: tuple[ServiceArea, ...] = ()  # polygons (lng, lat) for local / same-day delivery

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str) -> Serviceability:
        ranges = []
        for i, pair in enumerate(_get(data, "postal_ranges", list, where, [])):
            if not (isinstance(pair, Sequence) and len(pair) == 2):
                raise RuleConfigError(f"{where}.postal_ranges[{i}]: expected [first, last]")
            ranges.append((normalize_postal(str(pair[0])), normalize_postal(str(pair[1]))))
        areas = []
        for i, ring in enumerate(_get(data, "areas", list, where, [])):
            try:
                areas.append(ServiceArea.polygon([(float(x), float(y)) for x, y in ring]))
            except (TypeError, ValueError) as exc:
                raise RuleConfigError(
                    f"{where}.areas[{i}]: expected a list of [lng, lat] points ({exc})"
                ) from None
        return cls(
            countries=frozenset(c.upper() for c in _strings(data, "countries", where)),
            postal_codes=frozenset(
                normalize_postal(c) for c in _strings(data, "postal_codes", where)
            ),
            postal_ranges=tuple(ranges),
            excluded_postal_codes=frozenset(
                normalize_postal(c) for c in _strings(data, "excluded_postal_codes", where)
            ),
            areas=tuple(areas),
        )


@dataclass(frozen=True)
class ServiceRules:
    """What one carrier service accepts. Weights in grams, sizes in millimetres, money in cents."""

    serviceability: Serviceability = field(default_factory=Serviceability)
    max_weight_g: int | None = None
    max_billable_weight_g: int | None = None
    max_side_mm: int | None = None
    max_length_plus_girth_mm: int | None = None
    dim_divisor: int | None = None
    cash_on_delivery: bool | None = None  # None: as the carrier can; False: the brand says no
    max_declared_value_cents: int | None = None
    hazmat: bool = False
    signature: bool = True
    po_box: bool = False
    residential: bool = True

    KEYS = (
        "countries", "postal_codes", "postal_ranges", "excluded_postal_codes", "areas",
        "max_weight_kg", "max_billable_weight_kg", "max_side_cm", "max_length_plus_girth_cm",
        "dim_divisor", "cash_on_delivery", "max_declared_value_cents", "hazmat", "signature",
        "po_box", "residential",
    )  # fmt: skip

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "rules") -> ServiceRules:
        _unknown(data, cls.KEYS, where)
        num = (int, float)
        flags = {
            name: _get(data, name, bool, where, default)
            for name, default in [
                ("cash_on_delivery", None), ("hazmat", False), ("signature", True),
                ("po_box", False), ("residential", True),
            ]
        }  # fmt: skip
        return cls(
            serviceability=Serviceability.from_dict(data, where),
            max_weight_g=_grams(_get(data, "max_weight_kg", num, where)),
            max_billable_weight_g=_grams(_get(data, "max_billable_weight_kg", num, where)),
            max_side_mm=_mm(_get(data, "max_side_cm", num, where)),
            max_length_plus_girth_mm=_mm(_get(data, "max_length_plus_girth_cm", num, where)),
            dim_divisor=_get(data, "dim_divisor", int, where),
            max_declared_value_cents=_get(data, "max_declared_value_cents", int, where),
            **flags,
        )


Check = Callable[[Order, Option, "ServiceRules"], "str | None"]


def _country(order: Order, _: Option, r: ServiceRules) -> str | None:
    allowed = r.serviceability.countries
    country = order.destination.country.upper()
    if allowed and country not in allowed:
        return f"destination country {country} not in {sorted(allowed)}"
    return None


def _postal_code(order: Order, _: Option, r: ServiceRules) -> str | None:
    s = r.serviceability
    code = normalize_postal(order.destination.postal_code)
    if code in s.excluded_postal_codes:
        return f"postal code {code} is excluded"
    if not (s.postal_codes or s.postal_ranges):
        return None
    if code in s.postal_codes:
        return None
    if any(len(lo) == len(code) and lo <= code <= hi for lo, hi in s.postal_ranges):
        return None
    return f"postal code {code} not served"


def _reach(order: Order, option: Option, _: ServiceRules) -> str | None:
    """APO/FPO/DPO and the territories: only the carriers that deliver there."""
    reach = reach_of(order.destination.country, order.destination.postal_code)
    if delivers_to(option.service.carrier, reach):
        return None
    return f"{option.service.carrier} does not deliver to {reach} addresses"


def _service_area(order: Order, _: Option, r: ServiceRules) -> str | None:
    areas = r.serviceability.areas
    if not areas:
        return None
    if order.lat is None or order.lng is None:
        return "destination has no coordinates to test against the service area"
    if any(a.contains(order.lat, order.lng) for a in areas):
        return None
    return f"destination ({order.lat:.4f}, {order.lng:.4f}) outside the service area"


def _kg(grams: int) -> str:
    return f"{grams / 1000:.1f} kg"


def _each_parcel(order: Order, measure: Callable[[Parcel], int], limit: int | None, what: str, fmt):
    if limit is None:
        return None
    for parcel in order.parcels:
        value = measure(parcel)
        if value > limit:
            return f"parcel {what}{fmt(value)} > {fmt(limit)}"
    return None


def _cm(mm: int) -> str:
    return f"{mm / 10:.1f} cm"


def _max_weight(order: Order, _: Option, r: ServiceRules) -> str | None:
    return _each_parcel(order, lambda p: p.weight_g, r.max_weight_g, "", _kg)


def _max_billable_weight(order: Order, _: Option, r: ServiceRules) -> str | None:
    return _each_parcel(
        order,
        lambda p: billable_weight_g(p, r.dim_divisor),
        r.max_billable_weight_g,
        "billable weight ",
        _kg,
    )


def _max_side(order: Order, _: Option, r: ServiceRules) -> str | None:
    longest = lambda p: max(p.length_mm, p.width_mm, p.height_mm)  # noqa: E731
    return _each_parcel(order, longest, r.max_side_mm, "longest side ", _cm)


def _max_girth(order: Order, _: Option, r: ServiceRules) -> str | None:
    return _each_parcel(
        order, length_plus_girth_mm, r.max_length_plus_girth_mm, "length + girth ", _cm
    )


def _cash_on_delivery(order: Order, option: Option, r: ServiceRules) -> str | None:
    if not order.attributes.cash_on_delivery_cents:
        return None
    if Capability.CASH_ON_DELIVERY not in option.service.capabilities:
        return "carrier does not collect cash on delivery"
    return "cash on delivery not offered" if r.cash_on_delivery is False else None


def _pickup_point(order: Order, option: Option, _: ServiceRules) -> str | None:
    to_point = order.level is ServiceLevel.PICKUP_POINT
    if to_point and Capability.PICKUP_POINT_DELIVERY not in option.service.capabilities:
        return "carrier does not deliver to pickup points"
    if to_point != (option.service.level is ServiceLevel.PICKUP_POINT):
        return "delivers to the address" if to_point else "delivers to a pickup point"
    chains = option.service.pickup_chains
    if to_point and chains and order.pickup_chain not in chains:
        chosen = order.pickup_chain or "a store of no named chain"
        return f"delivers to {'/'.join(sorted(chains))} stores, not {chosen}"
    return None


def _declared_value(order: Order, _: Option, r: ServiceRules) -> str | None:
    limit, value = r.max_declared_value_cents, order.attributes.declared_value_cents
    if limit is not None and value > limit:
        return f"declared value {value / 100:.2f} > {limit / 100:.2f}"
    return None


def _flag(attribute: str, allowed: str, message: str) -> Check:
    def check(order: Order, _: Option, r: ServiceRules) -> str | None:
        return message if getattr(order.attributes, attribute) and not getattr(r, allowed) else None

    return check


def _po_box(order: Order, _: Option, r: ServiceRules) -> str | None:
    return "cannot deliver to a PO box" if not r.po_box and is_po_box(order.destination) else None


def _residential(order: Order, _: Option, r: ServiceRules) -> str | None:
    if order.destination.residential and not r.residential:
        return "does not deliver to residential addresses"
    return None


def _service_level(order: Order, option: Option, _: ServiceRules) -> str | None:
    """Speed only: a pickup-point order and service are matched by `_pickup_point`."""
    if order.deliver_by is not None or order.level is ServiceLevel.PICKUP_POINT:
        return None  # a date is judged by the deadline rule instead
    offered = option.service.level
    if LEVEL_RANK[offered] < LEVEL_RANK[order.level]:
        return f"service level {offered.value} slower than asked {order.level.value}"
    return None


# Grouped by what they look at, so a batch can remember verdicts per destination and per parcels.
DESTINATION_CHECKS: tuple[tuple[str, Check], ...] = (
    ("country", _country),
    ("postal_code", _postal_code),
    ("reach", _reach),
    ("service_area", _service_area),
)
PARCEL_CHECKS: tuple[tuple[str, Check], ...] = (
    ("max_weight", _max_weight),
    ("max_billable_weight", _max_billable_weight),
    ("max_side", _max_side),
    ("max_length_plus_girth", _max_girth),
)
ORDER_CHECKS: tuple[tuple[str, Check], ...] = (
    ("cash_on_delivery", _cash_on_delivery),
    ("pickup_point", _pickup_point),
    ("declared_value", _declared_value),
    ("hazmat", _flag("hazmat", "hazmat", "hazardous materials not accepted")),
    ("signature", _flag("signature", "signature", "signature on delivery not offered")),
    ("po_box", _po_box),
    ("residential", _residential),
    ("service_level", _service_level),
)


def _first(checks, order: Order, option: Option, rules: ServiceRules) -> tuple[str, str] | None:
    for name, check in checks:
        reason = check(order, option, rules)
        if reason:
            return name, reason
    return None


def _no_memo(_key: tuple, compute):
    return compute()


@dataclass(frozen=True)
class BrandRules:
    """A brand's rules: per-service limits, exclusions, preferences and the deadline tolerance.

    A service without an entry in `services` has no limits of its own. Exclusions and
    preferences name a carrier ("ups") or a service ("ups:ground"); preferences are a bonus
    in cents taken off the score.
    """

    services: Mapping[str, ServiceRules] = field(default_factory=dict)
    excluded: frozenset[str] = frozenset()
    preferred: Mapping[str, int] = field(default_factory=dict)
    max_p_late: float = DEFAULT_MAX_P_LATE

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "rules") -> BrandRules:
        if not isinstance(data, Mapping):
            raise RuleConfigError(f"{where}: expected a mapping, got {type(data).__name__}")
        _unknown(data, ("services", "exclude", "prefer", "max_p_late"), where)
        services = _get(data, "services", dict, where, {})
        preferred = _get(data, "prefer", dict, where, {})
        for name, bonus in preferred.items():
            if not isinstance(bonus, int):
                raise RuleConfigError(f"{where}.prefer.{name}: expected a bonus in cents (int)")
        max_p_late = _get(data, "max_p_late", (int, float), where, DEFAULT_MAX_P_LATE)
        if not 0 <= max_p_late <= 1:
            raise RuleConfigError(f"{where}.max_p_late: expected a probability, got {max_p_late}")
        return cls(
            services={
                key: ServiceRules.from_dict(value or {}, f"{where}.services.{key}")
                for key, value in services.items()
            },
            excluded=frozenset(_strings(data, "exclude", where)),
            preferred=dict(preferred),
            max_p_late=float(max_p_late),
        )

    def for_service(self, key: str) -> ServiceRules:
        return self.services.get(key) or _NO_LIMITS

    def bonus_cents(self, option: Option) -> int:
        s = option.service
        return self.preferred.get(s.key, 0) + self.preferred.get(s.carrier, 0)

    def check(
        self,
        order: Order,
        option: Option,
        p_late: Callable[[Option], float] | None = None,
        memo=_no_memo,
    ) -> Rejection | None:
        """The first rule that rejects `option` for `order`, or None when it may carry it.

        `memo(key, compute)` may remember the verdicts that depend only on the destination
        or only on the parcels (a batch scores many orders sharing both).
        """
        service_key = option.service_key
        if service_key in self.excluded or option.service.carrier in self.excluded:
            return Rejection(option.key, "excluded", "excluded by the brand")
        rules = self.for_service(service_key)
        d = order.destination
        found = (
            memo(
                ("dest", service_key, d.country, d.postal_code, order.lat, order.lng),
                lambda: _first(DESTINATION_CHECKS, order, option, rules),
            )
            or memo(
                ("parcels", service_key, order.parcels),
                lambda: _first(PARCEL_CHECKS, order, option, rules),
            )
            or _first(ORDER_CHECKS, order, option, rules)
        )
        if found:
            return Rejection(option.key, *found)
        if order.deliver_by is not None and p_late is not None:
            p = p_late(option)
            if p > self.max_p_late:
                reason = f"P(late for {order.deliver_by}) {p:.0%} > {self.max_p_late:.0%}"
                return Rejection(option.key, "deadline", reason)
        return None

    def evaluate(
        self,
        order: Order,
        options: Iterable[Option],
        p_late: Callable[[Option], float] | None = None,
        memo=_no_memo,
    ) -> tuple[list[Option], list[Rejection]]:
        accepted, rejected = [], []
        for option in options:
            rejection = self.check(order, option, p_late, memo)
            if rejection is None:
                accepted.append(option)
            else:
                rejected.append(rejection)
        return accepted, rejected


_NO_LIMITS = ServiceRules()
