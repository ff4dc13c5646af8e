"""I/O with Kuaidi100: form POSTs to poll.kuaidi100.com (no sandbox host exists; a test
account gets free queries). Query and subscription are reads: safe to repeat."""

from __future__ import annotations

from typing import Any

from carriers.base import CarrierAccount
from carriers.http import account_client
from carriers.kuaidi100.mapping import CARRIER, compact, sign

BASE_URL = "https://poll.kuaidi100.com"


class Kuaidi100Client:
    def __init__(self, account: CarrierAccount) -> None:
        self.http = account_client(CARRIER, account, BASE_URL, BASE_URL)
        self.key = account.credentials.get("key", "")
        self.customer = account.credentials.get("customer", "")

    def query(self, param: dict) -> Any:
        text = compact(param)
        form = {"customer": self.customer, "sign": sign(text, self.key, self.customer)}
        return self.http.request("POST", "/poll/query.do", data={**form, "param": text})

    def subscribe(self, param: dict) -> Any:
        return self.http.request("POST", "/poll", data={"schema": "json", "param": compact(param)})
