"""DHL Shipment Tracking - Unified API code tables (developer.dhl.com, "Shipment Tracking -
Unified" OpenAPI: `status.statusCode` enum) and the event texts that carry a reason."""

from __future__ import annotations

import re

from shipflow.domain import Reason, Status

S, R = Status, Reason

STATUS_CODES: dict[str, tuple[Status, Reason | None]] = {
    "pre-transit": (S.INFO_RECEIVED, None),
    "transit": (S.IN_TRANSIT, None),
    "delivered": (S.DELIVERED, None),
    "failure": (S.EXCEPTION, None),
    "unknown": (S.IN_TRANSIT, None),  # DHL has the parcel but cannot classify the scan
}

# DHL's statusCode is coarse; the event text (`status` / `description`) says what happened.
# First match wins, so specific texts come before general ones.
EVENT_TEXTS: tuple[tuple[re.Pattern[str], Status, Reason | None], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), status, reason)
    for pattern, status, reason in (
        (
            r"returned to (the )?(shipper|sender)|delivered back to (the )?sender",
            S.RETURNED_TO_SENDER,
            None,
        ),
        (r"refus", S.RETURNING_TO_SENDER, R.REFUSED),
        (r"(being )?returned|return(ing)? to (the )?(shipper|sender)", S.RETURNING_TO_SENDER, None),
        (
            r"with delivery courier|out for delivery|loaded onto the delivery vehicle",
            S.OUT_FOR_DELIVERY,
            None,
        ),
        (
            r"recipient not (at )?home|not home|recipient was not available",
            S.ATTEMPT_FAILED,
            R.CUSTOMER_UNAVAILABLE,
        ),
        (r"business closed|closed on arrival", S.ATTEMPT_FAILED, R.BUSINESS_CLOSED),
        (
            r"no access|access (was )?not possible|could not access",
            S.ATTEMPT_FAILED,
            R.ACCESS_PROBLEM,
        ),
        (
            r"address (information )?(needed|incorrect|unknown|insufficient)"
            r"|incorrect address|customer moved|bad address",
            S.EXCEPTION,
            R.ADDRESS_INCORRECT,
        ),
        (
            r"(ready|available) for (pick ?up|collection)|awaiting collection"
            r"|at (the )?(parcel|pack)station|retail outlet",
            S.AVAILABLE_FOR_PICKUP,
            None,
        ),
        (
            r"(held|pending|delay\w*|waiting)\b.{0,40}customs|customs (hold|inspection|delay)"
            r"|clearance delay|held for inspection",
            S.EXCEPTION,
            R.CUSTOMS_HOLD,
        ),
        (
            r"duties|payment (is )?(required|pending)|held for payment",
            S.EXCEPTION,
            R.PAYMENT_REQUIRED,
        ),
        (r"weather|natural disaster", S.IN_TRANSIT, R.WEATHER),
        (r"damaged", S.EXCEPTION, R.DAMAGED),
        (r"lost|cannot be located|could not be found", S.EXCEPTION, R.LOST),
        (
            r"delay|missed (the )?connection|did not arrive as planned",
            S.IN_TRANSIT,
            R.CARRIER_DELAY,
        ),
        (r"on hold|held at", S.EXCEPTION, R.HELD_BY_CARRIER),
    )
)
