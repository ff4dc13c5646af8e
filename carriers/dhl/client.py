"""DHL Shipment Tracking - Unified API over HTTP (API key in the `DHL-API-Key` header)."""

from __future__ import annotations

from typing import Any

from carriers.base import CarrierAccount
from carriers.dhl.mapping import error_message
from carriers.http import account_client

BASE_URL = "https://api-eu.dhl.com"
SANDBOX_URL = "https://api-test.dhl.com"


class DHLClient:
    def __init__(self, account: CarrierAccount) -> None:
        self.http = account_client(
            "dhl",
            account,
            SANDBOX_URL,
            BASE_URL,
            default_headers={"DHL-API-Key": account.credentials.get("api_key", "")},
            error_parser=error_message,
        )

    def shipments(self, tracking_number: str) -> Any:
        return self.http.request(
            "GET", "/track/shipments", params={"trackingNumber": tracking_number}
        )
