"""Shipments registered from outside (a label the store bought itself): tracked from then on."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from shipflow.domain import Parcel
from shipflow.store.models import Order, ParcelRow, Shipment


class UnknownOrder(LookupError):
    """The order id names no order of the brand."""


def register_shipment(
    session: Session,
    brand_id: str,
    *,
    carrier: str,
    tracking_number: str,
    now: datetime,
    order_id: str | None = None,
    kind: str = "forward",
    carrier_account: str = "",
    service: str = "",
    warehouse_code: str = "",
    promised_date: date | None = None,
    parcels: Sequence[Parcel] = (),
) -> Shipment:
    """Add the shipment (not committed); tracking polls it from `now` on."""
    if order_id is not None and not session.scalar(
        select(Order.id).where(Order.id == order_id, Order.brand_id == brand_id)
    ):
        raise UnknownOrder(order_id)
    shipment = Shipment(
        brand_id=brand_id,
        order_id=order_id,
        kind=kind,
        carrier=carrier,
        carrier_account=carrier_account,
        service=service,
        tracking_number=tracking_number,
        warehouse_code=warehouse_code,
        promised_date=promised_date,
        next_poll_at=now,
        parcels=[
            ParcelRow(
                weight_g=p.weight_g,
                length_mm=p.length_mm,
                width_mm=p.width_mm,
                height_mm=p.height_mm,
            )
            for p in parcels
        ],
        events=[],
    )
    session.add(shipment)
    session.flush()
    return shipment
