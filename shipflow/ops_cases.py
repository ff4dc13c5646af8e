"""What ops do about one shipment, each step a service function that leaves an audit entry:
the shipment's whole file for its page, the search that finds it, the actions taken on it
(contact the customer, ask the carrier, reship, refund) and who a failed delivery is
assigned to. Every function is scoped by brand: another brand's id finds nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from shipflow import proof_of_delivery
from shipflow.claims import claim_of
from shipflow.store.alert_models import OpsUser
from shipflow.store.claim_models import DeliveryClaim
from shipflow.store.edd_models import PredictionRevision
from shipflow.store.models import Alert, Order, Shipment, TrackingEventRow
from shipflow.store.ops_models import OpsAction
from shipflow.store.postpurchase_models import CustomerMessageRow, NdrCaseRow, ReturnRequestRow

# action -> (what the form offers, what the ops log says)
ACTIONS = {
    "contact_customer": ("Contact the customer", "Contacted the customer"),
    "ask_carrier": ("Ask the carrier", "Asked the carrier"),
    "reship": ("Reship (a new parcel, once)", "Reshipped"),
    "refund": ("Refund the order (once)", "Refund requested"),
}
ASSIGNED = "assigned"
SEARCH_LIMIT = 50


class UnknownAssignee(ValueError):
    """The person is not an ops user of this brand."""


@dataclass(frozen=True)
class ShipmentFile:
    """Everything ops need on one page, oldest first within each list."""

    shipment: Shipment
    order: Order | None
    events: list[TrackingEventRow]
    predictions: list[PredictionRevision]
    messages: list[CustomerMessageRow]
    alerts: list[Alert]
    case: NdrCaseRow | None
    returns: list[ReturnRequestRow]
    actions: list[OpsAction]
    claim: DeliveryClaim | None
    proof: dict  # the carrier's proof of delivery (`shipflow.proof_of_delivery`)


def brand_shipment(session: Session, brand_id: str, shipment_id: str) -> Shipment | None:
    return session.scalar(
        select(Shipment).where(Shipment.id == shipment_id, Shipment.brand_id == brand_id)
    )


def shipment_file(session: Session, brand_id: str, shipment_id: str) -> ShipmentFile | None:
    shipment = brand_shipment(session, brand_id, shipment_id)
    if shipment is None:
        return None

    def rows(statement) -> list[Any]:
        return list(session.scalars(statement))

    return ShipmentFile(
        shipment=shipment,
        order=shipment.order,
        events=list(shipment.events),
        predictions=rows(
            select(PredictionRevision)
            .where(PredictionRevision.shipment_id == shipment.id)
            .order_by(PredictionRevision.revised_at, PredictionRevision.id)
        ),
        messages=rows(
            select(CustomerMessageRow)
            .where(CustomerMessageRow.shipment_id == shipment.id)
            .order_by(CustomerMessageRow.send_after)
        ),
        alerts=rows(
            select(Alert).where(Alert.shipment_id == shipment.id).order_by(Alert.created_at)
        ),
        case=session.scalar(select(NdrCaseRow).where(NdrCaseRow.shipment_id == shipment.id)),
        returns=rows(
            select(ReturnRequestRow)
            .where(
                or_(
                    ReturnRequestRow.shipment_id == shipment.id,
                    ReturnRequestRow.order_id == shipment.order_id,
                )
            )
            .order_by(ReturnRequestRow.created_at)
        ),
        actions=rows(
            select(OpsAction)
            .where(OpsAction.shipment_id == shipment.id)
            .order_by(OpsAction.created_at)
        ),
        claim=claim_of(session, shipment.id),
        proof=proof_of_delivery.proof_of(shipment),
    )


def search(session: Session, brand_id: str, query: str) -> list[tuple[Shipment, Order | None]]:
    """Shipments whose order number, tracking number, customer e-mail or phone is exactly
    `query` (each an indexed lookup), newest first."""
    query = query.strip()
    if not query:
        return []
    orders = select(Order.id).where(
        Order.brand_id == brand_id,
        or_(
            Order.order_number == query,
            Order.customer_email.in_({query, query.lower()}),
            Order.customer_phone == query,
        ),
    )
    return [
        (shipment, order)
        for shipment, order in session.execute(
            select(Shipment, Order)
            .outerjoin(Order, Order.id == Shipment.order_id)
            .where(
                Shipment.brand_id == brand_id,
                or_(Shipment.tracking_number == query, Shipment.order_id.in_(orders)),
            )
            .order_by(Shipment.created_at.desc())
            .limit(SEARCH_LIMIT)
        )
    ]


def record_action(
    session: Session,
    shipment: Shipment,
    actor: str,
    action: str,
    note: str,
    now: datetime,
    **details: str,
) -> OpsAction:
    """Write down what ops did (or asked for) about the shipment; `action` is one of
    `ACTIONS`, `details` what it produced (the replacement parcel, where a refund went)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}; one of {', '.join(ACTIONS)}")
    entry = OpsAction(
        brand_id=shipment.brand_id,
        shipment_id=shipment.id,
        actor=actor,
        action=action,
        note=note.strip()[:2000],
        details=details,
        created_at=now,
    )
    session.add(entry)
    session.flush()
    return entry


def brand_people(session: Session, brand_id: str) -> list[str]:
    return list(
        session.scalars(
            select(OpsUser.email).where(OpsUser.brand_id == brand_id).order_by(OpsUser.email)
        )
    )


def assign_case(
    session: Session, case: NdrCaseRow, assignee: str | None, actor: str, now: datetime
) -> None:
    """Give the failed delivery to an ops user of its brand (None: to nobody)."""
    if assignee is not None and assignee not in brand_people(session, case.brand_id):
        raise UnknownAssignee(f"{assignee} is not an ops user of this brand")
    case.assigned_to = assignee
    session.add(
        OpsAction(
            brand_id=case.brand_id,
            shipment_id=case.shipment_id,
            actor=actor,
            action=ASSIGNED,
            note=assignee or "nobody",
            created_at=now,
        )
    )
