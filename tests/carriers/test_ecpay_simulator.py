"""The simulated ECPay's journeys, read by the adapter's own status tables: each network's
codes reach the statuses the demo is meant to show (expected values written out here)."""

from __future__ import annotations

import pytest

from carriers.ecpay.mapping import classify
from shipflow.demo.ecpay_logistics import journey


@pytest.mark.parametrize(
    ("sub", "pickup_after", "expected"),
    [
        (
            "UNIMART",
            30,
            [
                ("2030", "in_transit", None, 20),
                ("2073", "available_for_pickup", None, 26),
                ("2067", "delivered", None, 30),
            ],
        ),
        (
            "UNIMART",
            None,
            [
                ("2030", "in_transit", None, 20),
                ("2073", "available_for_pickup", None, 26),
                ("2074", "returning_to_sender", "not_collected", 170),
                ("2078", "returning_to_sender", "not_collected", 30),
            ],
        ),
        (
            "FAMI",
            5,
            [
                ("3024", "in_transit", None, 20),
                ("3018", "available_for_pickup", None, 26),
                ("3022", "delivered", None, 5),
            ],
        ),
        (
            "FAMI",
            None,
            [
                ("3024", "in_transit", None, 20),
                ("3018", "available_for_pickup", None, 26),
                ("3020", "returning_to_sender", "not_collected", 170),
                ("3023", "returned_to_sender", "not_collected", 48),
            ],
        ),
        (
            "TCAT",
            None,
            [
                ("3001", "in_transit", None, 18),
                ("3006", "out_for_delivery", None, 14),
                ("3003", "delivered", None, 5),
            ],
        ),
    ],
)
def test_each_journey_reads_as_the_demo_means_it(sub, pickup_after, expected):
    steps = []
    for code, message, hours in journey(sub, pickup_after):
        status, reason = classify(sub, code, message)
        steps.append((code, status.value, reason.value if reason else None, hours))
    assert steps == expected
