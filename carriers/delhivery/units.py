"""Delhivery code tables. Sources: Delhivery B2C API documentation
(delhivery-express-api-doc.readme.io): "Shipment Tracking API" and "Tracking via PUSH API
(webhook)" (Status.StatusType with Status.Status; ScanDetail.ScanType, Scan, StatusCode),
the forward and reverse status flows ("Prepaid and COD shipments", "Reverse pickups") and the
"Asynchronous NDR package action API" (the NSL codes that mark a failed attempt).

A scan is read as (StatusType, Status): UD undelivered (forward), DL delivered (to the
customer, or back at origin as RTO/DTO), RT returning to origin, PP reverse pickup pending,
PU reverse pickup picked up, CN cancelled, LT lost. The NSL code (`StatusCode`, `NSLCode` in
pushes) is finer: a failed-attempt code turns a `Pending` scan into `attempt_failed` with its
reason. Pairs and codes outside these tables fall back to the scan's text (`carriers.texts`),
then to in transit, always with the raw code and text kept.
"""

from __future__ import annotations

import re

from shipflow.domain import Reason, ServiceLevel, Status

S, R = Status, Reason

# "<StatusType>:<Status>" -> (status, reason).
STATUS_BY_TYPE: dict[str, tuple[Status, Reason | None]] = {
    "UD:Manifested": (S.INFO_RECEIVED, None),  # order created, not yet picked up
    "UD:Not Picked": (S.INFO_RECEIVED, None),  # pickup attempted, parcel not handed over
    "UD:In Transit": (S.IN_TRANSIT, None),
    "UD:Pending": (S.IN_TRANSIT, None),  # at the destination centre, not yet out
    "UD:Dispatched": (S.OUT_FOR_DELIVERY, None),  # out for delivery
    "DL:Delivered": (S.DELIVERED, None),
    "RT:In Transit": (S.RETURNING_TO_SENDER, None),  # RTO on its way back
    "RT:Pending": (S.RETURNING_TO_SENDER, None),
    "RT:Dispatched": (S.RETURNING_TO_SENDER, None),  # out for delivery to the origin
    "DL:RTO": (S.RETURNED_TO_SENDER, None),  # RTO delivered back to the shipper
    "PP:Open": (S.INFO_RECEIVED, None),  # reverse pickup requested
    "PP:Scheduled": (S.INFO_RECEIVED, None),
    "PP:Dispatched": (S.INFO_RECEIVED, None),  # courier on the way to collect
    "PU:In Transit": (S.IN_TRANSIT, None),  # reverse parcel picked up
    "PU:Pending": (S.IN_TRANSIT, None),
    "PU:Dispatched": (S.OUT_FOR_DELIVERY, None),  # out for delivery to the warehouse
    "DL:DTO": (S.DELIVERED, None),  # reverse parcel delivered to the warehouse
    "CN:Canceled": (S.CANCELLED, None),
    "CN:Closed": (S.CANCELLED, None),  # reverse pickup closed without collection
    "LT:Lost": (S.EXCEPTION, R.LOST),
}

# What a pair outside the table most likely is, by its StatusType (else in transit).
TYPE_DEFAULTS: dict[str, Status] = {
    "RT": S.RETURNING_TO_SENDER,
    "PP": S.INFO_RECEIVED,
    "CN": S.CANCELLED,
}

# NSL codes the NDR API accepts actions for (RE-ATTEMPT, DEFER_DLV): each is a failed
# delivery attempt. The reason, where the code names one; the rest are read from the text.
FAILED_ATTEMPT_CODES = frozenset(
    {"EOD-3", "EOD-6", "EOD-11", "EOD-15", "EOD-16", "EOD-43", "EOD-69", "EOD-74", "EOD-86"}
    | {"EOD-104", "ST-108"}
)
ATTEMPT_REASONS: dict[str, Reason] = {
    "EOD-6": R.CUSTOMER_UNAVAILABLE,  # consignee unavailable
    "EOD-74": R.REFUSED,  # consignee refused the shipment
}

# The consignee would not pay the COD amount: said in the scan's instructions only.
COD_REFUSAL = re.compile(
    r"\bCOD\b.{0,40}(refus|not ready|not available|denied)|refus\w* to pay|(no|insufficient)"
    r" (cash|money|funds)",
    re.IGNORECASE,
)

# service name -> shipping_mode of the create API.
SERVICES: dict[str, tuple[str, ServiceLevel]] = {
    "surface": ("Surface", ServiceLevel.STANDARD),
    "express": ("Express", ServiceLevel.EXPRESS),
}

TRACK_BATCH = 50  # waybills per Shipment Tracking API call
