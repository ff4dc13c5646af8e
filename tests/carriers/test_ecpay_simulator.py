"""The simulated ECPay's journeys, read by the adapter's own status tables: each network's
codes reach the statuses the demo is meant to show (expected values written out here)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from carriers.ecpay import units
from carriers.ecpay.mapping import classify
from shipflow.clock import FixedClock
from shipflow.demo.ecpay_logistics import SimulatedECPay, journey


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


def uncollected_parcel(sub: str) -> tuple[SimulatedECPay, FixedClock, list[tuple[str, str]]]:
    """A simulator holding one uncollected `sub` parcel whose return has begun, and the
    (RtnCode, status) of every push it sent."""
    clock = FixedClock()
    pushes: list[tuple[str, str]] = []

    def deliver(_: str, fields: dict[str, str]) -> None:
        status, _reason = classify(fields["LogisticsSubType"], fields["RtnCode"], "")
        pushes.append((fields["RtnCode"], status.value))

    simulator = SimulatedECPay("2000132", "k", "i", clock, deliver, uncollected_share=1.0)
    answer = simulator.create(
        {
            "LogisticsType": "CVS",
            "LogisticsSubType": sub,
            "ReceiverStoreID": "131386",
            "ServerReplyURL": "https://ship.example.tw/webhooks/ecpay/acc-1",
        }
    )
    assert answer.startswith("1|")
    clock.advance(timedelta(hours=46 + 7 * 24 + 2))
    simulator.run_once()
    return simulator, clock, pushes


def test_a_parcel_moved_to_another_store_is_picked_up_there():
    simulator, clock, pushes = uncollected_parcel("FAMI")
    assert pushes[-1] == ("3020", "returning_to_sender")
    change = {
        "AllPayLogisticsID": "1718546",
        "ReceiverStoreID": "013420",
        "ShipmentDate": "2026/12/03",
    }
    assert simulator.change_store(units.UPDATE_SHIPMENT_INFO, change) == "1|OK"
    clock.advance(timedelta(hours=24))
    simulator.run_once()
    assert pushes[-1] == ("3029", "available_for_pickup")  # 商品已轉換店
    clock.advance(timedelta(hours=simulator.pickup_hours[0]))
    simulator.run_once()
    assert pushes[-1] == ("3022", "delivered")
    assert simulator.parcels["1718546"].extra["ReceiverStoreID"] == "013420"


@pytest.mark.parametrize(
    ("sub", "path", "change", "answer"),
    [
        ("FAMI", units.UPDATE_SHIPMENT_INFO, {"ReceiverStoreID": "991182"}, "0|ShipmentDate Error"),
        (
            "FAMI",
            units.UPDATE_SHIPMENT_INFO,
            {"ReceiverStoreID": "991182", "ShipmentDate": "2026/12/03"},  # a 7-ELEVEN store
            "0|ReceiverStoreID Error",
        ),
        (
            "UNIMART",
            units.UPDATE_STORE_INFO,
            {"ReceiverStoreID": "991182"},
            "0|UNIMART 不支援此門市異動",
        ),
        ("UNIMARTC2C", units.UPDATE_STORE_INFO, {"ReceiverStoreID": "991182"}, "0|StoreType Error"),
    ],
)
def test_a_store_change_that_does_not_fit_is_refused(sub, path, change, answer):
    simulator, _, _ = uncollected_parcel(sub)
    assert simulator.change_store(path, {"AllPayLogisticsID": "1718546", **change}) == answer
    assert "ReceiverStoreID" not in simulator.parcels["1718546"].extra
