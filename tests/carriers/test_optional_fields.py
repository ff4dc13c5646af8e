"""A field the carriers' documents mark optional, filled in a way the document does not show,
costs only that field: the carrier's estimated delivery that cannot be read is dropped and
the events beside it are kept; a pushed route without its waybill is skipped, not the push."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from carriers.convert import read_optional
from carriers.delhivery import mapping as delhivery
from carriers.dhl import mapping as dhl
from carriers.easypost import mapping as easypost
from carriers.fedex import mapping as fedex
from carriers.kuaidi100 import mapping as kuaidi100
from carriers.sf import mapping as sf
from carriers.track17 import mapping as track17
from carriers.ups import mapping as ups
from carriers.usps import mapping as usps
from tests.carriers.carrier_contract import fixture


def _set(document: Any, path: tuple, value: Any) -> Any:
    node = document
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return document


ESTIMATES: list[tuple[str, str, tuple, Callable[[Any], Any], str, int]] = [
    # carrier, fixture, the estimate's place, parser, tracking number, events kept
    (
        "easypost",
        "tracker_delivered",
        ("est_delivery_date",),
        easypost.tracking_update,
        "9400110898825022579493",
        6,
    ),
    (
        "usps",
        "tracking_delivered",
        ("expectedDeliveryTimeStamp",),
        usps.tracking_update,
        "9400109104250532908587",
        6,
    ),
    (
        "17track",
        "push_updated",
        ("data", "track_info", "time_metrics", "estimated_delivery_date", "to"),
        lambda body: track17.push_updates(body)[0],
        "123456789012",
        4,
    ),
    (
        "kuaidi100",
        "query_result",
        ("arrivalTime",),
        kuaidi100.tracking_update,
        "73100012345678",
        4,
    ),
    (
        "ups",
        "track_delivered",
        ("trackResponse", "shipment", 0, "package", 0, "deliveryDate", 1, "date"),
        lambda body: ups.parse_track_response(body)[0],
        "1Z023E2X0214323462",
        6,
    ),
    (
        "ups",
        "track_alert",
        ("scheduledDeliveryDate",),
        lambda body: ups.parse_alerts(body)[0],
        "1Z023E2X0214323462",
        1,
    ),
    (
        "fedex",
        "webhook",
        ("trackResults", 0, "dateAndTimes", 0, "dateTime"),
        lambda body: fedex.parse_track_response(body)[0],
        "776094337676",
        1,
    ),
    (
        "delhivery",
        "track_cod_delivered",
        ("ShipmentData", 0, "Shipment", "ExpectedDeliveryDate"),
        lambda body: delhivery.parse_track_response(body)[0],
        "1490811234567",
        5,
    ),
    (
        "dhl",
        "shipment_delivered",
        ("shipments", 0, "estimatedTimeOfDelivery"),
        lambda body: dhl.tracking_updates(body)[0],
        "00340434292135100186",
        5,
    ),
]


@pytest.mark.parametrize("written", ["3-5 business days", "TBD", 20241122])
@pytest.mark.parametrize(
    ("carrier", "name", "path", "parse", "number", "events"),
    ESTIMATES,
    ids=[f"{case[0]}-{case[1]}" for case in ESTIMATES],
)
def test_an_unreadable_estimate_is_dropped_and_the_events_kept(
    carrier, name, path, parse, number, events, written
):
    update = parse(_set(fixture(carrier, name), path, written))
    assert (update.tracking_number, len(update.events), update.estimated_delivery) == (
        number,
        events,
        None,
    )


def test_a_pushed_route_without_its_waybill_is_skipped_not_the_push():
    body = fixture("sf", "route_push")
    del body["Body"]["WaybillRoute"][0]["mailno"]
    updates = sf.push_updates(body)
    assert [(u.tracking_number, len(u.events)) for u in updates] == [
        ("SF1301234567890", 1),
        ("SF1307777777770", 1),
    ]


@pytest.mark.parametrize("absent", [None, "", [], {}])
def test_an_absent_optional_field_is_not_read_nor_counted_unreadable(absent):
    def read(value):
        raise AssertionError(f"read {value!r}")

    assert read_optional("fedex", "label price", absent, read) is None
