"""Orders: the service functions the API, the demo and imports share."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shipflow.domain import Address
from shipflow.store.models import Order, OrderLine


class DuplicateOrderNumber(Exception):
    pass


@dataclass(frozen=True, slots=True)
class LineInput:
    sku: str
    quantity: int
    unit_price: int = 0
    name: str = ""


def create_order(
    session: Session,
    brand_id: str,
    *,
    order_number: str,
    ship_to: dict[str, Any],
    currency: str,
    lines: Sequence[LineInput],
    placed_at: datetime | None = None,
    customer_name: str = "",
    customer_email: str = "",
    customer_phone: str = "",
    language: str = "en",
) -> Order:
    """Add an order (not committed). Order numbers are unique per brand."""
    taken = session.scalar(
        select(Order.id).where(Order.brand_id == brand_id, Order.order_number == order_number)
    )
    if taken:
        raise DuplicateOrderNumber(order_number)
    order = Order(
        brand_id=brand_id,
        order_number=order_number,
        customer_name=customer_name,
        customer_email=customer_email,
        customer_phone=customer_phone,
        ship_to=ship_to,
        currency=currency,
        language=language,
        total_amount=sum(line.quantity * line.unit_price for line in lines),
        lines=[
            OrderLine(
                position=i,
                sku=line.sku,
                name=line.name,
                quantity=line.quantity,
                unit_price=line.unit_price,
            )
            for i, line in enumerate(lines)
        ],
        shipments=[],
    )
    if placed_at:
        order.placed_at = placed_at
    try:
        with session.begin_nested():  # a concurrent request may take the number after our check
            session.add(order)
    except IntegrityError:
        raise DuplicateOrderNumber(order_number) from None
    return order


def ship_to_address(order: Order) -> Address:
    """The order's delivery address as the domain value carriers and allocation take."""
    ship_to = order.ship_to or {}
    return Address(
        country=ship_to.get("country", ""),
        postal_code=ship_to.get("postal_code", ""),
        city=ship_to.get("city", ""),
        state=ship_to.get("state", ""),
        line1=ship_to.get("line1", ""),
        line2=ship_to.get("line2", ""),
        name=ship_to.get("name") or order.customer_name,
        phone=order.customer_phone,
        email=order.customer_email,
        residential=ship_to.get("residential", True),
    )
