"""Shopify's codes: every row of the tables in channels/shopify/units.py, written out."""

from __future__ import annotations

import pytest

from channels import money
from channels.base import Topic
from channels.shopify import units
from shipflow.domain import Status


@pytest.mark.parametrize(
    "status, delayed, expected",
    [
        (Status.PENDING, False, "LABEL_PURCHASED"),
        (Status.INFO_RECEIVED, False, "CONFIRMED"),
        (Status.INFO_RECEIVED, True, "DELAYED"),
        (Status.IN_TRANSIT, False, "IN_TRANSIT"),
        (Status.IN_TRANSIT, True, "DELAYED"),
        (Status.OUT_FOR_DELIVERY, False, "OUT_FOR_DELIVERY"),
        (Status.OUT_FOR_DELIVERY, True, "OUT_FOR_DELIVERY"),
        (Status.ATTEMPT_FAILED, False, "ATTEMPTED_DELIVERY"),
        (Status.AVAILABLE_FOR_PICKUP, False, "READY_FOR_PICKUP"),
        (Status.DELIVERED, False, "DELIVERED"),
        (Status.DELIVERED, True, "DELIVERED"),
        (Status.EXCEPTION, False, "FAILURE"),
        (Status.RETURNING_TO_SENDER, False, "FAILURE"),
        (Status.RETURNED_TO_SENDER, False, "FAILURE"),
        (Status.EXPIRED, False, None),
        (Status.CANCELLED, False, None),
    ],
)
def test_event_status(status, delayed, expected):
    assert units.event_status(status, delayed) == expected


def test_every_status_has_a_row():
    assert set(units.EVENT_STATUS) | {Status.EXPIRED, Status.CANCELLED} == set(Status)


@pytest.mark.parametrize(
    "raw, topic",
    [
        ("orders/create", Topic.ORDER_CREATED),
        ("orders/paid", Topic.ORDER_PAID),
        ("orders/updated", Topic.ORDER_UPDATED),
        ("orders/cancelled", Topic.ORDER_CANCELLED),
        ("app/uninstalled", Topic.UNINSTALLED),
    ],
)
def test_topics(raw, topic):
    assert units.TOPICS[raw] is topic


@pytest.mark.parametrize(
    "status, paid",
    [
        ("authorized", True),
        ("paid", True),
        ("partially_paid", True),
        ("partially_refunded", True),
        ("refunded", True),
        ("pending", False),
        ("expired", False),
        ("voided", False),
    ],
)
def test_financial_status(status, paid):
    assert units.PAID[status] is paid


@pytest.mark.parametrize(
    "amount, currency, minor",
    [("19.99", "USD", 1999), ("1280.0", "TWD", 128000), ("1200.00", "JPY", 1200), (0, "EUR", 0)],
)
def test_minor_units(amount, currency, minor):
    assert money.minor_units(amount, currency) == minor


@pytest.mark.parametrize("amount", ["12.345", "abc", "1200.50"])
def test_amounts_that_do_not_fit_are_refused(amount):
    with pytest.raises(ValueError):
        money.minor_units(amount, "JPY" if amount == "1200.50" else "USD")


@pytest.mark.parametrize(
    "value, unit, grams",
    [(250, "GRAMS", 250), (0.2, "KILOGRAMS", 200), (16, "OUNCES", 454), (1.5, "POUNDS", 680)],
)
def test_weights(value, unit, grams):
    assert units.grams(value, unit) == grams


@pytest.mark.parametrize("amount, currency, text", [(1999, "USD", "19.99"), (1200, "JPY", "1200")])
def test_major_units(amount, currency, text):
    assert money.major_units(amount, currency) == text
