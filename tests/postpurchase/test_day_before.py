"""The "arrives tomorrow" message: once per predicted day, only for parcels still coming,
tomorrow counted in the customer's zone."""

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from shipflow.jobs.postpurchase import remind_day_before
from shipflow.store.db import unit_of_work
from shipflow.store.models import Shipment
from shipflow.store.postpurchase_models import CustomerMessageRow
from tests.webui.factories import make_shipment

TOMORROW = date(2026, 11, 24)  # the clock: Nov 23, 09:00 in Springfield, IL


def messages(runtime) -> list[tuple[str, str]]:
    with runtime.sessions() as session:
        rows = session.scalars(select(CustomerMessageRow).order_by(CustomerMessageRow.key))
        return [(row.milestone, row.subject) for row in rows]


@pytest.mark.parametrize(
    ("status", "predicted", "expected"),
    [
        ("in_transit", TOMORROW, [("arrives_tomorrow", "Your Northwind Outfitters order arrives tomorrow")]),
        ("info_received", TOMORROW, [("arrives_tomorrow", "Your Northwind Outfitters order arrives tomorrow")]),
        ("in_transit", TOMORROW + timedelta(days=1), []),
        ("out_for_delivery", TOMORROW, []),
        ("returning_to_sender", TOMORROW, []),
    ],
)  # fmt: skip
def test_sent_once_for_a_parcel_arriving_tomorrow(runtime, status, predicted, expected):
    make_shipment(runtime, status, promised=predicted, predicted=predicted)
    remind_day_before(runtime)
    remind_day_before(runtime)
    assert messages(runtime) == expected


def test_a_new_prediction_brings_a_new_message(runtime, clock):
    shipment = make_shipment(runtime, promised=TOMORROW, predicted=TOMORROW)
    remind_day_before(runtime)
    with unit_of_work(runtime.sessions) as session:
        session.get_one(Shipment, shipment).predicted_date = TOMORROW + timedelta(days=1)
    clock.advance(timedelta(days=1))
    remind_day_before(runtime)
    assert [milestone for milestone, _ in messages(runtime)] == ["arrives_tomorrow"] * 2
