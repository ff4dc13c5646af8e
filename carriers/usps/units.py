"""USPS code tables: tracking event codes and the mail classes of the v3 Prices/Labels APIs.

Event codes are those of the USPS Web Tools Track/Confirm event-code appendix, which Tracking
v3 returns in `eventCode`, plus the v3-era facility codes seen in its responses (GX, A1, T1,
TL). Anything else is read from its text (`carriers.texts`), else reaches
`carriers.units.lookup` as unknown and is counted."""

from __future__ import annotations

from shipflow.domain import Reason, Status

S, R = Status, Reason

EVENT_CODES: dict[str, tuple[Status, Reason | None]] = {
    # Electronic information, before the first scan
    "GX": (S.INFO_RECEIVED, None),  # Shipping Label Created, USPS Awaiting Item
    "MA": (S.INFO_RECEIVED, None),  # Manifest Acknowledgement (Pre-Shipment Info Sent to USPS)
    "TM": (S.IN_TRANSIT, None),  # Truck Manifest / Shipment Acceptance
    "PA": (S.IN_TRANSIT, None),  # Passive Acceptance / Shipment Acceptance
    # Acceptance and movement in the network
    "03": (S.IN_TRANSIT, None),  # Accept or Pickup (USPS in possession of item)
    "10": (S.IN_TRANSIT, None),  # Processed (Arrived at USPS Regional Origin Facility)
    "19": (S.IN_TRANSIT, None),  # DC eVS Arrive
    "A1": (S.IN_TRANSIT, None),  # Arrived at USPS Regional Facility
    "T1": (S.IN_TRANSIT, None),  # Departed USPS Regional Facility
    "TL": (S.IN_TRANSIT, None),  # In Transit to Next Facility
    "EF": (S.IN_TRANSIT, None),  # Departed Sort Facility
    "SF": (S.IN_TRANSIT, None),  # Departed Post Office
    "07": (S.IN_TRANSIT, None),  # Arrival at Unit (Arrived at Post Office)
    "PC": (S.IN_TRANSIT, None),  # Sorting / Processing Complete
    "41": (S.IN_TRANSIT, None),  # Received at Opening Unit
    "06": (S.IN_TRANSIT, None),  # Forwarded
    "08": (S.IN_TRANSIT, R.CARRIER_DELAY),  # Missent
    "15": (S.IN_TRANSIT, R.CARRIER_DELAY),  # Mis-shipped
    "42": (S.IN_TRANSIT, None),  # USPS Handoff to Shipping Partner
    "80": (S.IN_TRANSIT, None),  # Picked Up by Shipping Partner
    "81": (S.IN_TRANSIT, None),  # Arrived at Shipping Partner Facility
    "82": (S.IN_TRANSIT, None),  # Departed Shipping Partner Facility
    "44": (S.EXCEPTION, R.HELD_BY_CARRIER),  # Customer Recall (held for the sender)
    # Final mile
    "OF": (S.OUT_FOR_DELIVERY, None),  # Out for Delivery
    "DX": (S.EXCEPTION, R.CARRIER_DELAY),  # Delivery Status Not Updated
    "02": (S.ATTEMPT_FAILED, R.CUSTOMER_UNAVAILABLE),  # Attempted / Notice Left
    "52": (S.ATTEMPT_FAILED, R.CUSTOMER_UNAVAILABLE),  # Notice Left
    "51": (S.ATTEMPT_FAILED, R.BUSINESS_CLOSED),  # Business Closed
    "53": (S.ATTEMPT_FAILED, R.ACCESS_PROBLEM),  # Receptacle Blocked
    "54": (S.ATTEMPT_FAILED, R.ACCESS_PROBLEM),  # Receptacle Full / Item Oversized
    "55": (S.ATTEMPT_FAILED, R.ACCESS_PROBLEM),  # No Secure Location Available
    "56": (S.ATTEMPT_FAILED, R.CUSTOMER_UNAVAILABLE),  # No Authorized Recipient Available
    "14": (S.AVAILABLE_FOR_PICKUP, None),  # Arrival at Pickup Point
    "16": (S.AVAILABLE_FOR_PICKUP, None),  # Available for Pickup
    "01": (S.DELIVERED, None),  # Delivered
    "17": (S.DELIVERED, None),  # Picked Up by Agent
    "43": (S.DELIVERED, None),  # Picked Up (by the addressee)
    # Undeliverable: the parcel goes back to the sender
    "04": (S.RETURNING_TO_SENDER, R.REFUSED),  # Refused
    "05": (S.EXCEPTION, R.ADDRESS_INCORRECT),  # Undeliverable as Addressed
    "09": (S.RETURNING_TO_SENDER, None),  # Return to Sender
    "21": (S.RETURNING_TO_SENDER, R.ADDRESS_INCORRECT),  # Return to Sender: No Such Number
    "22": (S.RETURNING_TO_SENDER, R.ADDRESS_INCORRECT),  # ... Insufficient Address
    "23": (S.RETURNING_TO_SENDER, R.ADDRESS_INCORRECT),  # ... Moved, Left No Address
    "24": (S.RETURNING_TO_SENDER, R.ADDRESS_INCORRECT),  # ... Forward Expired
    "25": (S.RETURNING_TO_SENDER, R.ADDRESS_INCORRECT),  # ... Addressee Unknown
    "26": (S.RETURNING_TO_SENDER, R.ADDRESS_INCORRECT),  # ... Vacant
    "27": (S.RETURNING_TO_SENDER, R.CUSTOMER_UNAVAILABLE),  # ... Unclaimed
    "28": (S.RETURNING_TO_SENDER, R.OTHER),  # ... Deceased
    "29": (S.RETURNING_TO_SENDER, R.OTHER),  # ... Other
    "31": (S.RETURNING_TO_SENDER, R.CUSTOMER_UNAVAILABLE),  # ... Not Picked Up
    "11": (S.EXCEPTION, R.LOST),  # Dead Letter (Mail Recovery Center)
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
