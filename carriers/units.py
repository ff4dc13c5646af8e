"""Looking a carrier's raw status code up in its adapter's table.

Codes missing from a table must not vanish into a silent guess: each one is logged once per
(carrier, code) and counted, so operators see which tables need another row.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping

from prometheus_client import Counter

from shipflow.domain import Reason, Status

logger = logging.getLogger(__name__)

UNKNOWN_STATUS = Counter(
    "shipflow_carrier_unknown_status",
    "Raw carrier status codes absent from the adapter's table, mapped to a default",
    ["carrier", "code"],
)

_logged: set[tuple[str, str]] = set()
_logged_lock = threading.Lock()


def lookup(
    carrier: str,
    table: Mapping[str, tuple[Status, Reason | None]],
    code: str,
    text: str = "",
    default: Status = Status.IN_TRANSIT,
) -> tuple[Status, Reason | None]:
    """`table[code]`, or `(default, None)` for a code the table lacks (the event keeps its raw
    code and text, so nothing is lost)."""
    if code in table:
        return table[code]
    UNKNOWN_STATUS.labels(carrier=carrier, code=code).inc()
    with _logged_lock:
        first_time = (carrier, code) not in _logged
        _logged.add((carrier, code))
    if first_time:
        logger.warning(
            "unknown %s status code %r (%r): treated as %s", carrier, code, text, default
        )
    return default, None
