"""UPS code tables. Sources: the Track API spec (Tracking.yaml: status.type, deliveryDate and
deliveryTime types; its example "X" activity "SR" is "Your package was released by the customs
agency."), the Track Alert spec (UPSTrackAlert.yaml: activityStatus.type D/I/M/MV/U/X) and
UPS's Rating/Shipping appendix (service and label codes).

An activity is classified by "type:code" when the code table knows it (it carries the reason),
else by its one/two-letter `status.type`. Type X ("Package Exception") cannot decide on its
own: UPS sends good news under it too (cleared customs, on the way), so an X activity without
its own row is read from its text (`carriers.texts`), and one the text does not explain is
`in_transit`, counted and logged once, never an exception by default. A delay (weather, the
network) is `in_transit` with its reason, as for every carrier. Codes beyond the specs'
examples follow UPS's activity codes as seen in real answers; the "type:code" key keeps a
row from misfiring on other types.
"""

from __future__ import annotations

from shipflow.domain import Reason, ServiceLevel, Status

S, R = Status, Reason

# status.type, per Tracking.yaml / UPSTrackAlert.yaml and the Track API appendix. X is left
# out on purpose: see above.
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
    "RS": (S.RETURNING_TO_SENDER, None),  # Returned to shipper (on its way back)
    "NA": (S.PENDING, None),  # Not available: UPS has nothing to say yet
}

# "type:code" of activities whose code says more than their type (the reason, or a narrower
# status). Keyed by both so a code can never misfire across types.
STATUS_BY_CODE: dict[str, tuple[Status, Reason | None]] = {
    "X:SR": (S.IN_TRANSIT, None),  # Released by the customs agency (Tracking.yaml example)
    "X:RZ": (S.IN_TRANSIT, None),  # Released by the government agency
    "X:VK": (S.IN_TRANSIT, None),  # Cleared customs and is on the way
    "X:DA": (S.IN_TRANSIT, None),  # Your package is on the way
    "X:BB": (S.IN_TRANSIT, None),  # Information needed to submit for clearance received
    "I:OT": (S.OUT_FOR_DELIVERY, None),  # Out for delivery today
    "I:OF": (S.OUT_FOR_DELIVERY, None),  # Out for delivery
    "X:48": (S.ATTEMPT_FAILED, R.CUSTOMER_UNAVAILABLE),  # Receiver not available
    "X:B5": (S.ATTEMPT_FAILED, R.BUSINESS_CLOSED),  # Business closed
    "X:RE": (S.ATTEMPT_FAILED, R.REFUSED),  # Receiver refused the delivery
    "X:AD": (S.EXCEPTION, R.ADDRESS_INCORRECT),  # Address incorrect, UPS is correcting it
    "X:UA": (S.EXCEPTION, R.ADDRESS_INCORRECT),  # Address unknown
    "X:DJ": (S.IN_TRANSIT, R.WEATHER),  # Severe weather conditions have delayed delivery
    "X:WE": (S.IN_TRANSIT, R.WEATHER),  # Severe weather delay
    "X:CU": (S.EXCEPTION, R.CUSTOMS_HOLD),  # Held by the customs agency
    "X:BR": (S.EXCEPTION, R.PAYMENT_REQUIRED),  # Duties/taxes due before release
    "X:DM": (S.EXCEPTION, R.DAMAGED),  # Damaged, UPS is repackaging it
    "X:LO": (S.EXCEPTION, R.LOST),  # Could not be located
    "X:DL": (S.IN_TRANSIT, R.CARRIER_DELAY),  # Delayed in the UPS network
    "X:HP": (S.EXCEPTION, R.HELD_BY_CARRIER),  # Held at a UPS facility on UPS's decision
    "X:ZP": (S.AVAILABLE_FOR_PICKUP, None),  # Held at a UPS facility for customer pickup
    "D:2W": (S.AVAILABLE_FOR_PICKUP, None),  # Delivered to a UPS Access Point, awaiting pickup
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

# LabelSpecification.LabelImageFormat.Code valid for labels per Shipping.yaml (no PDF/PNG).
LABEL_FORMATS = frozenset({"GIF", "ZPL", "EPL", "SPL"})

PRINT_RETURN_LABEL = "9"  # Shipment.ReturnService.Code: UPS Print Return Label
CUSTOMER_SUPPLIED_PACKAGE = "02"  # Packaging.Code
# DeliveryConfirmation.DCISType "signature required": per package within a country, per
# shipment across borders (Shipping.yaml; forward shipments only).
SIGNATURE_PACKAGE_LEVEL = "2"
SIGNATURE_SHIPMENT_LEVEL = "1"
