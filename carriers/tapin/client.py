"""I/O with Tapin's API (api.tapin.ir/api/v2/public, `Authorization: jwt <token>`; Tapin
documents no sandbox host). Payloads are built and read by `carriers.tapin.mapping`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from carriers.base import CarrierAccount
from carriers.http import account_client
from carriers.tapin.mapping import CARRIER, error_parser

BASE_URL = "https://api.tapin.ir"
API = "/api/v2/public"


class TapinClient:
    def __init__(self, account: CarrierAccount) -> None:
        token = account.credentials.get("api_token", "")
        self.http = account_client(
            CARRIER,
            account,
            BASE_URL,
            BASE_URL,
            default_headers={"Authorization": f"jwt {token}"},
            error_parser=error_parser,
        )

    def _post(self, path: str, payload: dict, idempotent: bool = True) -> Any:
        return self.http.request("POST", f"{API}{path}", json=payload, idempotent=idempotent)

    def province_tree(self) -> Any:
        return self._post("/state/tree", {})

    def check_price(self, payload: dict) -> Any:
        return self._post("/order/post/check-price", payload)

    def register(self, payload: dict) -> Any:
        return self._post("/order/post/register", payload, idempotent=False)

    def find(self, payload: dict) -> Any:
        return self._post("/order/post/list", payload)

    def status_report(self, order_ids: Sequence[int]) -> Any:
        return self._post("/order/post/get-status/report", {"orders_id": order_ids})

    def change_status(self, payload: dict) -> Any:
        return self._post("/order/post/change-status", payload, idempotent=False)
