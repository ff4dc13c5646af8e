"""Sandbox shop JSON <-> the channel's data types."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from channels.base import Fulfilment, FulfilmentEvent, InboundLine, InboundOrder, Refund
from channels.money import minor_units
from shipflow.domain import Address


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


PAID = frozenset({"paid", "authorized", "partially_paid"})  # Shopify's financial_status
COD_GATEWAY = "Cash on Delivery (COD)"


def inbound_order(raw: dict[str, Any]) -> InboundOrder:
    """Raises KeyError/ValueError/TypeError on a shape it cannot read (kept for ops); a
    missing postal code is a problem named on the order, which is kept."""
    currency = raw["currency"]
    address = raw["shipping_address"]
    customer = raw.get("customer") or {}
    shipping = (raw.get("shipping_lines") or [{}])[0]
    cod = COD_GATEWAY in (raw.get("payment_gateway_names") or [])
    paid = raw.get("financial_status", "paid") in PAID
    return InboundOrder(
        source_order_id=str(raw["id"]),
        order_number=raw["name"],
        currency=currency,
        ship_to=Address(
            country=address["country_code"],
            postal_code=address.get("zip") or "",
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
                source_line_id=str(item.get("id") or ""),
            )
            for item in raw["line_items"]
        ),
        placed_at=_time(raw.get("created_at")),
        updated_at=_time(raw.get("updated_at")),
        customer_name=customer.get("name", ""),
        customer_email=customer.get("email", ""),
        customer_phone=customer.get("phone", ""),
        language=raw.get("locale", "en"),
        paid=paid,
        cash_on_delivery=minor_units(raw["total_price"], currency) if cod and not paid else 0,
        cancelled=raw.get("cancelled_at") is not None,
        shipping_method=shipping.get("code") or shipping.get("title", ""),
        location_id=str(raw.get("location_id") or ""),
        nothing_to_ship=raw.get("fulfillment_status") == "fulfilled",
        problems=() if address.get("zip") else ("shipping_address.zip missing",),
    )


def fulfilment_json(fulfilment: Fulfilment) -> dict[str, Any]:
    return {
        "order_id": fulfilment.source_order_id,
        "tracking_company": fulfilment.carrier,
        "service": fulfilment.service,
        "tracking_number": fulfilment.tracking_number,
        "tracking_url": fulfilment.tracking_url,
        "carrier_name": fulfilment.carrier_name,
    }


def event_json(event: FulfilmentEvent) -> dict[str, Any]:
    return {
        "order_id": event.source_order_id,
        "tracking_number": event.tracking_number,
        "status": event.status.value,
        "happened_at": event.occurred_at.isoformat(),
        "fulfillment_id": event.fulfilment_ref,
        "delayed": event.delayed,
        "estimated_delivery_at": (
            event.estimated_delivery.isoformat() if event.estimated_delivery else None
        ),
    }


def refund_json(refund: Refund) -> dict[str, Any]:
    return {
        "order_id": refund.source_order_id,
        "amount": refund.amount,
        "currency": refund.currency,
        "lines": [list(line) for line in refund.lines],
        "note": refund.note,
    }
