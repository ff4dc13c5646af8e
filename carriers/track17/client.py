"""I/O with 17TRACK's Tracking API v2.2: JSON arrays POSTed with the `17token` header. There
is no sandbox; 3 requests a second per key (HTTP 429 beyond)."""

from __future__ import annotations

from typing import Any

from carriers.base import CarrierAccount
from carriers.http import account_client
from carriers.track17.mapping import CARRIER

BASE_URL = "https://api.17track.net"
API = "/track/v2.2"


class Track17Client:
    def __init__(self, account: CarrierAccount) -> None:
        self.http = account_client(
            CARRIER,
            account,
            BASE_URL,
            BASE_URL,
            default_headers={"17token": account.credentials.get("api_key", "")},
        )

    def _post(self, operation: str, items: list[dict]) -> Any:
        return self.http.request("POST", f"{API}/{operation}", json=items)

    def register(self, items: list[dict]) -> Any:
        """Registering charges quota once per number; 17TRACK refuses repeats per number
        (-18019901), so a retried register cannot charge twice."""
        return self._post("register", items)

    def gettrackinfo(self, items: list[dict]) -> Any:
        return self._post("gettrackinfo", items)

    def stoptrack(self, items: list[dict]) -> Any:
        return self._post("stoptrack", items)
