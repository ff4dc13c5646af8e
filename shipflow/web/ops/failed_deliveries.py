"""The ops page of failed deliveries that need a person (the carrier lacks the action or
refused it, or the customer never answered), with the per-carrier figures."""

from __future__ import annotations

from flask import g, render_template
from sqlalchemy import select

from shipflow.ndr.service import ndr_metrics
from shipflow.ndr.workflow import CaseState
from shipflow.store.models import Order, Shipment
from shipflow.store.postpurchase_models import NdrCaseRow
from shipflow.web.ops.routes import bp

QUEUE_SIZE = 200


@bp.get("/failed-deliveries")
def failed_deliveries():
    rows = g.db.execute(
        select(NdrCaseRow, Shipment, Order.order_number)
        .join(Shipment, Shipment.id == NdrCaseRow.shipment_id)
        .outerjoin(Order, Order.id == Shipment.order_id)
        .where(NdrCaseRow.brand_id == g.ops_brand.id, NdrCaseRow.state == CaseState.OPS_TASK.value)
        .order_by(NdrCaseRow.last_contact_at.desc())
        .limit(QUEUE_SIZE)
    ).all()
    return render_template(
        "ops/failed_deliveries.html",
        cases=rows,
        metrics=ndr_metrics(g.db, g.ops_brand.id),
    )
