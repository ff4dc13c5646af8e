"""The 17TRACK adapter: register numbers, poll them (gettrackinfo), stop them, and read the
signed push. Tracking only: it makes no labels, so allocation never picks it."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from carriers.base import (
    Capability,
    Carrier,
    CarrierAccount,
    CarrierError,
    TrackingQuery,
    WebhookReply,
    WebhookRequest,
    WebhookSignatureError,
)
from carriers.convert import reading
from carriers.track17 import mapping
from carriers.track17.client import Track17Client
from carriers.webhook_auth import header, webhook_json
from shipflow.clock import Clock
from shipflow.domain import TrackingUpdate
from shipflow.signatures import same_secret


class Track17Carrier(Carrier):
    """Credentials: api_key (the `17token` security key, which also signs the push)."""

    name = "17track"
    capabilities = frozenset(
        {Capability.TRACKING_POLL, Capability.WEBHOOKS, Capability.PUSH_SUBSCRIPTIONS}
    )
    track_batch_size = 40  # numbers a call, at most (-18010014 beyond)
    webhook_reply = WebhookReply(200, b"{}")  # 17TRACK retries anything but a 200

    def __init__(
        self,
        account: CarrierAccount,
        client: Track17Client | None = None,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(account, clock)
        self.client = client or Track17Client(account)
        self.api_key = account.credentials.get("api_key", "")

    def subscribe(
        self, queries: Sequence[TrackingQuery], webhook_url: str
    ) -> dict[str, CarrierError]:
        """Register the numbers (17TRACK then tracks and pushes them to the address set in its
        dashboard, so `webhook_url` is not sent); returns the error of each number refused,
        without failing the others. A number already registered is not refused."""
        body = self.client.register([{"number": q.tracking_number} for q in queries])
        with reading(self.name, "register response"):
            return mapping.rejected(mapping.envelope_data(body))

    def stop(self, tracking_numbers: Sequence[str]) -> dict[str, CarrierError]:
        body = self.client.stoptrack([{"number": n} for n in tracking_numbers])
        with reading(self.name, "stoptrack response"):
            return mapping.rejected(mapping.envelope_data(body))

    def track(self, tracking_numbers: Sequence[str]) -> list[TrackingUpdate]:
        """Numbers 17TRACK does not know (not registered) are left out."""
        body = self.client.gettrackinfo([{"number": n} for n in tracking_numbers])
        with reading(self.name, "gettrackinfo response"):
            return mapping.tracking_updates(mapping.envelope_data(body))

    def verify_webhook(self, request: WebhookRequest) -> None:
        """`sign` header: SHA-256 (hex) of the raw body + "/" + the security key."""
        given = header(request.headers, "sign")
        if not self.api_key or not given:
            raise WebhookSignatureError("17track push sign missing", carrier=self.name)
        expected = hashlib.sha256(request.body + b"/" + self.api_key.encode()).hexdigest()
        if not same_secret(given.strip().lower(), expected):
            raise WebhookSignatureError("17track push sign wrong", carrier=self.name)

    def parse_webhook(self, request: WebhookRequest) -> list[TrackingUpdate]:
        with reading(self.name, "push"):
            return mapping.push_updates(webhook_json(self.name, request.body))
