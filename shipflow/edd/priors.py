"""Published service levels: what carriers promise per country where a lane has no history.

A new brand has no deliveries, so its first promises come from `service_levels.csv` (one row
per carrier promise, each naming where it is published) and the model learns from there: the
published range is the root prior that history outweighs (see TransitModel).

Rows match on origin and destination country ("EU" is any EU country, "SAME" the origin's),
then carrier and service ("*" for any); the most specific row wins.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from shipflow.postal.formats import EU

TABLE = Path(__file__).with_name("service_levels.csv")


@dataclass(frozen=True, slots=True)
class ServiceLevel:
    """Business days a carrier publishes for a lane (first and last day of its range)."""

    min_days: int
    max_days: int
    source: str


@cache
def _rows() -> tuple[tuple[str, str, str, str, ServiceLevel], ...]:
    with TABLE.open(encoding="utf-8", newline="") as rows:
        return tuple(
            (
                r["origin"],
                r["destination"],
                r["carrier"],
                r["service"],
                ServiceLevel(int(r["min_days"]), int(r["max_days"]), r["source"]),
            )
            for r in csv.DictReader(rows)
        )


def _country_matches(pattern: str, country: str, origin: str) -> bool:
    if pattern == "SAME":
        return country == origin
    return pattern == country or (pattern == "EU" and country in EU)


def _specificity(pattern: str) -> int:
    return {"EU": 0, "SAME": 1}.get(pattern, 2)


@cache
def published(service_key: str, origin: str, destination: str) -> ServiceLevel | None:
    """The published level for `service_key` ("carrier:service") between two countries."""
    carrier, _, service = service_key.partition(":")
    best: tuple[int, ServiceLevel] | None = None
    for o, d, c, s, level in _rows():
        if not (_country_matches(o, origin, origin) and _country_matches(d, destination, origin)):
            continue
        if c not in ("*", carrier) or s not in ("*", service):
            continue
        rank = _specificity(o) + _specificity(d) + 4 * (c != "*") + 8 * (s != "*")
        if best is None or rank > best[0]:
            best = (rank, level)
    return best[1] if best else None
