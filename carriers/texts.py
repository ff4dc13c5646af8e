"""What a carrier's (English) event text says, for the events its code cannot decide: a code
outside the adapter's table, a coarse code (DHL's "transit"), or one a carrier uses for good
and bad news alike (UPS's type X). Every adapter asks here, so one wording maps the same way
whoever sent it.

First match wins, so specific texts come before general ones. A delay (weather, a missed
connection) is `in_transit` with its reason: the parcel still moves and nobody has to act.
"""

from __future__ import annotations

import re

from shipflow.domain import Reason, Status

S, R = Status, Reason

EVENT_TEXTS: tuple[tuple[re.Pattern[str], Status, Reason | None], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), status, reason)
    for pattern, status, reason in (
        (
            r"cleared customs|released by the (customs|government)|clearance (is )?complete"
            r"|received the information needed",
            S.IN_TRANSIT,
            None,
        ),
        (
            r"returned to (the )?(shipper|sender)|delivered back to (the )?sender",
            S.RETURNED_TO_SENDER,
            None,
        ),
        (r"refus", S.RETURNING_TO_SENDER, R.REFUSED),
        (
            r"(being )?returned|return(ing)? (package )?to (the )?(shipper|sender)"
            r"|back to the (shipper|sender)",
            S.RETURNING_TO_SENDER,
            None,
        ),
        (
            r"with delivery courier|out for delivery|loaded onto the delivery vehicle"
            r"|on fedex vehicle for delivery",
            S.OUT_FOR_DELIVERY,
            None,
        ),
        (
            r"recipient not (at )?home|not home|(recipient|receiver|customer|consignee)"
            r" (was )?not available|no (one|authorized recipient) (was )?available",
            S.ATTEMPT_FAILED,
            R.CUSTOMER_UNAVAILABLE,
        ),
        (r"business (was )?closed|closed on arrival", S.ATTEMPT_FAILED, R.BUSINESS_CLOSED),
        (
            r"no access|access (was )?not possible|(could not|unable to) access"
            r"|no secure location",
            S.ATTEMPT_FAILED,
            R.ACCESS_PROBLEM,
        ),
        (
            r"address (information )?(is )?(needed|incorrect|unknown|insufficient|incomplete)"
            r"|incorrect address|customer moved|bad address|street number is incorrect"
            r"|unable to locate the address",
            S.EXCEPTION,
            R.ADDRESS_INCORRECT,
        ),
        (
            r"(ready|available) for (pick ?up|collection)|awaiting collection"
            r"|at (the )?(parcel|pack)station|retail outlet|held .{0,30}for (customer )?pick ?up",
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
        (r"lost|cannot be located|could not be (found|located)", S.EXCEPTION, R.LOST),
        (
            r"delay|missed (the )?connection|did not arrive as planned",
            S.IN_TRANSIT,
            R.CARRIER_DELAY,
        ),
        (r"on hold|held at", S.EXCEPTION, R.HELD_BY_CARRIER),
    )
)


def from_text(text: str) -> tuple[Status, Reason | None] | None:
    """The (status, reason) the first matching wording implies, None when none matches."""
    for pattern, status, reason in EVENT_TEXTS:
        if pattern.search(text):
            return status, reason
    return None
