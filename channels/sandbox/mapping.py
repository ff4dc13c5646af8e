"""Sandbox shop JSON <-> the channel's data types."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from channels.base import Fulfilment, FulfilmentEvent, InboundLine, InboundOrder
from channels.money import minor_units
from shipflow.domain import Address


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def inbound_order(raw: dict[str, Any]) -> InboundOrder:
    """Raises KeyError/ValueError/TypeError on a shape it cannot read (kept for ops)."""
    currency = raw["currency"]
    address = raw["shipping_address"]
    customer = raw.get("customer") or {}
    return InboundOrder(
        source_order_id=str(raw["id"]),
        order_number=raw["name"],
        currency=currency,
        ship_to=Address(
            country=address["country_code"],
            postal_code=address["zip"],
            city=address.get("city", ""),
            state=address.get("province_code", ""),
            line1=address.get("address1", ""),
            line2=address.get("address2", ""),
            name=address.get("name", ""),
            phone=address.get("phone", ""),
        ),
        lines=tuple(
            InboundLine(
                sku=item["sku"],
                quantity=int(item["quantity"]),
                unit_price=minor_units(item["price"], currency),
                name=item.get("title", ""),
            )
            for item in raw["line_items"]
        ),
        placed_at=_time(raw.get("created_at")),
        updated_at=_time(raw.get("updated_at")),
        customer_name=customer.get("name", ""),
        customer_email=customer.get("email", ""),
        customer_phone=customer.get("phone", ""),
        language=raw.get("locale", "en"),
    )


def fulfilment_json(fulfilment: Fulfilment) -> dict[str, Any]:
    return {
        "order_id": fulfilment.source_order_id,
        "tracking_company": fulfilment.carrier,
        "service": fulfilment.service,
        "tracking_number": fulfilment.tracking_number,
        "tracking_url": fulfilment.tracking_url,
    }


def event_json(event: FulfilmentEvent) -> dict[str, Any]:
    return {
        "order_id": event.source_order_id,
        "tracking_number": event.tracking_number,
        "status": event.status.value,
        "happened_at": event.occurred_at.isoformat(),
    }
