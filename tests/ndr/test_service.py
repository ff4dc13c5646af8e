"""The failed-delivery workflow on a real database with a recording fake carrier."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from carriers.base import CarrierAccount, CarrierRejected
from carriers.base import FailedDeliveryAction as A
from carriers.delhivery import DelhiveryCarrier
from shipflow.config import NdrConfig
from shipflow.domain import Reason
from shipflow.links import read_token
from shipflow.ndr.service import LINK_PURPOSE, NdrService, ndr_metrics, offered_actions
from shipflow.store.models import Alert, Brand, Order, Shipment
from shipflow.store.postpurchase_models import CustomerMessageRow
from tests.conftest import configure_brand
from tests.fakes import RecordingCarrier

T = datetime(2026, 11, 23, 16, tzinfo=UTC)


@pytest.fixture
def shipment_id(runtime, brands):
    configure_brand(runtime, "brand-a", languages=["en"])
    with runtime.sessions() as session:
        brand = session.get(Brand, brands["a"]["id"])
        order = Order(
            brand_id=brand.id,
            order_number="1001",
            customer_email="ada@example.com",
            currency="USD",
            ship_to={"country": "US", "postal_code": "10001"},
        )
        session.add(order)
        session.flush()
        shipment = Shipment(
            brand_id=brand.id, order_id=order.id, carrier="fake", tracking_number="FAKE1"
        )
        session.add(shipment)
        session.commit()
        return shipment.id


def service(session, settings, carrier):
    return NdrService(session, settings, lambda shipment: carrier)


def test_failed_attempt_opens_case_and_messages_customer(runtime, settings, shipment_id):
    with runtime.sessions() as session:
        ndr = service(session, settings, RecordingCarrier())
        case = ndr.on_attempt_failed(
            session.get(Shipment, shipment_id), Reason.CUSTOMER_UNAVAILABLE, T
        )
        session.commit()
        assert case.state == "awaiting_customer" and case.attempts == 1
        message = session.scalar(select(CustomerMessageRow))
        assert message.milestone == "attempt_failed" and message.recipient == "ada@example.com"
        token = message.body.rsplit("/ndr/", 1)[1]
        assert (
            read_token(settings.signing_key("links"), LINK_PURPOSE, token, timedelta(days=1))
            == case.id
        )


def test_customer_choice_is_pushed_to_carrier(runtime, settings, shipment_id):
    carrier = RecordingCarrier()
    with runtime.sessions() as session:
        ndr = service(session, settings, carrier)
        case = ndr.on_attempt_failed(session.get(Shipment, shipment_id), None, T)
        ndr.choose(case, A.REATTEMPT, T, reattempt_on=date(2026, 11, 25))
        session.commit()
        assert case.state == "pushed" and case.carrier_reference == "REF1"
    assert carrier.instructions[0].reattempt_on == date(2026, 11, 25)
    assert carrier.instructions[0].tracking_number == "FAKE1"


@pytest.mark.parametrize(
    ("make_carrier", "retries_after_hours", "state", "tries"),
    [
        # An outage: the choice waits, the retry job sends it again until the carrier takes it.
        (lambda: RecordingCarrier(failures=2), [0.2, 0.4], "pushed", 3),
        # Still unreachable a day after the choice: ops take the case, the choice kept.
        (lambda: RecordingCarrier(failures=5), [1, 25], "ops_task", 3),
        # A refusal is not retried: the same request gets the same answer.
        (lambda: RecordingCarrier(failures=1, error=CarrierRejected), [1], "ops_task", 1),
        (lambda: RecordingCarrier(supports_actions=False), [1], "ops_task", 0),
    ],
)
def test_an_outage_keeps_the_choice_for_the_retry_job_then_ops(
    runtime, settings, shipment_id, make_carrier, retries_after_hours, state, tries
):
    carrier = make_carrier()
    with runtime.sessions() as session:
        ndr = service(session, settings, carrier)
        case = ndr.on_attempt_failed(session.get(Shipment, shipment_id), None, T)
        ndr.choose(case, A.REATTEMPT, T, reattempt_on=date(2026, 11, 25))
        session.commit()
        for hours in retries_after_hours:
            ndr.push_pending(T + timedelta(hours=hours))
            session.commit()
        assert case.state == state
        assert case.action_details["reattempt_on"] == "2026-11-25"
        assert [i.reattempt_on for i in carrier.instructions] == [date(2026, 11, 25)] * tries
        alerts = session.scalars(select(Alert).where(Alert.kind == "ndr_ops_task")).all()
        assert len(alerts) == (1 if state == "ops_task" else 0)


def test_three_failures_return_to_sender(runtime, settings, shipment_id):
    carrier = RecordingCarrier()
    with runtime.sessions() as session:
        ndr = service(session, settings, carrier)
        shipment = session.get(Shipment, shipment_id)
        for day in range(3):
            case = ndr.on_attempt_failed(shipment, None, T + timedelta(days=day))
        session.commit()
        assert case.state == "return_to_sender" and case.resolved_at is not None
        messages = session.scalars(select(CustomerMessageRow)).all()
        assert len(messages) == 3  # one per attempt, never the same one twice
    assert [i.action for i in carrier.instructions] == [A.RETURN_TO_SENDER]


def test_the_brands_configured_attempts_return_to_sender(runtime, shipment_id):
    configure_brand(runtime, "brand-a", ndr=NdrConfig(max_attempts=1))
    carrier = RecordingCarrier()
    with runtime.sessions() as session:
        case = service(session, runtime.settings, carrier).on_attempt_failed(
            session.get(Shipment, shipment_id), None, T
        )
        assert case.state == "return_to_sender"
    assert [i.action for i in carrier.instructions] == [A.RETURN_TO_SENDER]


def test_follow_up_then_ops(runtime, settings, shipment_id):
    with runtime.sessions() as session:
        ndr = service(session, settings, RecordingCarrier())
        case = ndr.on_attempt_failed(session.get(Shipment, shipment_id), None, T)
        assert ndr.follow_up_due(T + timedelta(hours=2)) == 0
        assert ndr.follow_up_due(T + timedelta(hours=25)) == 1
        assert ndr.follow_up_due(T + timedelta(hours=50)) == 1
        assert ndr.follow_up_due(T + timedelta(hours=75)) == 1
        session.commit()
        assert case.state == "ops_task"
        assert len(session.scalars(select(CustomerMessageRow)).all()) == 3


def test_metrics_per_carrier(runtime, settings, shipment_id):
    with runtime.sessions() as session:
        ndr = service(session, settings, RecordingCarrier())
        ndr.on_attempt_failed(session.get(Shipment, shipment_id), None, T)
        ndr.on_delivered(shipment_id, T + timedelta(hours=30))
        session.commit()
        brand_id = session.get(Shipment, shipment_id).brand_id
        [report] = ndr_metrics(session, brand_id)
    assert report["carrier"] == "fake" and report["failed_attempt_rate"] == 1.0
    assert report["resolution_rate"] == 1.0 and report["mean_hours_to_resolution"] == 30.0


@pytest.mark.parametrize(
    ("carrier", "offered"),
    [
        (RecordingCarrier(), frozenset(A)),
        (RecordingCarrier(supports_actions=False), frozenset(A)),  # ops carry them out
        (
            DelhiveryCarrier(CarrierAccount("delhivery", "shop")),
            frozenset({A.REATTEMPT, A.UPDATE_ADDRESS}),
        ),
    ],
    ids=["takes-all", "takes-none", "delhivery"],
)
def test_offered_actions(carrier, offered):
    assert offered_actions(carrier, "ground") == offered
