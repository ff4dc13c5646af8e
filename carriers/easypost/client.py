"""EasyPost v2 over HTTP (API key as the Basic-auth username)."""

from __future__ import annotations

from typing import Any

from carriers.base import CarrierAccount
from carriers.easypost.mapping import error_message
from carriers.http import account_client

BASE_URL = "https://api.easypost.com"


class EasyPostClient:
    def __init__(self, account: CarrierAccount) -> None:
        self.auth = (account.credentials.get("api_key", ""), "")
        # Test and live accounts share the host; the API key decides which one is used.
        self.http = account_client(
            "easypost",
            account,
            BASE_URL,
            BASE_URL,
            error_parser=error_message,
        )

    def _api(self, method: str, path: str, **kwargs: Any) -> Any:
        # Per call, not on the session: label downloads go to another host and must not
        # carry the API key.
        return self.http.request(method, path, auth=self.auth, **kwargs)

    def create_tracker(self, tracking_code: str, carrier: str = "") -> Any:
        tracker = {"tracking_code": tracking_code} | ({"carrier": carrier} if carrier else {})
        return self._api("POST", "/v2/trackers", json={"tracker": tracker})

    def tracker(self, tracker_id: str) -> Any:
        return self._api("GET", f"/v2/trackers/{tracker_id}")

    def create_shipment(self, body: dict) -> Any:
        return self._api("POST", "/v2/shipments", json=body)

    def buy(self, shipment_id: str, rate_id: str) -> Any:
        return self._api(
            "POST",
            f"/v2/shipments/{shipment_id}/buy",
            json={"rate": {"id": rate_id}},
            idempotent=False,
        )

    def refund(self, shipment_id: str) -> Any:
        return self._api("POST", f"/v2/shipments/{shipment_id}/refund", idempotent=False)

    def download(self, url: str) -> bytes:
        return self.http.request("GET", url, raw=True, headers={"Accept": "*/*"})
