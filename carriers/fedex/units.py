"""FedEx code tables. Sources: FedEx API reference guide (developer.fedex.com/api/en-us/guides/
api-reference.html: "Tracking Status Codes", "Status Code and Statuses for Webhook Tracking
Events", and the mock tracking numbers, e.g. "Customer not available or business closed
(Delivery Exception 007)"), the Track API reference (scanEvents[].eventType, exceptionCode,
derivedStatusCode, latestStatusDetail), Rate/Ship API references (serviceType, imageType).

An event is classified by its `eventType` (finer than `derivedStatusCode`); on an exception
event, a known `exceptionCode` then supplies the reason and may change the status, and an
unknown one leaves it to the text (`carriers.texts`). An event type neither table nor text
explains becomes `in_transit` (FedEx's unlisted scans are movement scans), counted and logged.
"""

from __future__ import annotations

from shipflow.domain import Reason, ServiceLevel, Status

S, R = Status, Reason

STATUS_BY_EVENT: dict[str, tuple[Status, Reason | None]] = {
    "OC": (S.INFO_RECEIVED, None),  # Shipment information sent to FedEx (label created)
    "IN": (S.INFO_RECEIVED, None),  # Initiated (derived status: label created)
    "PX": (S.INFO_RECEIVED, None),  # Picked up, see details (pickup scheduled)
    "PU": (S.IN_TRANSIT, None),  # Picked up
    "AA": (S.IN_TRANSIT, None),  # At airport
    "AD": (S.IN_TRANSIT, None),  # At delivery
    "DO": (S.IN_TRANSIT, None),  # Dropped off
    "IP": (S.IN_TRANSIT, None),  # In FedEx possession
    "OW": (S.IN_TRANSIT, None),  # On the way
    "US": (S.IN_TRANSIT, None),  # Scheduled delivery updated
    "MD": (S.INFO_RECEIVED, None),  # Manifest data
    "AC": (S.IN_TRANSIT, None),  # At Canada Post facility
    "AF": (S.IN_TRANSIT, None),  # At local FedEx facility
    "AO": (S.IN_TRANSIT, None),  # Shipment arriving on time
    "AE": (S.IN_TRANSIT, None),  # Shipment arriving early
    "AP": (S.IN_TRANSIT, None),  # At pickup
    "AR": (S.IN_TRANSIT, None),  # Arrived at FedEx location
    "AX": (S.IN_TRANSIT, None),  # At USPS facility
    "CC": (S.IN_TRANSIT, None),  # Cleared customs
    "CH": (S.IN_TRANSIT, None),  # Location changed
    "CP": (S.IN_TRANSIT, None),  # Clearance in progress
    "DP": (S.IN_TRANSIT, None),  # Departed FedEx location
    "DR": (S.IN_TRANSIT, None),  # Vehicle furnished but not used
    "DS": (S.IN_TRANSIT, None),  # Vehicle dispatched
    "EA": (S.IN_TRANSIT, None),  # Enroute to airport
    "ED": (S.IN_TRANSIT, None),  # Enroute to delivery
    "EO": (S.IN_TRANSIT, None),  # Enroute to origin airport
    "EP": (S.IN_TRANSIT, None),  # Enroute to pickup
    "FD": (S.IN_TRANSIT, None),  # At FedEx destination
    "IT": (S.IN_TRANSIT, None),  # In transit
    "IX": (S.IN_TRANSIT, None),  # In transit, see details
    "LO": (S.IN_TRANSIT, None),  # Left FedEx origin facility
    "OF": (S.IN_TRANSIT, None),  # At FedEx origin facility
    "OX": (S.IN_TRANSIT, None),  # Shipment information sent to USPS
    "PF": (S.IN_TRANSIT, None),  # Plane in flight
    "PL": (S.IN_TRANSIT, None),  # Plane landed
    "PM": (S.IN_TRANSIT, None),  # In progress
    "SF": (S.IN_TRANSIT, None),  # At sort facility
    "SP": (S.IN_TRANSIT, None),  # Split status (multi-piece)
    "TR": (S.IN_TRANSIT, None),  # Transfer
    "CD": (S.EXCEPTION, R.CUSTOMS_HOLD),  # Clearance delay
    "DD": (S.EXCEPTION, R.CARRIER_DELAY),  # Delivery delay
    "DY": (S.EXCEPTION, R.CARRIER_DELAY),  # Delay
    "PD": (S.EXCEPTION, R.CARRIER_DELAY),  # Pickup delay
    "SE": (S.EXCEPTION, None),  # Shipment exception (reason from exceptionCode)
    "CA": (S.CANCELLED, None),  # Shipment cancelled
    "OD": (S.OUT_FOR_DELIVERY, None),  # On FedEx vehicle for delivery
    "DE": (S.ATTEMPT_FAILED, None),  # Delivery exception (reason from exceptionCode)
    "HL": (S.AVAILABLE_FOR_PICKUP, None),  # Hold at location
    "HP": (S.AVAILABLE_FOR_PICKUP, None),  # Ready for recipient pickup
    "DL": (S.DELIVERED, None),  # Delivered
    "RS": (S.RETURNING_TO_SENDER, None),  # Return to shipper
    "RP": (S.INFO_RECEIVED, None),  # Return label link e-mailed to return sender
    "RG": (S.INFO_RECEIVED, None),  # Return label link expiring soon
    "LP": (S.CANCELLED, None),  # Return label link cancelled by shipment originator
    "LC": (S.CANCELLED, None),  # Return label link cancelled (webhook spelling)
    "RD": (S.EXPIRED, None),  # Return label link expired
    "RR": (S.IN_TRANSIT, None),  # Delivery option requested (CDO)
    "RM": (S.IN_TRANSIT, None),  # Delivery option modified (CDO)
    "RC": (S.IN_TRANSIT, None),  # Delivery option cancelled (CDO)
    "HA": (S.IN_TRANSIT, None),  # Hold at location request accepted (CDO)
    "RT": (S.IN_TRANSIT, None),  # Return to shipper requested (CDO)
    "RA": (S.IN_TRANSIT, None),  # Address change requested (CDO)
    "PR": (S.IN_TRANSIT, None),  # Redirect performed, address change completed (CDO)
    "AS": (S.IN_TRANSIT, None),  # Address corrected
}

# exceptionCode of DE/SE/DD events -> (status override or None, reason).
EXCEPTIONS: dict[str, tuple[Status | None, Reason | None]] = {
    "03": (S.EXCEPTION, R.ADDRESS_INCORRECT),  # Incorrect address
    "007": (None, R.CUSTOMER_UNAVAILABLE),  # Customer not available or business closed
    "04": (None, R.ACCESS_PROBLEM),  # Unable to access the delivery location
    "05": (None, R.OTHER),  # Delivery option requested by the recipient
    "07": (None, R.REFUSED),  # Refused by recipient
    "08": (None, R.CUSTOMER_UNAVAILABLE),  # Recipient not in / customer not available
    "09": (S.EXCEPTION, R.OTHER),  # Local delivery restriction
    "083": (S.EXCEPTION, R.OTHER),  # Local delivery restriction, delivery not attempted
    "10": (S.EXCEPTION, R.DAMAGED),  # Damaged, delivery not completed
    "11": (S.EXCEPTION, R.ADDRESS_INCORRECT),  # Unable to locate the address
    "12": (S.EXCEPTION, R.LOST),  # Package could not be located
    "13": (S.EXCEPTION, R.WEATHER),  # Weather or natural disaster delay
    "15": (None, R.BUSINESS_CLOSED),  # Business closed
    "17": (None, R.CUSTOMER_UNAVAILABLE),  # Customer requested a future delivery
    "29": (S.EXCEPTION, R.ADDRESS_INCORRECT),  # Rerouted to a new address
    "34": (S.EXCEPTION, R.CARRIER_DELAY),  # Delay beyond FedEx's control
    "41": (S.EXCEPTION, R.CUSTOMS_HOLD),  # Held by customs
    "42": (S.EXCEPTION, R.PAYMENT_REQUIRED),  # Duties and taxes due
    "67": (S.EXCEPTION, R.HELD_BY_CARRIER),  # Held at FedEx location, see details
    "71": (S.EXCEPTION, R.WEATHER),  # Severe weather
    "A12": (S.IN_TRANSIT, None),  # Hold at FedEx Office request received
    "A13": (S.IN_TRANSIT, None),  # Redirecting to FedEx Office, as requested
}

# serviceType of Rate/Ship <-> shipflow service name and level.
SERVICES: dict[str, tuple[str, ServiceLevel]] = {
    "FEDEX_GROUND": ("ground", ServiceLevel.STANDARD),
    "GROUND_HOME_DELIVERY": ("home_delivery", ServiceLevel.STANDARD),
    "FEDEX_EXPRESS_SAVER": ("express_saver", ServiceLevel.STANDARD),
    "FEDEX_2_DAY": ("2_day", ServiceLevel.EXPRESS),
    "FEDEX_2_DAY_AM": ("2_day_am", ServiceLevel.EXPRESS),
    "STANDARD_OVERNIGHT": ("standard_overnight", ServiceLevel.EXPRESS),
    "PRIORITY_OVERNIGHT": ("priority_overnight", ServiceLevel.EXPRESS),
    "FIRST_OVERNIGHT": ("first_overnight", ServiceLevel.EXPRESS),
    "SAME_DAY": ("same_day", ServiceLevel.SAME_DAY),
    "SAME_DAY_CITY": ("same_day_city", ServiceLevel.SAME_DAY),
    "FEDEX_INTERNATIONAL_PRIORITY": ("international_priority", ServiceLevel.EXPRESS),
    "INTERNATIONAL_ECONOMY": ("international_economy", ServiceLevel.ECONOMY),
    "FEDEX_INTERNATIONAL_CONNECT_PLUS": ("international_connect_plus", ServiceLevel.ECONOMY),
    "SMART_POST": ("ground_economy", ServiceLevel.ECONOMY),
}
SERVICE_TYPES = {name: code for code, (name, _) in SERVICES.items()}

LABEL_FORMATS = frozenset({"PDF", "PNG", "ZPLII", "EPL2"})  # labelSpecification.imageType
LABEL_STOCK = {"PDF": "PAPER_4X6", "PNG": "PAPER_4X6", "ZPLII": "STOCK_4X6", "EPL2": "STOCK_4X6"}
