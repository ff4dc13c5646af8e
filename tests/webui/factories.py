"""Demo-brand orders and shipments in known states, for the web-page tests (HTTP and browser)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from shipflow.brands import sync_brand
from shipflow.store.db import unit_of_work
from shipflow.store.models import Order, OrderLine, Shipment, TrackingEventRow

BRAND = "northwind"
CUSTOMER = {
    "name": "Parisa Rahimi",
    "email": "parisa@example.com",
    "street": "742 Evergreen Terrace",
    "city": "Springfield",
    "state": "IL",
    "postal_code": "62704",
}
ITEM = "Two-person trail tent"

# (status, hours before now, raw text, city) oldest first: the journey of a typical parcel.
JOURNEY = [
    ("info_received", 72, "Shipment information received", "Edison"),
    ("in_transit", 60, "Departed facility", "Edison"),
    ("in_transit", 30, "Arrived at regional hub", "Chicago"),
    ("out_for_delivery", 8, "Out for delivery", "Springfield"),
    ("delivered", 2, f"Delivered, front door. Signed by {CUSTOMER['name'].upper()}", "Springfield"),
]


def sync_demo_brand(runtime) -> str:
    with unit_of_work(runtime.sessions) as session:
        return sync_brand(session, runtime.settings.brand(BRAND)).id


def make_shipment(
    runtime,
    status: str = "in_transit",
    order_number: str = "NW-1001",
    tracking_number: str = "SBX100200300",
    promised: date | None = date(2026, 11, 26),
    predicted: date | None = None,
    reason: str | None = None,
    details: dict | None = None,
    journey: list | None = None,
) -> str:
    """An order for CUSTOMER with one shipment whose events lead up to `status`."""
    brand_id = sync_demo_brand(runtime)
    now: datetime = runtime.clock.now()
    steps = journey if journey is not None else _journey_until(status)
    with unit_of_work(runtime.sessions) as session:
        order = Order(
            brand_id=brand_id,
            order_number=order_number,
            customer_name=CUSTOMER["name"],
            customer_email=CUSTOMER["email"],
            ship_to={
                "name": CUSTOMER["name"],
                "line1": CUSTOMER["street"],
                "city": CUSTOMER["city"],
                "state": CUSTOMER["state"],
                "postal_code": CUSTOMER["postal_code"],
                "country": "US",
            },
            currency="USD",
            total_amount=24900,
            placed_at=now - timedelta(days=4),
            lines=[OrderLine(sku="TENT-2P", name=ITEM, quantity=1, unit_price=24900)],
        )
        shipment = Shipment(
            brand_id=brand_id,
            order=order,
            carrier="sandbox",
            service="ground",
            tracking_number=tracking_number,
            warehouse_code="EWR",
            status=status,
            status_reason=reason,
            promised_date=promised,
            predicted_date=predicted or promised,
            shipped_at=now - timedelta(hours=60),
            delivered_at=now - timedelta(hours=2) if status == "delivered" else None,
            details=details or {},
        )
        for index, (event_status, hours, text, city) in enumerate(steps):
            shipment.events.append(
                TrackingEventRow(
                    brand_id=brand_id,
                    dedupe_key=f"e{index}",
                    status=event_status,
                    raw_code=event_status.upper(),
                    raw_text=text,
                    occurred_at=now - timedelta(hours=hours),
                    city=city,
                    state="IL" if city == "Springfield" else "",
                    postal_code=CUSTOMER["postal_code"] if city == "Springfield" else "",
                    country="US",
                )
            )
        session.add(order)
        session.add(shipment)
        session.flush()
        return shipment.id


def _journey_until(status: str) -> list:
    order = [s for s, *_ in JOURNEY]
    if status in order:
        return JOURNEY[: order.index(status) + 1]
    failed = ("attempt_failed", 3, "Delivery attempted, no one available", "Springfield")
    return [*JOURNEY[:4], failed] if status == "attempt_failed" else JOURNEY[:3]
