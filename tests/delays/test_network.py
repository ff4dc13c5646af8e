"""The network around a parcel (`shipflow.delays.network`): how many of the brand's other
parcels in flight from its origin and to its destination are behind their lane's usual
scans, against how many usually are."""

from dataclasses import replace
from datetime import date, datetime, timedelta

from shipflow.delays.network import NetworkWatch, behind
from shipflow.delays.risk import LaneState, LaneTimes, features, network_key
from shipflow.domain import Status, TrackingEvent
from tests.edd.factories import NY, history

NOW = datetime(2026, 10, 1, tzinfo=NY)  # Thursday midnight
D = timedelta(days=1)
H = timedelta(hours=1)


def _scan(at: datetime, code: str = "PU") -> TrackingEvent:
    return TrackingEvent(Status.IN_TRANSIT, at, code)


def _lanes() -> LaneTimes:
    """30 parcels handed over at 17:00 (none on a Friday), scanned at the destination hub at
    midnight, out for delivery at 08:00 and delivered at noon: their second scan comes a day
    before their delivery day ends, the third 16 h before."""
    week = history([1] * 6, start=date(2026, 9, 7))
    delivered = [r for r in week if r.handed_to_carrier_at.weekday() != 4] * 6
    events = {
        r.order_id: (
            _scan(r.handed_to_carrier_at),
            _scan(r.delivered_at - 12 * H, "AR"),
            _scan(r.delivered_at - 4 * H, "OD"),
        )
        for r in delivered
    }
    return LaneTimes.fit(delivered, NOW, events)


def _flying() -> tuple[list, dict, dict]:
    """At `NOW`, with their promises' ends: a picked up 7 h ago, 36 h left; b 31 h ago, 12 h
    left; c at the hub for 4 h, a day left (all from wh-nyc); d not scanned yet; e from
    another warehouse 55 h ago, its promise over a day ago; c goes to WI, the rest to IL."""
    base = replace(history([1])[0], delivered_at=None)
    scans = {
        "a": (_scan(NOW - 7 * H),),
        "b": (_scan(NOW - 31 * H),),
        "c": (_scan(NOW - 31 * H), _scan(NOW - 4 * H, "AR")),
        "d": (),
        "e": (_scan(NOW - 55 * H),),
    }
    left = {"a": 36 * H, "b": 12 * H, "c": D, "d": D, "e": -D}
    records = [
        replace(
            base,
            order_id=order_id,
            shipper_id="wh-other" if order_id == "e" else "wh-nyc",
            destination_state="WI" if order_id == "c" else "IL",
        )
        for order_id in scans
    ]
    return records, scans, {k: NOW + v for k, v in left.items()}


def test_a_parcel_is_behind_when_few_lane_parcels_lacked_its_next_scan_so_late():
    lanes = _lanes()
    records, scans, deadlines = _flying()
    judged = [behind(r, scans[r.order_id], NOW, deadlines[r.order_id], lanes) for r in records]
    # a: every lane parcel had its second scan with a day left, a has 36 h: not yet unusual;
    # b: none lacked it with 12 h left; c: all had the third with 16 h left, c has a day
    assert judged == [False, True, False, None, True]
    lone = replace(records[0], service="express")  # no lane parcel: nothing to judge by
    assert behind(lone, scans["a"], NOW, deadlines["a"], lanes) is None


def test_golden_network_state_of_origins_and_destinations():
    """Tonight's share behind, shrunk by 5 parcels' worth to the group's usual share (the
    mean of its past midnights; tonight's over all groups for a group not seen before),
    minus that usual share."""
    lanes = _lanes()
    records, scans, deadlines = _flying()
    watch = NetworkWatch()
    first = watch.day(records, NOW, lanes, scans, deadlines)
    # 2 of the 4 scanned parcels are behind: a usual share of 0.5 everywhere tonight
    assert {k: round(v, 6) for k, v in first.items()} == {
        ("destination", "US", "IL"): 0.0625,  # 2 of 3: (2 + 2.5) / 8 - 0.5
        ("destination", "US", "WI"): -0.083333,  # 0 of 1: (0 + 2.5) / 6 - 0.5
    }
    second = watch.day(records, NOW + D, lanes, scans, deadlines)  # a day on, all 4 behind
    assert {k: round(v, 6) for k, v in second.items()} == {
        ("destination", "US", "IL"): 0.125,  # 3 of 3 against 2 in 3: (3 + 10 / 3) / 8 - 2 / 3
        ("destination", "US", "WI"): 0.166667,  # 1 of 1 against none: (1 + 0) / 6 - 0
    }


def test_the_destinations_network_state_is_the_last_feature():
    lanes = _lanes()
    records, scans, _ = _flying()
    parcel = records[0]
    deadline = NOW + 2 * D
    x = features(parcel, deadline, NOW, lanes, LaneState(), scans["a"], network=0.25)
    assert x is not None and x[15] == 0.25
    assert features(parcel, deadline, NOW, lanes, LaneState())[15] == 0.0  # type: ignore[index]
    assert network_key(parcel) == ("destination", "US", "IL")
