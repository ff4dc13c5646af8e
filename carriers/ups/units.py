"""UPS code tables. Sources: the Track API spec (Tracking.yaml: status.type, deliveryDate and
deliveryTime types), the Track Alert spec (UPSTrackAlert.yaml: activityStatus.type D/I/M/MV/U/X)
and UPS's Rating/Shipping appendix (service and label codes).

An activity is classified by its two-letter `status.code` when the code table knows it (it
carries the reason), else by its one/two-letter `status.type`. An unknown type becomes
`in_transit` (UPS's unknowns are overwhelmingly movement scans), counted and logged once.
"""

from __future__ import annotations

from shipflow.domain import Reason, ServiceLevel, Status

S, R = Status, Reason

# status.type, per Tracking.yaml / UPSTrackAlert.yaml and the Track API appendix.
STATUS_BY_TYPE: dict[str, tuple[Status, Reason | None]] = {
    "M": (S.INFO_RECEIVED, None),  # Manifest: label created, parcel not yet with UPS
    "MV": (S.CANCELLED, None),  # Manifest void: label voided
    "P": (S.IN_TRANSIT, None),  # Pickup
    "I": (S.IN_TRANSIT, None),  # In progress / on the way
    "U": (S.IN_TRANSIT, None),  # Updated delivery date or time
    "DO": (S.IN_TRANSIT, None),  # Delivered to origin CFS (freight consolidation)
    "DD": (S.IN_TRANSIT, None),  # Delivered to destination CFS
    "W": (S.IN_TRANSIT, None),  # Warehousing
    "O": (S.OUT_FOR_DELIVERY, None),  # Out for delivery
    "D": (S.DELIVERED, None),  # Delivered
    "X": (S.EXCEPTION, None),  # Exception: something unusual, may still be on time
    "RS": (S.RETURNING_TO_SENDER, None),  # Returned to shipper (on its way back)
    "NA": (S.PENDING, None),  # Not available: UPS has nothing to say yet
}

# status.code: activity codes whose meaning is narrower than their type.
STATUS_BY_CODE: dict[str, tuple[Status, Reason | None]] = {
    "MP": (S.INFO_RECEIVED, None),  # Shipper created a label
    "OR": (S.IN_TRANSIT, None),  # Origin scan
    "PU": (S.IN_TRANSIT, None),  # Pickup scan
    "AR": (S.IN_TRANSIT, None),  # Arrival scan
    "DP": (S.IN_TRANSIT, None),  # Departure scan
    "IP": (S.IN_TRANSIT, None),  # Processing at UPS facility
    "OT": (S.IN_TRANSIT, None),  # On the way
    "DS": (S.IN_TRANSIT, None),  # Destination scan
    "SR": (S.IN_TRANSIT, None),  # Released by the customs agency
    "OF": (S.OUT_FOR_DELIVERY, None),  # Out for delivery today
    "FS": (S.DELIVERED, None),  # Delivered
    "KB": (S.DELIVERED, None),  # Delivered (driver release)
    "2W": (S.AVAILABLE_FOR_PICKUP, None),  # Delivered to a UPS Access Point, awaiting pickup
    "ZP": (S.AVAILABLE_FOR_PICKUP, None),  # Held at UPS facility for customer pickup
    "48": (S.ATTEMPT_FAILED, R.CUSTOMER_UNAVAILABLE),  # Receiver not available
    "B5": (S.ATTEMPT_FAILED, R.BUSINESS_CLOSED),  # Business closed
    "DJ": (S.ATTEMPT_FAILED, R.ACCESS_PROBLEM),  # Could not access the delivery location
    "RE": (S.ATTEMPT_FAILED, R.REFUSED),  # Receiver refused the delivery
    "AD": (S.EXCEPTION, R.ADDRESS_INCORRECT),  # Address incorrect, UPS is correcting it
    "UA": (S.EXCEPTION, R.ADDRESS_INCORRECT),  # Address unknown
    "WE": (S.EXCEPTION, R.WEATHER),  # Severe weather delay
    "CU": (S.EXCEPTION, R.CUSTOMS_HOLD),  # Held by the customs agency
    "BR": (S.EXCEPTION, R.PAYMENT_REQUIRED),  # Duties/taxes due before release
    "DM": (S.EXCEPTION, R.DAMAGED),  # Damaged, UPS is repackaging it
    "LO": (S.EXCEPTION, R.LOST),  # Could not be located
    "DL": (S.EXCEPTION, R.CARRIER_DELAY),  # Delayed in the UPS network
    "HP": (S.EXCEPTION, R.HELD_BY_CARRIER),  # Held at UPS facility on UPS's decision
    "RT": (S.RETURNING_TO_SENDER, None),  # Returning to sender
    "RD": (S.RETURNED_TO_SENDER, None),  # Delivered back to the sender
}

# Service.Code of Rating/Shipping <-> the service name shipflow stores, and its level.
SERVICES: dict[str, tuple[str, ServiceLevel]] = {
    "01": ("next_day_air", ServiceLevel.EXPRESS),
    "02": ("2nd_day_air", ServiceLevel.EXPRESS),
    "03": ("ground", ServiceLevel.STANDARD),
    "07": ("worldwide_express", ServiceLevel.EXPRESS),
    "08": ("worldwide_expedited", ServiceLevel.STANDARD),
    "11": ("standard", ServiceLevel.STANDARD),
    "12": ("3_day_select", ServiceLevel.STANDARD),
    "13": ("next_day_air_saver", ServiceLevel.EXPRESS),
    "14": ("next_day_air_early", ServiceLevel.EXPRESS),
    "17": ("worldwide_economy_ddu", ServiceLevel.ECONOMY),
    "54": ("worldwide_express_plus", ServiceLevel.EXPRESS),
    "59": ("2nd_day_air_am", ServiceLevel.EXPRESS),
    "65": ("worldwide_saver", ServiceLevel.EXPRESS),
    "70": ("access_point_economy", ServiceLevel.ECONOMY),
    "72": ("worldwide_economy_ddp", ServiceLevel.ECONOMY),
    "74": ("express_12_00", ServiceLevel.EXPRESS),
    "75": ("heavy_goods", ServiceLevel.STANDARD),
    "82": ("today_standard", ServiceLevel.SAME_DAY),
    "83": ("today_dedicated_courier", ServiceLevel.SAME_DAY),
    "85": ("today_express", ServiceLevel.SAME_DAY),
    "86": ("today_express_saver", ServiceLevel.SAME_DAY),
    "93": ("ground_saver", ServiceLevel.ECONOMY),
}
SERVICE_CODES = {name: code for code, (name, _) in SERVICES.items()}

# ShipmentRequest.LabelSpecification.LabelImageFormat.Code (UPS renders no PDF labels).
LABEL_FORMATS = frozenset({"GIF", "PNG", "ZPL", "EPL", "SPL"})

PRINT_RETURN_LABEL = "9"  # Shipment.ReturnService.Code: UPS Print Return Label
CUSTOMER_SUPPLIED_PACKAGE = "02"  # Packaging.Code
