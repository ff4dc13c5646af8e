"""I/O with FedEx's REST APIs: OAuth client credentials (form-encoded id and secret), then
one call per operation. Payloads are built and read by `carriers.fedex.mapping`."""

from __future__ import annotations

from typing import Any

from carriers.base import CarrierAccount
from carriers.fedex.mapping import CARRIER, error_parser
from carriers.http import account_client

SANDBOX_URL = "https://apis-sandbox.fedex.com"
PRODUCTION_URL = "https://apis.fedex.com"


class FedExClient:
    def __init__(self, account: CarrierAccount) -> None:
        self.http = account_client(
            CARRIER,
            account,
            SANDBOX_URL,
            PRODUCTION_URL,
            oauth_token_path="/oauth/token",
            oauth_options={"use_basic_auth": False},
            default_headers={"X-locale": "en_US"},
            error_parser=error_parser,
        )

    def track(self, payload: dict) -> Any:
        return self.http.request("POST", "/track/v1/trackingnumbers", json=payload)

    def rate(self, payload: dict) -> Any:
        return self.http.request("POST", "/rate/v1/rates/quotes", json=payload)

    def ship(self, payload: dict) -> Any:
        return self.http.request("POST", "/ship/v1/shipments", json=payload, idempotent=False)

    def cancel(self, payload: dict) -> Any:
        return self.http.request("PUT", "/ship/v1/shipments/cancel", json=payload, idempotent=False)
