"""Shared by every adapter's status table: look a raw carrier code up, and make codes the
table does not know visible (one warning per carrier and code, and a Prometheus counter)
instead of silently guessing. Also: checking an account's label format against the
carrier's table.

Usage: `status, reason = lookup("ups", STATUS_BY_TYPE, raw_code, raw_text)`.
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
    "Carrier status codes missing from the adapter's table (mapped to a default)",
    ["carrier", "code"],
)

_warned: set[tuple[str, str]] = set()
_warned_lock = threading.Lock()


def lookup(
    carrier: str,
    table: Mapping[str, tuple[Status, Reason | None]],
    code: str,
    text: str = "",
    default: Status = Status.IN_TRANSIT,
) -> tuple[Status, Reason | None]:
    """The (status, reason) of `code` in `table`. An unknown code maps to `default` with no
    reason; the caller keeps the raw code and text on the event, so nothing is lost."""
    if code in table:
        return table[code]
    UNKNOWN_STATUS.labels(carrier=carrier, code=code).inc()
    with _warned_lock:
        first = (carrier, code) not in _warned
        _warned.add((carrier, code))
    if first:
        logger.warning(
            "unknown %s status code %r (%s); treating it as %s", carrier, code, text, default
        )
    return default, None


def label_format(
    carrier: str, credentials: Mapping[str, str], default: str, formats: frozenset[str]
) -> str:
    """The account's `label_format` (any case), refused when the adapter is made rather than
    at the first label."""
    chosen = credentials.get("label_format", default).upper()
    if chosen not in formats:
        raise ValueError(f"{carrier} label_format must be one of {sorted(formats)}")
    return chosen
