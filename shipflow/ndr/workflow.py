"""The failed-delivery case as a small state machine, pure so it is table-testable.

attempt_failed -> awaiting_customer -> (customer chooses) action_requested -> pushed
(carrier accepted) or ops_task (carrier lacks the action, refused it, or stayed unreachable
for `push_retry_for`: meanwhile the choice waits in action_requested and a job sends it
again); delivered -> resolved; too many failed attempts -> return_to_sender.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from carriers.base import FailedDeliveryAction
from shipflow.domain import Reason


class CaseState(enum.StrEnum):
    AWAITING_CUSTOMER = "awaiting_customer"
    ACTION_REQUESTED = "action_requested"
    PUSHED = "pushed"
    OPS_TASK = "ops_task"
    RETURN_TO_SENDER = "return_to_sender"
    RESOLVED = "resolved"


OPEN_STATES = frozenset(
    {CaseState.AWAITING_CUSTOMER, CaseState.ACTION_REQUESTED, CaseState.OPS_TASK}
)


class Step(enum.StrEnum):
    """What the service must do next; each step becomes an outbox message."""

    NOTIFY_CUSTOMER = "notify_customer"
    FOLLOW_UP = "follow_up"
    PUSH_TO_CARRIER = "push_to_carrier"
    CREATE_OPS_TASK = "create_ops_task"
    REQUEST_RETURN_TO_SENDER = "request_return_to_sender"


@dataclass(frozen=True, slots=True)
class NdrPolicy:
    max_attempts: int = 3
    follow_up_after: timedelta = timedelta(hours=24)
    max_follow_ups: int = 2
    push_retry_for: timedelta = timedelta(hours=24)  # a carrier outage, before ops step in
    reattempt_choices: int = 3  # how many delivery dates the customer may pick from


@dataclass(frozen=True, slots=True)
class NdrCase:
    shipment_id: str
    state: CaseState
    attempts: int
    reason: Reason | None
    opened_at: datetime
    last_contact_at: datetime
    follow_ups: int = 0
    action: FailedDeliveryAction | None = None
    push_tries: int = 0


def on_attempt_failed(
    case: NdrCase | None,
    shipment_id: str,
    reason: Reason | None,
    at: datetime,
    policy: NdrPolicy,
) -> tuple[NdrCase, list[Step]]:
    """A failed attempt opens a case (or counts on the open one)."""
    attempts = (case.attempts if case else 0) + 1
    if attempts >= policy.max_attempts:
        base = case or NdrCase(shipment_id, CaseState.RETURN_TO_SENDER, 0, reason, at, at)
        closed = replace(base, state=CaseState.RETURN_TO_SENDER, attempts=attempts, reason=reason)
        return closed, [Step.REQUEST_RETURN_TO_SENDER, Step.NOTIFY_CUSTOMER]
    opened = NdrCase(
        shipment_id=shipment_id,
        state=CaseState.AWAITING_CUSTOMER,
        attempts=attempts,
        reason=reason,
        opened_at=case.opened_at if case else at,
        last_contact_at=at,
    )
    return opened, [Step.NOTIFY_CUSTOMER]


def available_actions(
    reason: Reason | None,
    offered: frozenset[FailedDeliveryAction] = frozenset(FailedDeliveryAction),
) -> list[FailedDeliveryAction]:
    """What the customer may choose, of the `offered` actions. Address problems lead with
    the address fix."""
    actions = [
        FailedDeliveryAction.REATTEMPT,
        FailedDeliveryAction.UPDATE_ADDRESS,
        FailedDeliveryAction.HOLD_AT_PICKUP_POINT,
        FailedDeliveryAction.RETURN_TO_SENDER,
    ]
    if reason in (Reason.ADDRESS_INCORRECT, Reason.ACCESS_PROBLEM):
        actions.remove(FailedDeliveryAction.UPDATE_ADDRESS)
        actions.insert(0, FailedDeliveryAction.UPDATE_ADDRESS)
    return [a for a in actions if a in offered]


def reattempt_dates(today: date, delivery_days: frozenset[int], policy: NdrPolicy) -> list[date]:
    """The carrier's next delivery days after today."""
    found: list[date] = []
    day = today
    while len(found) < policy.reattempt_choices:
        day += timedelta(days=1)
        if day.weekday() in delivery_days:
            found.append(day)
    return found


def on_customer_choice(
    case: NdrCase, action: FailedDeliveryAction, carrier_supports_actions: bool, at: datetime
) -> tuple[NdrCase, list[Step]]:
    if case.state not in OPEN_STATES:
        raise ValueError(f"case is {case.state}; it takes no more choices")
    chosen = replace(case, action=action, last_contact_at=at)
    if not carrier_supports_actions:
        return replace(chosen, state=CaseState.OPS_TASK), [Step.CREATE_OPS_TASK]
    return replace(chosen, state=CaseState.ACTION_REQUESTED), [Step.PUSH_TO_CARRIER]


class PushResult(enum.StrEnum):
    ACCEPTED = "accepted"
    REFUSED = "refused"  # the carrier said no: sending it again gets the same answer
    UNAVAILABLE = "unavailable"  # an outage: the choice waits and is sent again later


def on_push_result(
    case: NdrCase, result: PushResult, now: datetime, policy: NdrPolicy
) -> tuple[NdrCase, list[Step]]:
    """The carrier took the instruction; refused it (ops take over); or could not be reached:
    the case stays action_requested, which the retry job sends again, until `push_retry_for`
    after the choice, when ops take over. The choice itself is never dropped."""
    tried = replace(case, push_tries=case.push_tries + 1)
    if result is PushResult.ACCEPTED:
        return replace(tried, state=CaseState.PUSHED), []
    if result is PushResult.UNAVAILABLE and now - case.last_contact_at < policy.push_retry_for:
        return tried, []
    return replace(tried, state=CaseState.OPS_TASK), [Step.CREATE_OPS_TASK]


def follow_up(case: NdrCase, now: datetime, policy: NdrPolicy) -> tuple[NdrCase, list[Step]]:
    """Remind a silent customer; after the last reminder, ops takes over."""
    if (
        case.state != CaseState.AWAITING_CUSTOMER
        or now - case.last_contact_at < policy.follow_up_after
    ):
        return case, []
    if case.follow_ups >= policy.max_follow_ups:
        return replace(case, state=CaseState.OPS_TASK), [Step.CREATE_OPS_TASK]
    return replace(case, follow_ups=case.follow_ups + 1, last_contact_at=now), [Step.FOLLOW_UP]


def on_delivered(case: NdrCase) -> NdrCase:
    return replace(case, state=CaseState.RESOLVED)
