"""DHL Shipment Tracking - Unified API code tables (developer.dhl.com, "Shipment Tracking -
Unified" OpenAPI: `status.statusCode` enum). The code is coarse; the event text says what
happened (`carriers.texts`)."""

from __future__ import annotations

from shipflow.domain import Reason, Status

S, R = Status, Reason

STATUS_CODES: dict[str, tuple[Status, Reason | None]] = {
    "pre-transit": (S.INFO_RECEIVED, None),
    "transit": (S.IN_TRANSIT, None),
    "delivered": (S.DELIVERED, None),
    "failure": (S.EXCEPTION, None),
    "unknown": (S.IN_TRANSIT, None),  # DHL has the parcel but cannot classify the scan
}
