"""I/O with Delhivery's B2C APIs (`Authorization: Token <api_token>`). Payloads are built and
read by `carriers.delhivery.mapping`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from carriers.base import CarrierAccount
from carriers.delhivery.mapping import CARRIER, error_parser
from carriers.http import account_client

SANDBOX_URL = "https://staging-express.delhivery.com"
PRODUCTION_URL = "https://track.delhivery.com"


class DelhiveryClient:
    def __init__(self, account: CarrierAccount) -> None:
        token = account.credentials.get("api_token", "")
        self.http = account_client(
            CARRIER,
            account,
            SANDBOX_URL,
            PRODUCTION_URL,
            default_headers={"Authorization": f"Token {token}"},
            error_parser=error_parser,
        )

    def track(self, waybills: Sequence[str]) -> Any:
        return self.http.request(
            "GET", "/api/v1/packages/json/", params={"waybill": ",".join(waybills)}
        )

    def create(self, form: dict[str, str]) -> Any:
        return self.http.request("POST", "/api/cmu/create.json", data=form, idempotent=False)

    def packing_slip(self, waybill: str) -> Any:
        return self.http.request(
            "GET", "/api/p/packing_slip", params={"wbns": waybill, "pdf": "true"}
        )

    def download(self, url: str) -> bytes:
        """The label PDF from the link Delhivery gave: a storage host, which must not see
        our API token."""
        return self.http.request("GET", url, raw=True, headers={"Authorization": None})

    def cancel(self, payload: dict) -> Any:
        return self.http.request("POST", "/api/p/edit", json=payload, idempotent=False)

    def pickup(self, payload: dict) -> Any:
        return self.http.request("POST", "/fm/request/new/", json=payload, idempotent=False)

    def ndr(self, payload: dict) -> Any:
        return self.http.request("POST", "/api/p/update", json=payload, idempotent=False)
