"""USPS code tables: tracking event codes (USPS Tracking API, "Event Codes" appendix of the
Web Tools TrackConfirm guide, the same codes Tracking v3 returns in `eventCode`) and mail
classes of the Domestic Prices / Labels v3 APIs."""

from __future__ import annotations

from shipflow.domain import Reason, Status

S, R = Status, Reason

EVENT_CODES: dict[str, tuple[Status, Reason | None]] = {
    # Electronic information, before the first scan
    "GX": (S.INFO_RECEIVED, None),  # Shipping Label Created, USPS Awaiting Item
    "MA": (S.INFO_RECEIVED, None),  # Pre-Shipment Info Sent to USPS (manifest acknowledged)
    "TM": (S.INFO_RECEIVED, None),  # Shipment Received, Package Acceptance Pending
    # Acceptance and movement in the network
    "03": (S.IN_TRANSIT, None),  # USPS in possession of item / Acceptance
    "OA": (S.IN_TRANSIT, None),  # Accepted at USPS Origin Facility
    "80": (S.IN_TRANSIT, None),  # Picked Up by Shipping Partner
    "81": (S.IN_TRANSIT, None),  # Arrived Shipping Partner Facility
    "82": (S.IN_TRANSIT, None),  # Departed Shipping Partner Facility
    "10": (S.IN_TRANSIT, None),  # Arrived at USPS Regional Origin Facility (Processed)
    "A1": (S.IN_TRANSIT, None),  # Arrived at USPS Regional Facility
    "L1": (S.IN_TRANSIT, None),  # Departed USPS Facility
    "T1": (S.IN_TRANSIT, None),  # Departed USPS Regional Facility
    "U1": (S.IN_TRANSIT, None),  # In Transit to Next Facility (no scan)
    "TL": (S.IN_TRANSIT, None),  # In Transit to Next Facility
    "NT": (S.IN_TRANSIT, R.CARRIER_DELAY),  # In Transit, Arriving Late
    "SF": (S.IN_TRANSIT, None),  # Departed Post Office
    "07": (S.IN_TRANSIT, None),  # Arrived at Post Office (Arrival at Unit)
    "PC": (S.IN_TRANSIT, None),  # Sorting Complete
    "06": (S.IN_TRANSIT, None),  # Forwarded
    "08": (S.IN_TRANSIT, R.CARRIER_DELAY),  # Missent
    "15": (S.IN_TRANSIT, R.CARRIER_DELAY),  # Mis-sent
    "41": (S.IN_TRANSIT, None),  # Received at Opening Unit
    "42": (S.IN_TRANSIT, None),  # USPS Handoff to Shipping Partner
    "H0": (S.EXCEPTION, R.CUSTOMS_HOLD),  # Held in Customs
    "H1": (S.IN_TRANSIT, None),  # Customs Clearance
    "44": (S.EXCEPTION, R.HELD_BY_CARRIER),  # Customer Recall (held for sender)
    # Final mile
    "OF": (S.OUT_FOR_DELIVERY, None),  # Out for Delivery
    "DX": (S.EXCEPTION, R.CARRIER_DELAY),  # Delivery Exception (not delivered today)
    "02": (S.ATTEMPT_FAILED, R.CUSTOMER_UNAVAILABLE),  # Notice Left (No Authorized Recipient)
    "51": (S.ATTEMPT_FAILED, R.BUSINESS_CLOSED),  # Notice Left (Business Closed)
    "52": (S.ATTEMPT_FAILED, R.ACCESS_PROBLEM),  # Notice Left (Receptacle Full/Item Oversized)
    "53": (S.ATTEMPT_FAILED, R.ACCESS_PROBLEM),  # Notice Left (Receptacle Blocked)
    "54": (S.ATTEMPT_FAILED, R.ACCESS_PROBLEM),  # Notice Left (No Secure Location)
    "55": (S.ATTEMPT_FAILED, R.ACCESS_PROBLEM),  # Notice Left (Animal Interference)
    "56": (S.ATTEMPT_FAILED, R.WEATHER),  # Notice Left (Weather/Unsafe Conditions)
    "14": (S.AVAILABLE_FOR_PICKUP, None),  # Arrival at Pickup Point
    "16": (S.AVAILABLE_FOR_PICKUP, None),  # Available for Pickup
    "RC": (S.AVAILABLE_FOR_PICKUP, None),  # Reminder to Schedule Redelivery / pick up
    "01": (S.DELIVERED, None),  # Delivered
    "17": (S.DELIVERED, None),  # Picked Up at Post Office
    "43": (S.DELIVERED, None),  # Picked Up (by recipient)
    "DD": (S.DELIVERED, R.DAMAGED),  # Delivered, Damaged
    # Undeliverable: the parcel starts its way back
    "04": (S.RETURNING_TO_SENDER, R.REFUSED),  # Refused
    "05": (S.EXCEPTION, R.ADDRESS_INCORRECT),  # Undeliverable as Addressed
    "21": (S.RETURNING_TO_SENDER, R.ADDRESS_INCORRECT),  # No Such Number
    "22": (S.RETURNING_TO_SENDER, R.ADDRESS_INCORRECT),  # Insufficient Address
    "23": (S.RETURNING_TO_SENDER, R.ADDRESS_INCORRECT),  # Moved, Left No Address
    "24": (S.RETURNING_TO_SENDER, R.ADDRESS_INCORRECT),  # Forward Expired
    "25": (S.RETURNING_TO_SENDER, R.ADDRESS_INCORRECT),  # Addressee Unknown
    "26": (S.RETURNING_TO_SENDER, R.ADDRESS_INCORRECT),  # Vacant
    "27": (S.RETURNING_TO_SENDER, R.CUSTOMER_UNAVAILABLE),  # Unclaimed
    "28": (S.RETURNING_TO_SENDER, R.OTHER),  # Deceased
    "29": (S.RETURNING_TO_SENDER, R.CUSTOMER_UNAVAILABLE),  # Return to Sender, Not Picked Up
    "09": (S.RETURNING_TO_SENDER, None),  # Return to Sender (processed)
    "31": (S.RETURNED_TO_SENDER, None),  # Delivered to Sender (returned)
    "11": (S.EXCEPTION, R.LOST),  # Dead Letter / Mail Recovery Center
    "DM": (S.EXCEPTION, R.DAMAGED),  # Damaged
    "PS": (S.EXCEPTION, R.PAYMENT_REQUIRED),  # Postage Due
}

# shipflow service name -> USPS `mailClass` of the v3 APIs.
MAIL_CLASSES: dict[str, str] = {
    "ground_advantage": "USPS_GROUND_ADVANTAGE",
    "priority_mail": "PRIORITY_MAIL",
    "priority_mail_express": "PRIORITY_MAIL_EXPRESS",
    "parcel_select": "PARCEL_SELECT",
    "media_mail": "MEDIA_MAIL",
    "library_mail": "LIBRARY_MAIL",
    "bound_printed_matter": "BOUND_PRINTED_MATTER",
}

# What `rates` quotes when the request names no service.
DEFAULT_RATED_SERVICES = ("ground_advantage", "priority_mail", "priority_mail_express")
