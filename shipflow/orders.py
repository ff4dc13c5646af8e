"""Orders: the service functions the API, the demo and imports share."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from channels.base import InboundOrder
from shipflow import pickup_points
from shipflow.domain import Address, PickupPoint
from shipflow.store.models import ChannelAccount, Order, OrderLine, new_order_id


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
    source_account: str | None = None,
    source_order_id: str | None = None,
    cash_on_delivery: int = 0,
    pickup_point: PickupPoint | None = None,
    paid: bool = True,
    source_updated_at: datetime | None = None,
    source_details: dict[str, Any] | None = None,
    savepoint: bool = True,
) -> Order:
    """Add an order (not committed). Order numbers are unique per brand: a number taken
    raises DuplicateOrderNumber, checked in a savepoint of its own; `savepoint=False` (a batch
    of shop orders) leaves it to the batch's flush, where it fails the batch, whose caller
    redoes it order by order to tell which. An order from a shop names its ChannelAccount and
    the shop's own id, with the shop's state it holds (see `import_order`): inserted with it,
    not updated after.
    `cash_on_delivery`: minor units to collect on delivery; `pickup_point`: the store the
    customer chose (only carriers that deliver to pickup points will be allocated)."""
    order = Order(
        id=new_order_id(),
        brand_id=brand_id,
        order_number=order_number,
        customer_name=customer_name,
        customer_email=customer_email,
        customer_phone=customer_phone,
        ship_to=ship_to,
        currency=currency,
        language=language,
        source_account=source_account,
        source_order_id=source_order_id,
        cash_on_delivery=cash_on_delivery,
        pickup_point=pickup_points.as_json(pickup_point) if pickup_point else None,
        paid=paid,
        source_updated_at=source_updated_at,
        source_details=source_details or {},
        shipments=[],
    )
    set_lines(order, lines)
    if placed_at:
        order.placed_at = placed_at
    if not savepoint:  # inserted with the batch's other orders, one statement a table
        session.add(order)
        return order
    try:
        with session.begin_nested():  # the number taken (unique per brand): IntegrityError
            session.add(order)
    except IntegrityError:
        raise DuplicateOrderNumber(order_number) from None
    return order


SHIP_TO_FIELDS = ("name", "company", "line1", "line2", "city", "state", "postal_code", "country")


def set_lines(order: Order, lines: Sequence[LineInput]) -> None:
    """The order's lines, numbered as given, and the total they make."""
    order.lines = [
        OrderLine(
            position=i,
            sku=line.sku,
            name=line.name,
            quantity=line.quantity,
            unit_price=line.unit_price,
        )
        for i, line in enumerate(lines)
    ]
    order.total_amount = sum(line.quantity * line.unit_price for line in lines)


def line_inputs(inbound: InboundOrder) -> list[LineInput]:
    """A shop's order lines as the lines an order is made of."""
    return [LineInput(i.sku, i.quantity, i.unit_price, i.name) for i in inbound.lines]


def ship_to_of(inbound: InboundOrder) -> dict[str, Any]:
    """The `Order.ship_to` of a shop's order."""
    ship_to: dict[str, Any] = {name: getattr(inbound.ship_to, name) for name in SHIP_TO_FIELDS}
    ship_to["residential"] = inbound.ship_to.residential
    return ship_to


def import_order(
    session: Session,
    brand_id: str,
    source_account: str,
    inbound: InboundOrder,
    details: dict[str, Any],
    *,
    savepoint: bool = True,
) -> Order:
    """A shop's order we do not hold yet (the caller looked: `channel_orders.apply_order`).
    Not committed; `savepoint`: see `create_order`."""
    return create_order(
        session,
        brand_id,
        order_number=inbound.order_number,
        ship_to=ship_to_of(inbound),
        currency=inbound.currency,
        lines=line_inputs(inbound),
        placed_at=inbound.placed_at,
        customer_name=inbound.customer_name or inbound.ship_to.name,
        customer_email=inbound.customer_email,
        customer_phone=inbound.customer_phone or inbound.ship_to.phone,
        language=inbound.language,
        source_account=source_account,
        source_order_id=inbound.source_order_id,
        cash_on_delivery=inbound.cash_on_delivery,
        pickup_point=inbound.pickup_point,
        paid=inbound.paid,
        source_updated_at=inbound.updated_at,
        source_details=details,
        savepoint=savepoint,
    )


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


def orders_numbered(session: Session, brand_id: str, typed: str) -> list[Order]:
    """The brand's orders a customer may mean by `typed`: the number as given, without its
    "#", and as each of the brand's shops numbers it here ("#1001" of the shop coded `web`
    is `web-1001`, as two shops may both have a #1001). The caller's second factor (e-mail
    or postal code) tells them apart."""
    number = typed.strip()
    bare = number.lstrip("#")
    shops = session.scalars(select(ChannelAccount.code).where(ChannelAccount.brand_id == brand_id))
    candidates = {number, bare, *(f"{code}-{bare}" for code in shops)}
    return list(
        session.scalars(
            select(Order)
            .where(Order.brand_id == brand_id, Order.order_number.in_(candidates))
            .order_by(Order.created_at)
        )
    )
