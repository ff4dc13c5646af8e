"""Failed-delivery cases on the database: open on a failed attempt, message the customer with a
signed link, take their choice, push it to the carrier (kept and retried through a carrier
outage, then ops), follow up. A store the carrier accepted becomes the shipment's pickup
point, which the tracking page shows."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from carriers.base import (
    Carrier,
    CarrierError,
    CarrierUnavailable,
    FailedDeliveryAction,
    FailedDeliveryInstruction,
)
from shipflow import customer_messages as customer
from shipflow import pickup_points
from shipflow.brands import brand_config
from shipflow.clock import Clock
from shipflow.config import Settings
from shipflow.domain import Address, PickupPoint, Reason, Status
from shipflow.links import make_token
from shipflow.ndr.workflow import (
    OPEN_STATES,
    CaseState,
    NdrCase,
    NdrPolicy,
    PushResult,
    Step,
    follow_up,
    on_attempt_failed,
    on_customer_choice,
    on_delivered,
    on_push_result,
)
from shipflow.notify.templates import Milestone
from shipflow.store.db import one_of, per_transaction
from shipflow.store.models import Alert, Brand, Order, Shipment
from shipflow.store.postpurchase_models import NdrCaseRow

LINK_PURPOSE = "ndr"
_HELD = "ndr cases read ahead"  # per transaction: shipment id -> its case, None if it has none
CarrierFor = Callable[[Shipment], Carrier]


def offered_actions(carrier: Carrier, service: str) -> frozenset[FailedDeliveryAction]:
    """What the failed-delivery page offers: exactly the actions the carrier takes for the
    shipment's service where it takes any; otherwise every action, carried out by ops."""
    return carrier.instruction_actions(service) or frozenset(FailedDeliveryAction)


def policy_for(session: Session, brand_id: str, settings: Settings) -> NdrPolicy:
    brand = brand_config(session, brand_id, settings)
    return NdrPolicy(max_attempts=brand.ndr.max_attempts) if brand else NdrPolicy()


def action_link(settings: Settings, case_id: str, clock: Clock | None = None) -> str:
    token = make_token(settings.signing_key("links"), LINK_PURPOSE, case_id, clock)
    return f"{settings.base_url}/ndr/{token}"


def open_case_link(
    session: Session, settings: Settings, shipment_id: str, clock: Clock | None = None
) -> str | None:
    """The customer's action page for the shipment's open case, if it has one."""
    row = session.scalar(select(NdrCaseRow).where(NdrCaseRow.shipment_id == shipment_id))
    if row is None or CaseState(row.state) not in OPEN_STATES:
        return None
    return action_link(settings, row.id, clock)


def redelivery_day(session: Session, shipment_id: str) -> date | None:
    """The day the customer chose for another attempt, while the case still waits on it."""
    row = session.scalar(select(NdrCaseRow).where(NdrCaseRow.shipment_id == shipment_id))
    if row is None or row.state in (CaseState.RESOLVED, CaseState.RETURN_TO_SENDER):
        return None
    chosen = (row.action_details or {}).get("reattempt_on")
    return date.fromisoformat(chosen) if chosen else None


def read_ahead(session: Session, shipment_ids: Collection[str]) -> None:
    """The cases of a batch's shipments in one query, held for the transaction: `case_of`
    then answers for them without a query each (every delivery asks, to close its case)."""
    held = _held(session)
    held.update(dict.fromkeys(shipment_ids))
    for row in session.scalars(
        select(NdrCaseRow).where(one_of(session, NdrCaseRow.shipment_id, shipment_ids))
    ):
        held[row.shipment_id] = row


def _held(session: Session) -> dict[str, NdrCaseRow | None]:
    return per_transaction(session, _HELD, dict)


def _to_domain(row: NdrCaseRow) -> NdrCase:
    return NdrCase(
        shipment_id=row.shipment_id,
        state=CaseState(row.state),
        attempts=row.attempts,
        reason=Reason(row.reason) if row.reason else None,
        opened_at=row.opened_at,
        last_contact_at=row.last_contact_at,
        follow_ups=row.follow_ups,
        action=FailedDeliveryAction(row.action) if row.action else None,
        push_tries=row.push_tries,
    )


def _save(row: NdrCaseRow, case: NdrCase, now: datetime) -> None:
    row.state = case.state.value
    row.attempts = case.attempts
    row.reason = case.reason.value if case.reason else None
    row.opened_at, row.last_contact_at = case.opened_at, case.last_contact_at
    row.follow_ups, row.push_tries = case.follow_ups, case.push_tries
    row.action = case.action.value if case.action else None
    if case.state in (CaseState.RESOLVED, CaseState.RETURN_TO_SENDER):
        row.resolved_at = row.resolved_at or now


class NdrService:
    """The steps of the workflow, carried out. `carrier_for` builds a shipment's adapter."""

    def __init__(
        self,
        session: Session,
        settings: Settings,
        carrier_for: CarrierFor,
        clock: Clock | None = None,
    ) -> None:
        self.session = session
        self.settings = settings
        self.carrier_for = carrier_for
        self.clock = clock  # signs customer links, so their age runs on the runtime's time

    def case_of(self, shipment_id: str) -> NdrCaseRow | None:
        held = _held(self.session)
        if shipment_id in held:
            return held[shipment_id]
        return self.session.scalar(select(NdrCaseRow).where(NdrCaseRow.shipment_id == shipment_id))

    def on_attempt_failed(
        self, shipment: Shipment, reason: Reason | None, now: datetime
    ) -> NdrCaseRow:
        row = self.case_of(shipment.id)
        policy = policy_for(self.session, shipment.brand_id, self.settings)
        case, steps = on_attempt_failed(
            _to_domain(row) if row else None, shipment.id, reason, now, policy
        )
        if row is None:
            row = NdrCaseRow(brand_id=shipment.brand_id, shipment_id=shipment.id)
            self.session.add(row)
            _held(self.session)[shipment.id] = row  # its case from now on, read ahead or not
        _save(row, case, now)
        self.session.flush()
        self._run(row, shipment, steps, now, discriminator=str(case.attempts))
        return row

    def choose(
        self,
        row: NdrCaseRow,
        action: FailedDeliveryAction,
        now: datetime,
        *,
        reattempt_on: date | None = None,
        address: Address | None = None,
        pickup_point: PickupPoint | None = None,
        instructions: str = "",
    ) -> NdrCaseRow:
        shipment = self.session.get_one(Shipment, row.shipment_id)
        carrier = self.carrier_for(shipment)
        supported = carrier.takes_instruction(action, shipment.service)
        case, steps = on_customer_choice(_to_domain(row), action, supported, now)
        row.action_details = {
            "reattempt_on": reattempt_on.isoformat() if reattempt_on else None,
            "address": asdict(address) if address else None,
            "pickup_point_id": pickup_point.id if pickup_point else "",
            "pickup_point": pickup_points.as_json(pickup_point) if pickup_point else None,
            "instructions": instructions,
        }
        _save(row, case, now)
        self._run(row, shipment, steps, now)
        return row

    def push(self, row: NdrCaseRow, now: datetime) -> None:
        """Send the customer's choice to the carrier once (see `on_push_result` for what a
        refusal or an outage leads to)."""
        shipment = self.session.get_one(Shipment, row.shipment_id)
        if row.action is None:
            raise ValueError(f"NDR case {row.id} has no chosen action to send to the carrier")
        details = row.action_details or {}
        address = details.get("address")
        instruction = FailedDeliveryInstruction(
            tracking_number=shipment.tracking_number,
            action=FailedDeliveryAction(row.action),
            reattempt_on=date.fromisoformat(details["reattempt_on"])
            if details.get("reattempt_on")
            else None,
            address=Address(**address) if address else None,
            pickup_point_id=details.get("pickup_point_id", ""),
            instructions=details.get("instructions", ""),
        )
        policy = policy_for(self.session, shipment.brand_id, self.settings)
        try:
            row.carrier_reference = self.carrier_for(shipment).failed_delivery_action(instruction)
            result = PushResult.ACCEPTED
        except CarrierError as exc:
            row.action_details = {**details, "last_error": str(exc)}
            unavailable = isinstance(exc, CarrierUnavailable)
            result = PushResult.UNAVAILABLE if unavailable else PushResult.REFUSED
        case, steps = on_push_result(_to_domain(row), result, now, policy)
        _save(row, case, now)
        chosen = pickup_points.from_json(details.get("pickup_point"))
        if result is PushResult.ACCEPTED and chosen is not None:
            shipment.pickup_point = pickup_points.as_json(chosen)
            shipment.pickup_deadline = None  # the new store's arrival dates the next one
        self._run(row, shipment, steps, now)

    def push_pending(self, now: datetime) -> int:
        """Send again the choices a carrier outage kept waiting; returns how many were sent.
        Rows are locked and skipped when another worker holds them, so none goes twice."""
        rows = self.session.scalars(
            select(NdrCaseRow)
            .where(NdrCaseRow.state == CaseState.ACTION_REQUESTED.value)
            .order_by(NdrCaseRow.last_contact_at)
            .with_for_update(skip_locked=True)
        ).all()
        for row in rows:
            self.push(row, now)
        return len(rows)

    def follow_up_due(self, now: datetime) -> int:
        """Remind customers who have not answered; returns how many cases moved."""
        moved = 0
        rows = self.session.scalars(
            select(NdrCaseRow).where(NdrCaseRow.state == CaseState.AWAITING_CUSTOMER.value)
        )
        for row in rows:
            shipment = self.session.get_one(Shipment, row.shipment_id)
            policy = policy_for(self.session, row.brand_id, self.settings)
            case, steps = follow_up(_to_domain(row), now, policy)
            if steps:
                _save(row, case, now)
                self._run(row, shipment, steps, now, discriminator=f"f{case.follow_ups}")
                moved += 1
        return moved

    def on_delivered(self, shipment_id: str, now: datetime) -> None:
        row = self.case_of(shipment_id)
        if row is not None and row.state != CaseState.RESOLVED.value:
            _save(row, on_delivered(_to_domain(row)), now)

    def _run(
        self,
        row: NdrCaseRow,
        shipment: Shipment,
        steps: list[Step],
        now: datetime,
        discriminator="",
    ) -> None:
        for step in steps:
            if step in (Step.NOTIFY_CUSTOMER, Step.FOLLOW_UP):
                self._message_customer(row, shipment, now, discriminator)
            elif step is Step.PUSH_TO_CARRIER:
                self.push(row, now)
            elif step is Step.CREATE_OPS_TASK:
                self._ops_task(row, shipment, now)
            elif step is Step.REQUEST_RETURN_TO_SENDER:
                row.action = FailedDeliveryAction.RETURN_TO_SENDER.value
                self._request_return(row, shipment)

    def _message_customer(self, row, shipment, now, discriminator) -> None:
        if shipment.order_id is None:
            return
        order = self.session.get_one(Order, shipment.order_id)
        customer.queue(
            self.session,
            brand=self.session.get_one(Brand, shipment.brand_id),
            order=order,
            milestone=Milestone.ATTEMPT_FAILED,
            context={"action_link": action_link(self.settings, row.id, self.clock)},
            now=now,
            customer_zone=customer.zone_for(order.ship_to),
            settings=self.settings,
            shipment_id=shipment.id,
            discriminator=discriminator,
        )

    def _ops_task(self, row: NdrCaseRow, shipment: Shipment, now: datetime) -> None:
        key = f"ndr:{row.id}:{row.state}"
        exists = self.session.scalar(select(Alert.id).where(Alert.dedupe_key == key))
        if exists:
            return
        self.session.add(
            Alert(
                brand_id=row.brand_id,
                shipment_id=shipment.id,
                kind="ndr_ops_task",
                severity="warning",
                dedupe_key=key,
                title=_ops_title(row, shipment),
                details={"case_id": row.id, "action": row.action, "reason": row.reason},
                created_at=now,
            )
        )

    def _request_return(self, row: NdrCaseRow, shipment: Shipment) -> None:
        carrier = self.carrier_for(shipment)
        if not carrier.takes_instruction(FailedDeliveryAction.RETURN_TO_SENDER, shipment.service):
            self._ops_task(row, shipment, row.last_contact_at)
            return
        try:
            row.carrier_reference = carrier.failed_delivery_action(
                FailedDeliveryInstruction(
                    shipment.tracking_number, FailedDeliveryAction.RETURN_TO_SENDER
                )
            )
        except CarrierError as exc:
            row.action_details = {**(row.action_details or {}), "last_error": str(exc)}
            self._ops_task(row, shipment, row.last_contact_at)


COD_RISK_ATTEMPTS = 2  # failed attempts after which a COD parcel is likely to go back


def _ops_title(row: NdrCaseRow, shipment: Shipment) -> str:
    """Names a refused cash-on-delivery parcel as such: it costs the brand both ways."""
    what = "COD refused" if row.reason == Reason.COD_REFUSED.value else "Failed delivery"
    return f"{what}, needs a person: {shipment.carrier} {shipment.tracking_number}"


@dataclass(frozen=True)
class QueueFilter:
    """Narrows the failed-delivery queue: the carrier, the failure reason, at least so many
    attempts, cash on delivery only, an order worth at least `min_value` (minor units)."""

    carrier: str | None = None
    reason: str | None = None
    min_attempts: int | None = None
    cod_only: bool = False
    min_value: int | None = None

    def clauses(self) -> list[ColumnElement[bool]]:
        wanted: list[tuple[object, ColumnElement[bool]]] = [
            (self.carrier, Shipment.carrier == self.carrier),
            (self.reason, NdrCaseRow.reason == self.reason),
            (self.min_attempts, NdrCaseRow.attempts >= (self.min_attempts or 0)),
            (self.cod_only or None, Order.cash_on_delivery > 0),
            (self.min_value, Order.total_amount >= (self.min_value or 0)),
        ]
        return [clause for value, clause in wanted if value is not None]


def failed_delivery_queue(
    session: Session,
    brand_id: str,
    limit: int,
    cod_at_risk: bool = False,
    narrowed: QueueFilter = QueueFilter(),
):
    """Rows of (case, shipment, order number, COD amount, currency), newest contact first: the
    cases waiting for a person, or (`cod_at_risk`) the cash-on-delivery parcels still out
    that failed several times or were refused, whose return to origin costs the brand twice."""
    if cod_at_risk:
        which = [
            Order.cash_on_delivery > 0,
            NdrCaseRow.state != CaseState.RESOLVED.value,
            Shipment.status.not_in((Status.DELIVERED.value, Status.RETURNED_TO_SENDER.value)),
            or_(
                NdrCaseRow.attempts >= COD_RISK_ATTEMPTS,
                NdrCaseRow.reason == Reason.COD_REFUSED.value,
            ),
        ]
    else:
        which = [NdrCaseRow.state == CaseState.OPS_TASK.value]
    return session.execute(
        select(NdrCaseRow, Shipment, Order.order_number, Order.cash_on_delivery, Order.currency)
        .join(Shipment, Shipment.id == NdrCaseRow.shipment_id)
        .outerjoin(Order, Order.id == Shipment.order_id)
        .where(NdrCaseRow.brand_id == brand_id, *which, *narrowed.clauses())
        .order_by(NdrCaseRow.last_contact_at.desc())
        .limit(limit)
    ).all()


def ndr_metrics(session: Session, brand_id: str) -> list[dict]:
    """Per carrier: failed-attempt rate, resolution rate, time to resolution, RTO rate."""
    shipped = dict(
        session.execute(
            select(Shipment.carrier, func.count())
            .where(Shipment.brand_id == brand_id, Shipment.kind == "forward")
            .group_by(Shipment.carrier)
        ).all()
    )
    rows = session.execute(
        select(Shipment.carrier, NdrCaseRow.state, NdrCaseRow.opened_at, NdrCaseRow.resolved_at)
        .join(Shipment, Shipment.id == NdrCaseRow.shipment_id)
        .where(NdrCaseRow.brand_id == brand_id)
    ).all()
    report = []
    for carrier, total in sorted(shipped.items()):
        cases = [r for r in rows if r.carrier == carrier]
        resolved = [r for r in cases if r.state == CaseState.RESOLVED.value]
        rto = [r for r in cases if r.state == CaseState.RETURN_TO_SENDER.value]
        hours = [
            (r.resolved_at - r.opened_at) / timedelta(hours=1) for r in resolved if r.resolved_at
        ]
        report.append(
            {
                "carrier": carrier,
                "shipments": total,
                "failed_attempt_rate": len(cases) / total if total else 0.0,
                "resolution_rate": len(resolved) / len(cases) if cases else None,
                "mean_hours_to_resolution": sum(hours) / len(hours) if hours else None,
                "return_to_origin_rate": len(rto) / len(cases) if cases else None,
            }
        )
    return report
