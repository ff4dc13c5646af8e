"""What ops do for a customer whose parcel went wrong: send the order again (a new parcel
through allocation and a label, linked to the claim) or refund it (in the shop when the
brand opted in, else by the signed store webhook). Each is audited in `ops_actions` and done
once per shipment: asking again, from a second tab or a double click, returns the first."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from shipflow.brands import brand_config
from shipflow.channel_accounts import refunds_in_shop
from shipflow.claims import claim_of, close
from shipflow.domain.events import OpsRefund, StoreWebhook
from shipflow.ops_cases import record_action
from shipflow.store.db import for_update
from shipflow.store.models import Brand, Shipment
from shipflow.store.ops_models import OpsAction
from shipflow.store.outbox import publish

if TYPE_CHECKING:
    from shipflow.runtime import Runtime

RESHIP, REFUND = "reship", "refund"
REFUND_REQUESTED = "refund.requested"  # the store webhook's event


class RemedyRefused(ValueError):
    """The shipment cannot be reshipped or refunded; the message says why."""


def earlier(session: Session, shipment_id: str, action: str) -> OpsAction | None:
    """The remedy already taken for this shipment, if any."""
    return session.scalar(
        select(OpsAction)
        .where(OpsAction.shipment_id == shipment_id, OpsAction.action == action)
        .order_by(OpsAction.created_at)
        .limit(1)
    )


def _locked(session: Session, shipment: Shipment) -> Shipment:
    """The shipment read again under its lock: two ops users' clicks take turns."""
    return session.scalars(
        for_update(session, select(Shipment).where(Shipment.id == shipment.id))
    ).one()


def reship(
    session: Session, runtime: Runtime, shipment: Shipment, actor: str, note: str, now: datetime
) -> OpsAction:
    """A replacement parcel of the same order: allocated, labelled and tracked like the first,
    marked as replacing it and linked to the customer's claim."""
    shipment = _locked(session, shipment)
    done = earlier(session, shipment.id, RESHIP)
    if done is not None:
        return done
    order = shipment.order
    if order is None or shipment.kind != "forward":
        raise RemedyRefused("only a parcel of an order can be reshipped")
    brand = session.get_one(Brand, shipment.brand_id)
    replacement = runtime.fulfilment(brand.code).ship(session, order)
    replacement.details = {**replacement.details, "replaces": shipment.id}
    claim = claim_of(session, shipment.id)
    if claim is not None:
        claim.replacement_id = replacement.id
        close(claim, now)
    return record_action(session, shipment, actor, RESHIP, note, now, replacement_id=replacement.id)


def refund(
    session: Session, runtime: Runtime, shipment: Shipment, actor: str, note: str, now: datetime
) -> OpsAction:
    """The order's total back to the customer: through its shop when the brand's account
    opted in to refunds, else a signed `refund.requested` to the brand's store."""
    shipment = _locked(session, shipment)
    done = earlier(session, shipment.id, REFUND)
    if done is not None:
        return done
    order = shipment.order
    if order is None:
        raise RemedyRefused("this shipment has no order to refund")
    in_shop = refunds_in_shop(session, order, runtime.settings)
    brand = brand_config(session, shipment.brand_id, runtime.settings)
    url = brand.returns.store_webhook_url if brand else ""
    if not (in_shop or url):
        raise RemedyRefused(
            "the order's shop does not take refunds from us and the brand has no "
            "returns.store_webhook_url: refund it in the shop, then record a note"
        )
    action = record_action(
        session, shipment, actor, REFUND, note, now, channel="shop" if in_shop else "store"
    )
    if in_shop:
        publish(session, OpsRefund(brand_id=shipment.brand_id, action_id=action.id))
    else:
        data = {
            "order_number": order.order_number,
            "shipment_id": shipment.id,
            "refund_amount": order.total_amount,
            "currency": order.currency,
            "reason": "not_received",
            "note": action.note,
        }
        publish(
            session,
            StoreWebhook(
                brand_id=shipment.brand_id,
                subject_id=action.id,
                event=REFUND_REQUESTED,
                url=url,
                data=data,
            ),
        )
    claim = claim_of(session, shipment.id)
    if claim is not None:
        close(claim, now)
    return action


def refunded(session: Session, action: OpsAction, now: datetime) -> None:
    """The shop took the refund: the claim, if any, says so."""
    claim = claim_of(session, action.shipment_id)
    if claim is not None and claim.refunded_at is None:
        claim.refunded_at = now
