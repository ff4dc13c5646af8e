"""The network around a parcel (`shipflow.delays.network`): how many of the brand's other
parcels in flight from its origin and to its destination wait at their last scan longer than
their lane usually does, against how many usually do."""

from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest

from shipflow.delays.network import NetworkWatch, ScanWaits
from shipflow.delays.risk import LaneState, LaneTimes, features, lane_keys, network_keys
from shipflow.domain import Status, TrackingEvent
from tests.edd.factories import NY, history

NOW = datetime(2026, 10, 1, tzinfo=NY)  # Thursday midnight
D = timedelta(days=1)


def _scan(at: datetime, code: str = "PU") -> TrackingEvent:
    return TrackingEvent(Status.IN_TRANSIT, at, code)


def _lane() -> tuple[list, dict]:
    """5 parcels handed over at 17:00 (none on a Friday), scanned at the destination hub at
    midnight and delivered at noon the next day: they wait 7 h at pickup and 12 h at the hub."""
    week = history([1] * 6, start=date(2026, 9, 7))
    delivered = [r for r in week if r.handed_to_carrier_at.weekday() != 4]
    events = {
        r.order_id: (_scan(r.handed_to_carrier_at), _scan(r.delivered_at - 12 * H, "AR"))
        for r in delivered
    }
    return delivered, events


H = timedelta(hours=1)


def _flying() -> tuple[list, dict]:
    """At `NOW`: a handed over 7 h ago (as usual), b 31 h ago, c at the hub for 4 h (all from
    wh-nyc), d not scanned yet, e from another warehouse 55 h ago; c goes to WI, the rest to
    IL."""
    base = replace(history([1])[0], delivered_at=None)
    scans = {
        "a": (_scan(NOW - 7 * H),),
        "b": (_scan(NOW - 31 * H),),
        "c": (_scan(NOW - 31 * H), _scan(NOW - 4 * H, "AR")),
        "d": (),
        "e": (_scan(NOW - 55 * H),),
    }
    records = [
        replace(
            base,
            order_id=order_id,
            shipper_id="wh-other" if order_id == "e" else "wh-nyc",
            destination_state="WI" if order_id == "c" else "IL",
        )
        for order_id in scans
    ]
    return records, scans


def test_a_lanes_usual_wait_after_each_scan_is_its_90th_percentile_wait():
    delivered, events = _lane()
    slow = replace(delivered[0], order_id="slow")  # 3 h more at the hub
    events["slow"] = (events[delivered[0].order_id][0], _scan(slow.delivered_at - 15 * H, "AR"))
    waits = ScanWaits.fit([*delivered, slow], NOW, events)
    finest = lane_keys(delivered[0])[0]
    assert waits.usual[(finest, 1)] == pytest.approx(7 / 24)  # 5 of 6 waited 7 h at pickup
    assert waits.usual[(finest, 2)] == pytest.approx(13.5 / 24)  # 12 h, once 15 h: 90 %
    assert ScanWaits.fit(delivered[:4], NOW, events).usual == {}  # fewer than 5 parcels


def test_only_parcels_waiting_past_their_lanes_usual_wait_count():
    delivered, events = _lane()
    waits = ScanWaits.fit(delivered, NOW, events)
    records, scans = _flying()
    assert [waits.waiting(r, scans[r.order_id], NOW) for r in records] == [
        False,
        True,
        False,
        None,
        True,
    ]


def test_golden_network_state_of_origins_and_destinations():
    """Tonight's share waiting, shrunk by 5 parcels' worth to the group's usual share (the
    mean of its past midnights; tonight's over all groups for a group not seen before),
    minus that usual share."""
    delivered, events = _lane()
    waits = ScanWaits.fit(delivered, NOW, events)
    records, scans = _flying()
    watch = NetworkWatch()
    first = watch.day(records, NOW, waits, scans)
    # 2 of the 4 scanned parcels wait: a usual share of 0.5 everywhere tonight
    assert {k: round(v, 6) for k, v in first.items()} == {
        ("origin", "wh-nyc"): -0.0625,  # 1 of 3: (1 + 2.5) / 8 - 0.5
        ("origin", "wh-other"): 0.083333,  # 1 of 1: (1 + 2.5) / 6 - 0.5
        ("destination", "US", "IL"): 0.0625,  # 2 of 3
        ("destination", "US", "WI"): -0.083333,  # 0 of 1
    }
    second = watch.day(records, NOW + D, waits, scans)  # a day on, all four wait
    assert {k: round(v, 6) for k, v in second.items()} == {
        ("origin", "wh-nyc"): 0.25,  # 3 of 3 against 1 in 3: (3 + 5 / 3) / 8 - 1 / 3
        ("origin", "wh-other"): 0.0,  # 1 of 1 against 1 of 1
        ("destination", "US", "IL"): 0.125,  # 3 of 3 against 2 in 3
        ("destination", "US", "WI"): 0.166667,  # 1 of 1 against none
    }


def test_the_network_state_is_the_last_two_features():
    delivered, events = _lane()
    lanes = LaneTimes.fit(delivered * 6, NOW, events)
    records, scans = _flying()
    parcel = records[0]
    deadline = NOW + 2 * D
    around = (0.25, -0.1)
    x = features(parcel, deadline, NOW, lanes, LaneState(), scans["a"], network=around)
    assert x is not None and tuple(x[-2:]) == around
    assert tuple(features(parcel, deadline, NOW, lanes, LaneState())[-2:]) == (0.0, 0.0)  # type: ignore[index]
    assert network_keys(parcel) == (("origin", "wh-nyc"), ("destination", "US", "IL"))
