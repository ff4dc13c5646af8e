"""Turning a carrier's raw status codes into shipflow's statuses.

Each adapter keeps a table of its documented codes; `lookup` is the one place that decides
what an undocumented code becomes, so new carrier codes are noticed (a warning, a metric)
instead of silently misfiled.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from prometheus_client import Counter

from shipflow.domain import Reason, Status

logger = logging.getLogger(__name__)

UNKNOWN_STATUS = Counter(
    "shipflow_carrier_unknown_status_total",
    "Carrier status codes missing from the adapter's mapping table",
    ["carrier", "code"],
)

_warned: set[tuple[str, str]] = set()


def lookup(
    carrier: str,
    table: Mapping[str, tuple[Status, Reason | None]],
    code: str,
    text: str = "",
    default: Status = Status.IN_TRANSIT,
) -> tuple[Status, Reason | None]:
    """The table's entry for `code`, or `(default, None)` for a code the table lacks."""
    if code in table:
        return table[code]
    UNKNOWN_STATUS.labels(carrier=carrier, code=code).inc()
    if (carrier, code) not in _warned:
        _warned.add((carrier, code))
        logger.warning(
            "%s sent unknown status code %r (%s); treating it as %s", carrier, code, text, default
        )
    return default, None
