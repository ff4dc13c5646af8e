"""UPS code tables. Sources: the Track API spec (Tracking.yaml: status.type, deliveryDate and
deliveryTime types), the Track Alert spec (UPSTrackAlert.yaml: activityStatus.type D/I/M/MV/U/X)
and UPS's Rating/Shipping appendix (service and label codes).

An activity is classified by "type:code" when the code table knows it (it carries the reason),
else by its one/two-letter `status.type`; an exception's reason then comes from its text. An
unknown type becomes `in_transit` (UPS's unknowns are overwhelmingly movement scans), counted
and logged once. Codes beyond the specs' examples follow UPS's published activity codes as
seen in practice; the "type:code" key keeps a mistaken row from misfiring on other types.
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

# "type:code" of activities whose code says more than their type (the reason, or a narrower
# status). Keyed by both so a code can never misfire across types.
STATUS_BY_CODE: dict[str, tuple[Status, Reason | None]] = {
    "X:SR": (S.IN_TRANSIT, None),  # Released by the customs agency (Tracking.yaml example)
    "I:OT": (S.OUT_FOR_DELIVERY, None),  # Out for delivery today
    "I:OF": (S.OUT_FOR_DELIVERY, None),  # Out for delivery
    "X:48": (S.ATTEMPT_FAILED, R.CUSTOMER_UNAVAILABLE),  # Receiver not available
    "X:B5": (S.ATTEMPT_FAILED, R.BUSINESS_CLOSED),  # Business closed
    "X:DJ": (S.ATTEMPT_FAILED, R.ACCESS_PROBLEM),  # Could not access the delivery location
    "X:RE": (S.ATTEMPT_FAILED, R.REFUSED),  # Receiver refused the delivery
    "X:AD": (S.EXCEPTION, R.ADDRESS_INCORRECT),  # Address incorrect, UPS is correcting it
    "X:UA": (S.EXCEPTION, R.ADDRESS_INCORRECT),  # Address unknown
    "X:WE": (S.EXCEPTION, R.WEATHER),  # Severe weather delay
    "X:CU": (S.EXCEPTION, R.CUSTOMS_HOLD),  # Held by the customs agency
    "X:BR": (S.EXCEPTION, R.PAYMENT_REQUIRED),  # Duties/taxes due before release
    "X:DM": (S.EXCEPTION, R.DAMAGED),  # Damaged, UPS is repackaging it
    "X:LO": (S.EXCEPTION, R.LOST),  # Could not be located
    "X:DL": (S.EXCEPTION, R.CARRIER_DELAY),  # Delayed in the UPS network
    "X:HP": (S.EXCEPTION, R.HELD_BY_CARRIER),  # Held at a UPS facility on UPS's decision
    "X:ZP": (S.AVAILABLE_FOR_PICKUP, None),  # Held at a UPS facility for customer pickup
    "D:2W": (S.AVAILABLE_FOR_PICKUP, None),  # Delivered to a UPS Access Point, awaiting pickup
}

# For exceptions whose code is not above: UPS's (en_US) description names the cause.
# First match wins, so the narrower phrases come first.
REASON_BY_WORDS: tuple[tuple[str, Reason], ...] = (
    ("refused", R.REFUSED),
    ("not available", R.CUSTOMER_UNAVAILABLE),
    ("business was closed", R.BUSINESS_CLOSED),
    ("closed", R.BUSINESS_CLOSED),
    ("address", R.ADDRESS_INCORRECT),
    ("weather", R.WEATHER),
    ("customs", R.CUSTOMS_HOLD),
    ("brokerage", R.CUSTOMS_HOLD),
    ("damage", R.DAMAGED),
    ("could not be located", R.LOST),
    ("access", R.ACCESS_PROBLEM),
    ("payment", R.PAYMENT_REQUIRED),
    ("duties", R.PAYMENT_REQUIRED),
    ("delay", R.CARRIER_DELAY),
)

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

# LabelSpecification.LabelImageFormat.Code valid for labels per Shipping.yaml (no PDF/PNG).
LABEL_FORMATS = frozenset({"GIF", "ZPL", "EPL", "SPL"})

PRINT_RETURN_LABEL = "9"  # Shipment.ReturnService.Code: UPS Print Return Label
CUSTOMER_SUPPLIED_PACKAGE = "02"  # Packaging.Code
# DeliveryConfirmation.DCISType "signature required": per package within a country, per
# shipment across borders (Shipping.yaml; forward shipments only).
SIGNATURE_PACKAGE_LEVEL = "2"
SIGNATURE_SHIPMENT_LEVEL = "1"
