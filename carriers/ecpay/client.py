"""I/O with ECPay's logistics API: form posts signed with CheckMacValue, text answers.
Payloads are built and read by `carriers.ecpay.mapping`; this module only sends them."""

from __future__ import annotations

from carriers.base import CarrierAccount
from carriers.ecpay.mapping import CARRIER, error_parser, signed
from carriers.http import account_client

SANDBOX_URL = "https://logistics-stage.ecpay.com.tw"
PRODUCTION_URL = "https://logistics.ecpay.com.tw"
CREATE_PATH = "/Express/Create"
QUERY_PATH = "/Helper/QueryLogisticsTradeInfo/V5"
CANCEL_C2C_PATH = "/Express/CancelC2COrder"
MAP_PATH = "/Express/map"


class ECPayClient:
    def __init__(self, account: CarrierAccount) -> None:
        self.http = account_client(
            CARRIER, account, SANDBOX_URL, PRODUCTION_URL, error_parser=error_parser
        )
        self.hash_key = account.credentials.get("hash_key", "")
        self.hash_iv = account.credentials.get("hash_iv", "")

    @property
    def map_url(self) -> str:
        return f"{self.http.base_url}{MAP_PATH}"

    def post(self, path: str, params: dict[str, str], *, buys: bool = False) -> bytes:
        """POST the signed form; the raw answer (`1|...`, `0|...` or an HTML document)."""
        return self.http.request(
            "POST",
            path,
            data=signed(params, self.hash_key, self.hash_iv),
            headers={"Accept": "text/html"},
            raw=True,
            idempotent=not buys,
        )
