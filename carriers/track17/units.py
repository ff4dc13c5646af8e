"""17TRACK v2.2 code tables: `latest_status.sub_status` and each event's `sub_status`
(the documented list, "Package status" of asset.17track.net/api/document/v2.2_en), the
milestone `stage` of an event that has no sub-status, and 17TRACK's numeric carrier keys
(apicarrier.all.json) of the carriers we name. Anything outside keeps its raw code and text.

SUB_STATUSES was checked against 17TRACK's "Understanding Tracking Status (Main Status &
Substatus)" (help.17track.net/hc/en-us/articles/37471096573337: 9 main statuses, 30
sub-statuses, the same 30 as here) and the error codes against its "Error Codes and
Troubleshooting" (help.17track.net/hc/en-us/articles/37570440168473). Per their descriptions,
DeliveryFailure_Security is a security, customs or fee problem (not a door the driver could
not reach) and Exception_Rejected a refusal received before delivery (not yet a return)."""

from __future__ import annotations

from shipflow.domain import Reason, Status

S, R = Status, Reason

SUB_STATUSES: dict[str, tuple[Status, Reason | None]] = {
    "NotFound_Other": (S.PENDING, None),
    "NotFound_InvalidCode": (S.PENDING, None),
    "InfoReceived": (S.INFO_RECEIVED, None),
    "InTransit_PickedUp": (S.IN_TRANSIT, None),
    "InTransit_Departure": (S.IN_TRANSIT, None),
    "InTransit_Arrival": (S.IN_TRANSIT, None),
    "InTransit_CustomsProcessing": (S.IN_TRANSIT, None),
    "InTransit_CustomsReleased": (S.IN_TRANSIT, None),
    "InTransit_CustomsRequiringInformation": (S.EXCEPTION, R.CUSTOMS_HOLD),
    "InTransit_Other": (S.IN_TRANSIT, None),
    "Expired_Other": (S.EXPIRED, None),
    "AvailableForPickup_Other": (S.AVAILABLE_FOR_PICKUP, None),
    "OutForDelivery_Other": (S.OUT_FOR_DELIVERY, None),
    "DeliveryFailure_Other": (S.ATTEMPT_FAILED, None),
    "DeliveryFailure_NoBody": (S.ATTEMPT_FAILED, R.CUSTOMER_UNAVAILABLE),
    "DeliveryFailure_Security": (S.ATTEMPT_FAILED, R.HELD_BY_CARRIER),
    "DeliveryFailure_Rejected": (S.ATTEMPT_FAILED, R.REFUSED),
    "DeliveryFailure_InvalidAddress": (S.ATTEMPT_FAILED, R.ADDRESS_INCORRECT),
    "Delivered_Other": (S.DELIVERED, None),
    "Exception_Other": (S.EXCEPTION, None),
    "Exception_Returning": (S.RETURNING_TO_SENDER, None),
    "Exception_Returned": (S.RETURNED_TO_SENDER, None),
    "Exception_NoBody": (S.EXCEPTION, R.CUSTOMER_UNAVAILABLE),
    "Exception_Security": (S.EXCEPTION, R.HELD_BY_CARRIER),
    "Exception_Damage": (S.EXCEPTION, R.DAMAGED),
    "Exception_Rejected": (S.EXCEPTION, R.REFUSED),
    "Exception_Delayed": (S.IN_TRANSIT, R.CARRIER_DELAY),
    "Exception_Lost": (S.EXCEPTION, R.LOST),
    "Exception_Destroyed": (S.EXCEPTION, R.LOST),
    "Exception_Cancel": (S.CANCELLED, None),
}

# An event's milestone `stage`, for events that carry no `sub_status`.
STAGES: dict[str, tuple[Status, Reason | None]] = {
    "InfoReceived": (S.INFO_RECEIVED, None),
    "PickedUp": (S.IN_TRANSIT, None),
    "Departure": (S.IN_TRANSIT, None),
    "Arrival": (S.IN_TRANSIT, None),
    "AvailableForPickup": (S.AVAILABLE_FOR_PICKUP, None),
    "OutForDelivery": (S.OUT_FOR_DELIVERY, None),
    "Delivered": (S.DELIVERED, None),
    "Returning": (S.RETURNING_TO_SENDER, None),
    "Returned": (S.RETURNED_TO_SENDER, None),
}

# 17TRACK carrier key -> our carrier (a registered adapter) or the courier's plain name.
CARRIERS: dict[int, str] = {
    100001: "dhl",
    100002: "ups",
    100003: "fedex",
    21051: "usps",
    10021: "japan_post",
    100062: "yamato",
    100040: "sagawa",
    3011: "china_post",
    3013: "ems",
    100012: "sf",
}

# Error codes (17TRACK "Error codes"): the call's own `code`, or a number's in `rejected`.
ALREADY_REGISTERED = -18019901
QUOTA_CODES = frozenset({-18019907, -18019908})  # daily limit, quota used up
AUTH_CODES = frozenset({-18010001, -18010002, -18010004, -18010005})
RETRY_LATER_CODES = frozenset({-18010003})  # "Internal service error. Please try again later."
QUOTA_RETRY_SECONDS = 3600.0
