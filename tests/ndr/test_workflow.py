from datetime import UTC, date, datetime, timedelta

import pytest

from carriers.base import FailedDeliveryAction as A
from shipflow.domain import Reason
from shipflow.ndr.workflow import (
    CaseState,
    NdrPolicy,
    PushResult,
    Step,
    available_actions,
    follow_up,
    on_attempt_failed,
    on_customer_choice,
    on_delivered,
    on_push_result,
    reattempt_dates,
)

T = datetime(2026, 11, 23, 14, tzinfo=UTC)
POLICY = NdrPolicy()


def opened(reason=Reason.CUSTOMER_UNAVAILABLE):
    return on_attempt_failed(None, "shp_1", reason, T, POLICY)[0]


def test_first_failure_opens_case_and_notifies():
    case, steps = on_attempt_failed(None, "shp_1", Reason.CUSTOMER_UNAVAILABLE, T, POLICY)
    assert (case.state, case.attempts, steps) == (
        CaseState.AWAITING_CUSTOMER,
        1,
        [Step.NOTIFY_CUSTOMER],
    )


def test_third_failure_returns_to_sender():
    case = opened()
    case, _ = on_attempt_failed(case, "shp_1", None, T + timedelta(days=1), POLICY)
    case, steps = on_attempt_failed(case, "shp_1", None, T + timedelta(days=2), POLICY)
    assert case.state == CaseState.RETURN_TO_SENDER and case.attempts == 3
    assert steps == [Step.REQUEST_RETURN_TO_SENDER, Step.NOTIFY_CUSTOMER]
    assert case.opened_at == T


@pytest.mark.parametrize(
    ("supported", "state", "steps"),
    [
        (True, CaseState.ACTION_REQUESTED, [Step.PUSH_TO_CARRIER]),
        (False, CaseState.OPS_TASK, [Step.CREATE_OPS_TASK]),
    ],
)
def test_customer_choice(supported, state, steps):
    case, got = on_customer_choice(opened(), A.REATTEMPT, supported, T)
    assert (case.state, case.action, got) == (state, A.REATTEMPT, steps)


@pytest.mark.parametrize(
    ("result", "hours_after_choice", "state", "steps"),
    [
        (PushResult.ACCEPTED, 0, CaseState.PUSHED, []),
        (PushResult.REFUSED, 0, CaseState.OPS_TASK, [Step.CREATE_OPS_TASK]),
        (PushResult.UNAVAILABLE, 0, CaseState.ACTION_REQUESTED, []),  # the job sends it again
        (PushResult.UNAVAILABLE, 23.9, CaseState.ACTION_REQUESTED, []),
        (PushResult.UNAVAILABLE, 24, CaseState.OPS_TASK, [Step.CREATE_OPS_TASK]),
    ],
)
def test_push_result(result, hours_after_choice, state, steps):
    case, _ = on_customer_choice(opened(), A.REATTEMPT, True, T)
    now = T + timedelta(hours=hours_after_choice)
    case, got = on_push_result(case, result, now, POLICY)
    assert (case.state, case.push_tries, case.action, got) == (state, 1, A.REATTEMPT, steps)


def test_follow_ups_then_ops():
    case = opened()
    assert follow_up(case, T + timedelta(hours=1), POLICY) == (case, [])
    case, steps = follow_up(case, T + timedelta(hours=25), POLICY)
    assert steps == [Step.FOLLOW_UP] and case.follow_ups == 1
    case, steps = follow_up(case, T + timedelta(hours=50), POLICY)
    case, steps = follow_up(case, T + timedelta(hours=75), POLICY)
    assert case.state == CaseState.OPS_TASK and steps == [Step.CREATE_OPS_TASK]


def test_closed_case_takes_no_choice():
    with pytest.raises(ValueError, match="takes no more choices"):
        on_customer_choice(on_delivered(opened()), A.REATTEMPT, True, T)


def test_address_problems_lead_with_the_address_fix():
    assert available_actions(Reason.ADDRESS_INCORRECT)[0] == A.UPDATE_ADDRESS
    assert available_actions(Reason.CUSTOMER_UNAVAILABLE)[0] == A.REATTEMPT


def test_reattempt_dates_skip_non_delivery_days():
    friday = date(2026, 11, 27)
    assert reattempt_dates(friday, frozenset({0, 1, 2, 3, 4}), POLICY) == [
        date(2026, 11, 30),
        date(2026, 12, 1),
        date(2026, 12, 2),
    ]


def test_only_the_offered_actions_are_available():
    offered = frozenset({A.REATTEMPT, A.UPDATE_ADDRESS})
    assert available_actions(Reason.ADDRESS_INCORRECT, offered) == [A.UPDATE_ADDRESS, A.REATTEMPT]
    assert available_actions(None, frozenset({A.RETURN_TO_SENDER})) == [A.RETURN_TO_SENDER]
