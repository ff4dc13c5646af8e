"""Shipments (forward and return): create, read with events, list with filters."""

from __future__ import annotations

from flask import g
from flask_openapi3 import Tag
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from shipflow.domain import Parcel
from shipflow.shipments import UnknownOrder, register_shipment
from shipflow.store.models import Shipment
from shipflow.web.api.idempotency import idempotent
from shipflow.web.api.pagination import page, paginate
from shipflow.web.api.routes import bp
from shipflow.web.api.schemas import (
    IdPath,
    ShipmentDetailOut,
    ShipmentIn,
    ShipmentOut,
    ShipmentPage,
    ShipmentQuery,
)
from shipflow.web.problems import field_problem, not_found

TAG = Tag(name="shipments")


def shipment_json(shipment: Shipment, detail: bool = False) -> dict:
    schema = ShipmentDetailOut if detail else ShipmentOut
    return schema.model_validate(shipment).model_dump(mode="json")


@bp.post(
    "/shipments",
    tags=[TAG],
    responses={201: ShipmentDetailOut},
)
@idempotent
def create_shipment(body: ShipmentIn):
    """Register a shipment (e.g. imported from a store) so shipflow tracks it."""
    try:
        shipment = register_shipment(
            g.db,
            g.brand_id,
            **body.model_dump(exclude={"parcels"}),
            parcels=[Parcel(**p.model_dump()) for p in body.parcels],
            now=g.runtime.clock.now(),
        )
    except UnknownOrder:
        raise field_problem("order_id", "no order with this id exists for your brand") from None
    return shipment_json(shipment, detail=True), 201


@bp.get("/shipments/<id>", tags=[TAG], responses={200: ShipmentDetailOut})
def get_shipment(path: IdPath):
    shipment = g.db.scalar(
        select(Shipment)
        .where(Shipment.id == path.id, Shipment.brand_id == g.brand_id)
        .options(selectinload(Shipment.events))
    )
    if shipment is None:
        raise not_found("shipment")
    return shipment_json(shipment, detail=True)


@bp.get("/shipments", tags=[TAG], responses={200: ShipmentPage})
def list_shipments(query: ShipmentQuery):
    """Filter by status, carrier, kind and creation time; newest first."""
    statement = select(Shipment).where(Shipment.brand_id == g.brand_id)
    if query.status:
        statement = statement.where(Shipment.status == query.status.value)
    if query.carrier:
        statement = statement.where(Shipment.carrier == query.carrier)
    if query.kind:
        statement = statement.where(Shipment.kind == query.kind)
    rows, cursor = page(list(g.db.scalars(paginate(statement, Shipment, query))), query.limit)
    return {"data": [shipment_json(s) for s in rows], "next_cursor": cursor}
