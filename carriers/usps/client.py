"""USPS v3 APIs over HTTP: OAuth token, payment authorization, tracking, prices, labels."""

from __future__ import annotations

import threading
import time
from typing import Any

from carriers.base import CarrierAccount
from carriers.http import account_client
from carriers.usps.mapping import error_message

PRODUCTION_URL = "https://apis.usps.com"
SANDBOX_URL = "https://apis-tem.usps.com"
PAYMENT_TOKEN_SECONDS = 7 * 3600  # USPS issues them for 8 hours


class USPSClient:
    def __init__(self, account: CarrierAccount) -> None:
        self.account = account
        self.http = account_client(
            "usps",
            account,
            SANDBOX_URL,
            PRODUCTION_URL,
            oauth_token_path="/oauth2/v3/token",
            oauth_options={"use_basic_auth": False},
            error_parser=error_message,
        )
        self._payment_token: str | None = None
        self._payment_expires = 0.0
        self._lock = threading.Lock()

    def tracking(self, tracking_number: str) -> Any:
        return self.http.request(
            "GET", f"/tracking/v3/tracking/{tracking_number}", params={"expand": "DETAIL"}
        )

    def base_rates(self, body: dict) -> Any:
        return self.http.request("POST", "/prices/v3/base-rates/search", json=body)

    def label(self, body: dict) -> bytes:
        return self._labels("POST", "/labels/v3/label", json=body)

    def return_label(self, body: dict) -> bytes:
        return self._labels("POST", "/labels/v3/return-label", json=body)

    def cancel_label(self, tracking_number: str) -> Any:
        headers = {"X-Payment-Authorization-Token": self.payment_token()}
        return self.http.request(
            "DELETE", f"/labels/v3/label/{tracking_number}", headers=headers, idempotent=False
        )

    def _labels(self, method: str, path: str, **kwargs: Any) -> bytes:
        headers = {
            "X-Payment-Authorization-Token": self.payment_token(),
            "Accept": "multipart/mixed",
        }
        return self.http.request(
            method, path, headers=headers, raw=True, idempotent=False, **kwargs
        )

    def payment_token(self) -> str:
        """Labels are paid through a payment authorization token tied to the account's CRID
        and MIDs; it lives for hours, so one is kept per client."""
        with self._lock:
            if self._payment_token is None or time.monotonic() >= self._payment_expires:
                body = self.http.request(
                    "POST", "/payments/v3/payment-authorization", json=self._payment_roles()
                )
                self._payment_token = body["paymentAuthorizationToken"]
                self._payment_expires = time.monotonic() + PAYMENT_TOKEN_SECONDS
            return self._payment_token

    def _payment_roles(self) -> dict:
        creds = self.account.credentials
        crid, mid = creds.get("crid", ""), creds.get("mid", "")
        account = {
            "accountType": creds.get("account_type", "EPS"),
            "accountNumber": creds.get("account_number", ""),
        }
        return {
            "roles": [
                {"roleName": "PAYER", "CRID": crid, **account},
                {"roleName": "LABEL_OWNER", "CRID": crid, "MID": mid, "manifestMID": mid},
            ]
        }
