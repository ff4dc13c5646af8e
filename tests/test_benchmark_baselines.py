"""The baselines the accuracy benchmark prints beside shipflow must themselves be right."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from benchmarks.edd_accuracy import BacklogReplay, hindsight
from shipflow.edd.backlog import Backlog
from shipflow.edd.history import HistoryRecord
from shipflow.edd.transit import ModelConfig, TransitModel

MONDAY = datetime(2017, 7, 3, 9, tzinfo=UTC)


def order(i: int, days: int, origin: str = "SP", destination: str = "RJ") -> HistoryRecord:
    ordered = MONDAY + timedelta(days=i)
    return HistoryRecord(
        order_id=str(i),
        ordered_at=ordered,
        shipper_id="seller",
        origin_postal_code="01000",
        origin_country="BR",
        destination_postal_code="20000",
        destination_country="BR",
        carrier="olist",
        service="standard",
        handed_to_carrier_at=ordered,
        delivered_at=ordered + timedelta(days=days),
        origin_state=origin,
        destination_state=destination,
    )


def test_hindsight_promises_the_quantile_of_the_other_orders_of_the_lane():
    # 20 orders took 5 days, 2 took 9: the 95 % quantile of the others is 9 for a 5-day order
    # (two 9s among 21) and 5 for a 9-day order (one 9 among 21): it never sees its own days
    orders = [order(i, 5) for i in range(20)] + [order(20, 9), order(21, 9)]
    quoted = hindsight(orders)
    padding = [(q.promised - q.actual).days for q in quoted]
    assert padding == [4] * 20 + [-4, -4]
    assert {(q.most_likely - q.actual).days for q in quoted[:20]} == {0}


def test_a_thin_lane_is_promised_from_its_destination_state():
    # 3 orders from MG to RJ (too few to tell) took 2 days; RJ's 22 orders from SP took 5
    orders = [order(i, 5) for i in range(22)] + [order(30 + i, 2, origin="MG") for i in range(3)]
    quoted = hindsight(orders)
    assert [(q.promised - q.actual).days for q in quoted[22:]] == [3, 3, 3]


def test_the_backlog_replay_counts_each_parcel_from_its_order_as_production_does():
    """The same parcels as the shipments of tests/edd/test_backlog.py's order test."""
    now = MONDAY + timedelta(days=100)

    def parcel(i: int, ordered_days_ago: float, handling: float, transit: float | None):
        ordered = now - timedelta(days=ordered_days_ago)
        handed = ordered + timedelta(days=handling)
        delivered = handed + timedelta(days=transit) if transit is not None else None
        return replace(
            order(i, 0), ordered_at=ordered, handed_to_carrier_at=handed, delivered_at=delivered
        )

    records = [
        parcel(1, 63, 3, 4),  # delivered 56 days ago, before the window
        parcel(2, 10, 1, 6),  # delivered 3 days ago: 4 of the window's 7 days from its order
        parcel(3, 2, 5, None),  # ordered 2 days ago, handed over only in 3 days
        parcel(4, 3, 0, None),  # in flight 3 days
    ]
    # in working days of Brazil, 06:00 in Sao Paulo: the window is Wednesday 4 October to
    # now, Wednesday 11 at 06:00 (5.25 days); in it, parcel 2 spent 3 of them (to Sunday 8),
    # parcel 3 2 and parcel 4 2.25; order to delivery 5 each (Wednesday 9 August to 16,
    # Sunday 1 October to Sunday 8)
    replay = BacklogReplay(records, ModelConfig(), "America/Sao_Paulo")
    assert replay.backlog(now, TransitModel()) == {
        "olist:standard": Backlog(pytest.approx(7.25 / 5.25), 1, 5.0, pytest.approx(5.25))
    }
