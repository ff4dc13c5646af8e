"""Small helpers shared by the tracking tests."""

from __future__ import annotations

import time
from datetime import timedelta
from zoneinfo import ZoneInfo

from tests.tracking.fake_carrier import sign


def post_webhook(client, brand, body: bytes, signature: str | None = None):
    return client.post(
        brand.webhook_url,
        data=body,
        headers={"X-Fake-Signature": sign(body) if signature is None else signature},
        content_type="application/json",
    )


def at(clock, hours: float) -> str:
    """An ISO time `hours` after the test clock's now, in a carrier's local offset."""
    moment = clock.now() + timedelta(hours=hours)
    return moment.astimezone(ZoneInfo("America/Chicago")).isoformat()


def wait_for(predicate, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return False
