"""Orders: create, read, list. Every query is scoped by the caller's brand."""

from __future__ import annotations

from flask import g
from flask_openapi3 import Tag
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from shipflow import pickup_points
from shipflow.brands import brand_config
from shipflow.domain import Address, PickupPoint
from shipflow.orders import DuplicateOrderNumber, LineInput, create_order
from shipflow.store.models import Order
from shipflow.web.api.idempotency import idempotent
from shipflow.web.api.pagination import page, paginate
from shipflow.web.api.routes import bp
from shipflow.web.api.schemas import (
    IdPath,
    OrderIn,
    OrderOut,
    OrderPage,
    PageQuery,
    PickupPointIn,
)
from shipflow.web.problems import field_problem, not_found

TAG = Tag(name="orders")


def order_json(order: Order) -> dict:
    data = OrderOut.model_validate(
        {
            **{c: getattr(order, c) for c in OrderOut.model_fields if hasattr(order, c)},
            "lines": order.lines,
            "shipment_ids": [s.id for s in order.shipments],
        }
    )
    return data.model_dump(mode="json")


def brand_order(order_id: str) -> Order | None:
    return g.db.scalar(
        select(Order)
        .where(Order.id == order_id, Order.brand_id == g.brand_id)
        .options(selectinload(Order.lines), selectinload(Order.shipments))
    )


def _pickup_point(given: PickupPointIn | None) -> PickupPoint | None:
    """The chosen store, refused (422) unless one of the brand's services delivers there."""
    if given is None:
        return None
    address = given.address
    point = PickupPoint(
        **given.model_dump(exclude={"address"}),
        address=Address(**address.model_dump()) if address else None,
    )
    brand = brand_config(g.db, g.brand_id, g.runtime.settings)
    services = [s for c in (brand.carriers if brand else []) for s in c.services_domain()]
    problem = pickup_points.chain_problem(services, point)
    if problem:
        raise field_problem("pickup_point.chain", problem)
    return point


@bp.post(
    "/orders",
    tags=[TAG],
    responses={201: OrderOut},
)
@idempotent
def post_order(body: OrderIn):
    """Create an order. Order numbers are unique per brand."""
    try:
        order = create_order(
            g.db,
            g.brand_id,
            order_number=body.order_number,
            ship_to=body.ship_to.model_dump(),
            currency=body.currency,
            lines=[LineInput(**line.model_dump()) for line in body.lines],
            placed_at=body.placed_at,
            customer_name=body.customer.name,
            customer_email=str(body.customer.email or ""),
            customer_phone=body.customer.phone,
            language=body.language,
            cash_on_delivery=body.cash_on_delivery,
            pickup_point=_pickup_point(body.pickup_point),
        )
    except DuplicateOrderNumber:
        raise field_problem("order_number", "already used by another order of your brand") from None
    return order_json(order), 201


@bp.get("/orders/<id>", tags=[TAG], responses={200: OrderOut})
def get_order(path: IdPath):
    order = brand_order(path.id)
    if order is None:
        raise not_found("order")
    return order_json(order)


@bp.get("/orders", tags=[TAG], responses={200: OrderPage})
def list_orders(query: PageQuery):
    """Newest first; pass `next_cursor` back as `cursor` for the next page."""
    statement = select(Order).where(Order.brand_id == g.brand_id)
    statement = paginate(statement, Order, query).options(
        selectinload(Order.lines), selectinload(Order.shipments)
    )
    rows, cursor = page(list(g.db.scalars(statement)), query.limit)
    return {"data": [order_json(o) for o in rows], "next_cursor": cursor}
