""" "I didn't get it": a customer's claim on a parcel the carrier marked delivered. It opens
an ops case with the carrier's proof as it stood then, once per shipment (a second form, from
another tab or a double click, finds the first), and lists on the ops queue until closed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shipflow import proof_of_delivery
from shipflow.domain import Status
from shipflow.store.claim_models import DeliveryClaim
from shipflow.store.models import Order, Shipment
from shipflow.store.ops_models import OpsAction
from shipflow.update_subscriptions import InvalidContact, normal_contact

WHAT_HAPPENED = ("not_found", "not_at_address", "empty_or_damaged")
CHECKED = ("neighbours", "safe_place", "household")
OPEN, CLOSED = "open", "closed"
OPENED = "claim_opened"  # its entry in the ops log


class ClaimRefused(ValueError):
    """The form is incomplete: `field` says which answer to fix."""

    def __init__(self, field: str):
        super().__init__(field)
        self.field = field


class NotDelivered(Exception):
    """Only a parcel the carrier says was delivered can be claimed as not received."""


@dataclass(frozen=True)
class ClaimForm:
    what_happened: str
    checked: tuple[str, ...]
    details: str
    contact: str

    @classmethod
    def read(cls, form: Mapping[str, str], checked: list[str]) -> ClaimForm:
        """The answers from the page's form; `checked` is the list of ticked boxes."""
        what = form.get("what_happened", "")
        if what not in WHAT_HAPPENED:
            raise ClaimRefused("what_happened")
        contact = form.get("contact", "")[:254]
        try:  # an e-mail address or a phone number, as the update sign-up reads them
            contact = normal_contact("email" if "@" in contact else "sms", contact)
        except InvalidContact:
            raise ClaimRefused("contact") from None
        return cls(
            what_happened=what,
            checked=tuple(c for c in CHECKED if c in checked),
            details=form.get("details", "").strip()[:2000],
            contact=contact,
        )


def claim_of(session: Session, shipment_id: str) -> DeliveryClaim | None:
    return session.scalar(select(DeliveryClaim).where(DeliveryClaim.shipment_id == shipment_id))


def open_claim(
    session: Session, shipment: Shipment, form: ClaimForm, language: str, now: datetime
) -> DeliveryClaim:
    """The shipment's claim: a new one with the carrier's proof attached, or the one it has."""
    if shipment.status != Status.DELIVERED:
        raise NotDelivered(shipment.id)
    existing = claim_of(session, shipment.id)
    if existing is not None:
        return existing
    claim = DeliveryClaim(
        brand_id=shipment.brand_id,
        shipment_id=shipment.id,
        state=OPEN,
        what_happened=form.what_happened,
        checked=list(form.checked),
        details=form.details,
        contact=form.contact,
        language=language,
        proof=proof_of_delivery.proof_of(shipment),
        opened_at=now,
    )
    try:
        with session.begin_nested():
            session.add(claim)
            session.flush()
            session.add(
                OpsAction(
                    brand_id=shipment.brand_id,
                    shipment_id=shipment.id,
                    actor="customer",
                    action=OPENED,
                    note=form.details,
                    details={"claim_id": claim.id, "what_happened": form.what_happened},
                    created_at=now,
                )
            )
    except IntegrityError:  # another request opened it first
        found = claim_of(session, shipment.id)
        assert found is not None
        return found
    return claim


def close(claim: DeliveryClaim, now: datetime) -> None:
    claim.state, claim.closed_at = CLOSED, claim.closed_at or now


def claims_queue(
    session: Session, brand_id: str, state: str | None, limit: int
) -> list[tuple[DeliveryClaim, Shipment, str | None]]:
    """The brand's claims (open ones by default), oldest first: who waits longest comes first."""
    statement = (
        select(DeliveryClaim, Shipment, Order.order_number)
        .join(Shipment, Shipment.id == DeliveryClaim.shipment_id)
        .outerjoin(Order, Order.id == Shipment.order_id)
        .where(DeliveryClaim.brand_id == brand_id)
        .order_by(DeliveryClaim.opened_at, DeliveryClaim.id)
        .limit(limit)
    )
    if state:
        statement = statement.where(DeliveryClaim.state == state)
    return [(c, s, n) for c, s, n in session.execute(statement)]
