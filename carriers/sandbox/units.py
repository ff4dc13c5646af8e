"""The sandbox carrier's raw codes in shipflow's language. A failure, exception or return
scan carries a reason code; the table is keyed "CODE" or "CODE:reason"."""

from __future__ import annotations

from carriers import units
from shipflow.domain import Reason, Status

CARRIER = "sandbox"

STATUS_BY_CODE: dict[str, tuple[Status, Reason | None]] = {
    "LC": (Status.INFO_RECEIVED, None),
    "PU": (Status.IN_TRANSIT, None),
    "AR": (Status.IN_TRANSIT, None),
    "DP": (Status.IN_TRANSIT, None),
    "OD": (Status.OUT_FOR_DELIVERY, None),
    "DL": (Status.DELIVERED, None),
    "PK": (Status.AVAILABLE_FOR_PICKUP, None),
    "RS": (Status.RETURNING_TO_SENDER, None),
    "RD": (Status.RETURNED_TO_SENDER, None),
    "CN": (Status.CANCELLED, None),
    "NA:customer_unavailable": (Status.ATTEMPT_FAILED, Reason.CUSTOMER_UNAVAILABLE),
    "NA:access_problem": (Status.ATTEMPT_FAILED, Reason.ACCESS_PROBLEM),
    "NA:business_closed": (Status.ATTEMPT_FAILED, Reason.BUSINESS_CLOSED),
    "NA:address_incorrect": (Status.ATTEMPT_FAILED, Reason.ADDRESS_INCORRECT),
    "NA:cod_refused": (Status.ATTEMPT_FAILED, Reason.COD_REFUSED),
    "RS:cod_refused": (Status.RETURNING_TO_SENDER, Reason.COD_REFUSED),
    "RS:not_collected": (Status.RETURNING_TO_SENDER, Reason.NOT_COLLECTED),
    "EX:weather": (Status.EXCEPTION, Reason.WEATHER),
    "EX:damaged": (Status.EXCEPTION, Reason.DAMAGED),
    "EX:lost": (Status.EXCEPTION, Reason.LOST),
}


def status_of(code: str, reason: str = "", text: str = "") -> tuple[Status, Reason | None]:
    key = f"{code}:{reason}" if reason else code
    return units.lookup(CARRIER, STATUS_BY_CODE, key, text)
