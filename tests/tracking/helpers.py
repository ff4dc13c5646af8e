"""Small helpers shared by the tracking tests."""

from __future__ import annotations

import time
from datetime import timedelta
from zoneinfo import ZoneInfo

from shipflow.store.db import unit_of_work
from shipflow.store.models import Order
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


def late_orders(runtime, tracked, make_shipment, clock, numbers) -> None:
    """Shipments with an order whose promise is already broken: quoted, judged late."""
    now = clock.now()
    with unit_of_work(runtime.sessions) as session:
        for number in numbers:
            session.add(
                Order(
                    id=f"ord_{number}",
                    brand_id=tracked["tb"].id,
                    order_number=number,
                    currency="USD",
                    customer_email=f"{number}@example.com",
                    ship_to={"state": "IL", "postal_code": "62704", "country": "US"},
                    placed_at=now - timedelta(days=6),
                )
            )
    for number in numbers:
        make_shipment(
            tracked["tb"],
            number,
            order_id=f"ord_{number}",
            warehouse_code=runtime.settings.brand("tb").warehouses[0].code,
            promised_date=now.date() - timedelta(days=3),
        )
