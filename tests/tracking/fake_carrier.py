"""A carrier that exists only in these tests: HMAC-signed JSON webhooks and a tracking
"network" the test fills in. Real adapters (sandbox, UPS, ...) are tested on their own."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

import yaml

from carriers import registry
from carriers.base import (
    Capability,
    Carrier,
    CarrierResponseError,
    WebhookRequest,
    WebhookSignatureError,
)
from carriers.convert import read_each
from shipflow.config import Settings, parse_settings
from shipflow.domain import ProofOfDelivery, Reason, Status, TrackingEvent, TrackingUpdate
from tests.fakes import TEST_SECRET_KEY

ROOT = Path(__file__).resolve().parents[2]
SECRET = "fake-webhook-secret"
SIGNATURE_HEADER = "X-Fake-Signature"


def register() -> None:
    registry.BUILTIN.setdefault("fake", "tests.tracking.fake_carrier:FakeCarrier")


def sign(body: bytes, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def event(code: str, status: str, at: str, reason: str | None = None) -> dict[str, Any]:
    return {"code": code, "status": status, "at": at, "text": f"{code} scan", "reason": reason}


def payload(tracking_number: str, *events: dict[str, Any], proof: dict | None = None) -> bytes:
    """The webhook's body; `proof`: the proof of delivery's fields (`ProofOfDelivery`)."""
    body = {"tracking_number": tracking_number, "events": list(events)}
    return json.dumps({**body, "proof_of_delivery": proof} if proof else body).encode()


def _event(raw: dict[str, Any]) -> TrackingEvent:
    return TrackingEvent(
        status=Status(raw["status"]),
        occurred_at=datetime.fromisoformat(raw["at"]),
        raw_code=raw["code"],
        raw_text=raw.get("text", ""),
        reason=Reason(raw["reason"]) if raw.get("reason") else None,
    )


def _update(raw: dict[str, Any]) -> TrackingUpdate:
    """Like every real adapter: an event that cannot be read is skipped and kept."""
    events, unreadable = read_each("fake", "event", raw["events"], _event)
    return TrackingUpdate(
        carrier="fake",
        tracking_number=raw["tracking_number"],
        events=tuple(events),
        unreadable=unreadable,
        proof_of_delivery=ProofOfDelivery(**proof)
        if (proof := raw.get("proof_of_delivery"))
        else None,
    )


class FakeCarrier(Carrier):
    name = "fake"
    capabilities = frozenset({Capability.TRACKING_POLL, Capability.WEBHOOKS})
    track_batch_size = 3

    network: ClassVar[dict[str, list[dict[str, Any]]]] = {}  # tracking number -> events
    calls: ClassVar[list[list[str]]] = []
    failure: ClassVar[Exception | None] = None

    @classmethod
    def reset(cls) -> None:
        cls.network, cls.calls, cls.failure = {}, [], None

    def verify_webhook(self, request: WebhookRequest) -> None:
        given = next(
            (v for k, v in request.headers.items() if k.lower() == SIGNATURE_HEADER.lower()), ""
        )
        expected = sign(request.body, self.account.credentials["webhook_secret"])
        if not hmac.compare_digest(given, expected):
            raise WebhookSignatureError("signature mismatch", carrier=self.name)

    def parse_webhook(self, request: WebhookRequest) -> list[TrackingUpdate]:
        try:
            return [_update(json.loads(request.body))]
        except (ValueError, KeyError, TypeError) as exc:
            raise CarrierResponseError(f"unreadable webhook: {exc!r}", carrier=self.name) from exc

    def track(self, tracking_numbers: Sequence[str]) -> list[TrackingUpdate]:
        self.calls.append(list(tracking_numbers))
        if self.failure is not None:
            raise self.failure
        return [
            _update({"tracking_number": n, "events": self.network[n]})
            for n in tracking_numbers
            if n in self.network
        ]


def fake_config(database_url: str, **tracking: Any) -> dict[str, Any]:
    """config.yaml plus two brands on the fake carrier, both with an account coded `main`."""
    register()
    raw = yaml.safe_load((ROOT / "config.yaml").read_text())
    warehouse = copy.deepcopy(raw["brands"][0]["warehouses"][0])
    for brand in raw["brands"]:  # the demo's simulated Shopify store is no test's shop
        brand.pop("channels", None)
    for code in ("tb", "tc"):
        raw["brands"].append(
            {
                "code": code,
                "name": f"Test brand {code}",
                "warehouses": [warehouse],
                "carriers": [
                    {"code": "main", "carrier": "fake", "credentials": {"webhook_secret": SECRET}}
                ],
            }
        )
    raw["tracking"] = tracking
    raw["database_url"] = database_url
    raw["secret_key"] = TEST_SECRET_KEY
    return raw


def fake_settings(database_url: str, **tracking: Any) -> Settings:
    return parse_settings(fake_config(database_url, **tracking), "test config", environ={})
