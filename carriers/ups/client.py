"""I/O with UPS's REST APIs: OAuth client credentials, then one call per operation.
Payloads are built and read by `carriers.ups.mapping`; this module only sends them."""

from __future__ import annotations

import uuid
from typing import Any

from carriers.base import CarrierAccount
from carriers.http import account_client
from carriers.ups.mapping import CARRIER, error_parser

SANDBOX_URL = "https://wwwcie.ups.com"
PRODUCTION_URL = "https://onlinetools.ups.com"
TOKEN_PATH = "/security/v1/oauth/token"
API_VERSION = "v2409"


class UPSClient:
    def __init__(self, account: CarrierAccount) -> None:
        self.http = account_client(
            CARRIER,
            account,
            SANDBOX_URL,
            PRODUCTION_URL,
            oauth_token_path=TOKEN_PATH,
            oauth_options={"extra_headers": {"x-merchant-id": account.account_id}},
            error_parser=error_parser,
        )

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        """UPS wants a fresh transaction id and the calling application on every call."""
        headers = {"transId": uuid.uuid4().hex, "transactionSrc": "shipflow"}
        return self.http.request(method, path, headers=headers, **kwargs)

    def track(self, tracking_number: str) -> Any:
        return self._call(
            "GET",
            f"/api/track/v1/details/{tracking_number}",
            params={"locale": "en_US", "returnSignature": "false"},
        )

    def rate(self, payload: dict, shop: bool) -> Any:
        option = "Shop" if shop else "Rate"
        return self._call("POST", f"/api/rating/{API_VERSION}/{option}", json=payload)

    def ship(self, payload: dict) -> Any:
        return self._call(
            "POST", f"/api/shipments/{API_VERSION}/ship", json=payload, idempotent=False
        )

    def void(self, shipment_id: str) -> Any:
        return self._call(
            "DELETE", f"/api/shipments/{API_VERSION}/void/cancel/{shipment_id}", idempotent=False
        )

    def subscribe(self, payload: dict) -> Any:
        return self._call("POST", "/api/track/v1/subscription/standard/package", json=payload)
