"""EasyPost code tables (docs.easypost.com, Tracker object: `status` and `status_detail`).
A status outside the list, or a reason neither gives, is read from the message
(`carriers.texts`)."""

from __future__ import annotations

from shipflow.domain import Reason, Status

S, R = Status, Reason

STATUSES: dict[str, tuple[Status, Reason | None]] = {
    "unknown": (S.PENDING, None),
    "pre_transit": (S.INFO_RECEIVED, None),
    "in_transit": (S.IN_TRANSIT, None),
    "out_for_delivery": (S.OUT_FOR_DELIVERY, None),
    "delivered": (S.DELIVERED, None),
    "available_for_pickup": (S.AVAILABLE_FOR_PICKUP, None),
    "return_to_sender": (S.RETURNING_TO_SENDER, None),
    "failure": (S.EXCEPTION, None),
    "cancelled": (S.CANCELLED, None),
    "error": (S.EXCEPTION, R.OTHER),
}

# What each status_detail implies. IN_TRANSIT marks a detail that only informs: it never
# overrides the status; any other status here refines a generic one (see mapping.classify).
STATUS_DETAILS: dict[str, tuple[Status, Reason | None]] = {
    "address_correction": (S.EXCEPTION, R.ADDRESS_INCORRECT),
    "arrived_at_destination": (S.IN_TRANSIT, None),
    "arrived_at_facility": (S.IN_TRANSIT, None),
    "arrived_at_pickup_location": (S.AVAILABLE_FOR_PICKUP, None),
    "awaiting_information": (S.EXCEPTION, R.ADDRESS_INCORRECT),
    "cancelled": (S.CANCELLED, None),
    "damaged": (S.EXCEPTION, R.DAMAGED),
    "delayed": (S.IN_TRANSIT, R.CARRIER_DELAY),
    "delivery_exception": (S.ATTEMPT_FAILED, None),  # the reason is in the message
    "departed_facility": (S.IN_TRANSIT, None),
    "departed_origin_facility": (S.IN_TRANSIT, None),
    "expired": (S.EXPIRED, None),
    "failure": (S.EXCEPTION, R.OTHER),
    "held": (S.EXCEPTION, R.HELD_BY_CARRIER),
    "in_transit": (S.IN_TRANSIT, None),
    "label_created": (S.INFO_RECEIVED, None),
    "lost": (S.EXCEPTION, R.LOST),
    "missorted": (S.IN_TRANSIT, R.CARRIER_DELAY),
    "out_for_delivery": (S.OUT_FOR_DELIVERY, None),
    "received_at_destination_facility": (S.IN_TRANSIT, None),
    "received_at_origin_facility": (S.IN_TRANSIT, None),
    "refused": (S.RETURNING_TO_SENDER, R.REFUSED),
    "return": (S.RETURNING_TO_SENDER, None),
    "status_update": (S.IN_TRANSIT, None),
    "transferred_to_destination_carrier": (S.IN_TRANSIT, None),
    "transit_exception": (S.EXCEPTION, R.CARRIER_DELAY),
    "unknown": (S.IN_TRANSIT, None),
    "weather_delay": (S.IN_TRANSIT, R.WEATHER),
}
