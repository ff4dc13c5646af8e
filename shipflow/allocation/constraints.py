"""What a batch must respect: capacities per carrier, service or warehouse, and volume
commitments to carriers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shipflow.allocation.model import Option
from shipflow.allocation.rules import RuleConfigError, _get, _unknown


@dataclass(frozen=True)
class Capacity:
    """At most `limit` orders on the options matching carrier/service/warehouse (None = any).

    A hard capacity is never exceeded; a soft one may be, and the plan says by how much.
    """

    limit: int
    carrier: str | None = None
    service: str | None = None  # a service key, "ups:ground"
    warehouse: str | None = None
    hard: bool = True

    @property
    def name(self) -> str:
        what = self.service or self.carrier or "all"
        return f"{what}@{self.warehouse}" if self.warehouse else what

    def matches(self, option: Option) -> bool:
        s = option.service
        return (
            (self.carrier is None or s.carrier == self.carrier)
            and (self.service is None or s.key == self.service)
            and (self.warehouse is None or option.warehouse.code == self.warehouse)
        )


@dataclass(frozen=True)
class Commitment:
    """At least `min_share` of the batch's allocated orders to a carrier (or a service key)."""

    carrier: str
    min_share: float

    @property
    def name(self) -> str:
        return f"commitment {self.carrier}>={self.min_share:.0%}"

    def matches(self, option: Option) -> bool:
        return option.service.carrier == self.carrier or option.service_key == self.carrier


@dataclass(frozen=True)
class Constraints:
    capacities: tuple[Capacity, ...] = ()
    commitments: tuple[Commitment, ...] = ()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "allocation") -> Constraints:
        _unknown(data, ("capacities", "commitments"), where)
        capacities = []
        for i, item in enumerate(_get(data, "capacities", list, where, [])):
            at = f"{where}.capacities[{i}]"
            _unknown(item, ("limit", "carrier", "service", "warehouse", "hard"), at)
            limit = _get(item, "limit", int, at)
            if limit is None or limit < 0:
                raise RuleConfigError(f"{at}.limit: expected a non-negative number of orders")
            capacities.append(
                Capacity(
                    limit,
                    _get(item, "carrier", str, at),
                    _get(item, "service", str, at),
                    _get(item, "warehouse", str, at),
                    _get(item, "hard", bool, at, True),
                )
            )
        commitments = []
        for i, item in enumerate(_get(data, "commitments", list, where, [])):
            at = f"{where}.commitments[{i}]"
            _unknown(item, ("carrier", "min_share"), at)
            share = _get(item, "min_share", (int, float), at)
            carrier = _get(item, "carrier", str, at)
            if not carrier or share is None or not 0 <= share <= 1:
                raise RuleConfigError(f"{at}: expected carrier and min_share between 0 and 1")
            commitments.append(Commitment(carrier, float(share)))
        return cls(tuple(capacities), tuple(commitments))

    @property
    def needs_lp(self) -> bool:
        """Min-cost flow handles a laminar family: per service and per carrier, hard."""
        return bool(self.commitments) or any(
            c.warehouse is not None or not c.hard or (c.carrier is None and c.service is None)
            for c in self.capacities
        )


UNCONSTRAINED = Constraints()
