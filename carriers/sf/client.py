"""I/O with SF's 丰桥 standard API: every service is one form POST to /std/service with
partnerID, requestID, serviceCode, timestamp, msgDigest and msgData (a JSON string)."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from carriers.base import CarrierAccount
from carriers.http import account_client
from carriers.sf.mapping import CARRIER, msg_digest

SANDBOX_URL = "https://sfapi-sbox.sf-express.com"
PRODUCTION_URL = "https://bspgw.sf-express.com"
SERVICE_PATH = "/std/service"


class SFClient:
    def __init__(self, account: CarrierAccount) -> None:
        self.http = account_client(CARRIER, account, SANDBOX_URL, PRODUCTION_URL)
        self.partner_id = account.credentials.get("partner_id", account.account_id)
        self.check_word = account.credentials.get("check_word", "")

    def call(self, service_code: str, msg_data: dict, *, idempotent: bool = True) -> Any:
        """The platform's answer (apiResultCode, apiResultData ...), unread."""
        text = json.dumps(msg_data, ensure_ascii=False, separators=(",", ":"))
        timestamp = str(int(time.time() * 1000))
        form = {
            "partnerID": self.partner_id,
            "requestID": str(uuid.uuid4()),
            "serviceCode": service_code,
            "timestamp": timestamp,
            "msgDigest": msg_digest(text, timestamp, self.check_word),
            "msgData": text,
        }
        return self.http.request("POST", SERVICE_PATH, data=form, idempotent=idempotent)
