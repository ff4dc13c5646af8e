"""Every parser of a carrier's answers is fed its golden payload mutated at each place, one
place at a time, the ways real answers differ from the documents' examples (`tests.mutations`).
Tracking: a mutation inside a list's item (a parcel, an event) is read or costs at most its own
parcel, never the others beside it, and never raises but as a `CarrierError`; one of the
envelope may cost the answer, refused as a `CarrierError`. A time without its offset loses
nothing: it is read in the scan's zone. Rates: one unreadable rate costs only itself. Labels:
a bought label is read or refused (its purchase then stays pending), never lost to its price."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from carriers.base import CarrierError
from carriers.convert import reading
from carriers.delhivery import mapping as delhivery
from carriers.dhl import mapping as dhl
from carriers.easypost import mapping as easypost
from carriers.ecpay import mapping as ecpay
from carriers.fedex import mapping as fedex
from carriers.kuaidi100 import mapping as kuaidi100
from carriers.sandbox import mapping as sandbox
from carriers.sf import mapping as sf
from carriers.tapin import mapping as tapin
from carriers.track17 import mapping as track17
from carriers.ups import mapping as ups
from carriers.usps import mapping as usps
from tests.carriers.carrier_contract import fixture
from tests.mutations import NO_OFFSET, mutations


# carrier, fixture, parser (the mapping function its adapter hands the decoded answer to, as
# the adapter calls it)
def inside_reading(parse: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """`parse` as an adapter calls it inside `carriers.convert.reading`, where a stray KeyError
    is the answer's refusal as a `CarrierResponseError`."""

    def read(body: Any) -> Any:
        with reading("carrier", "answer"):
            return parse(body)

    return read


PARSERS: list[tuple[str, str, Callable[[Any], Any]]] = [
    ("ups", "track_delivered", ups.parse_track_response),
    ("ups", "track_returned", ups.parse_track_response),
    ("ups", "track_alert", ups.parse_alerts),
    ("fedex", "track", fedex.parse_track_response),
    ("fedex", "track_three_numbers", fedex.parse_track_response),
    ("fedex", "webhook", fedex.parse_track_response),
    ("dhl", "shipment_delivered", inside_reading(dhl.tracking_updates)),
    ("dhl", "shipment_express_customs", inside_reading(dhl.tracking_updates)),
    ("easypost", "tracker_delivered", inside_reading(easypost.tracking_update)),
    (
        "easypost",
        "event_tracker_updated",
        inside_reading(lambda b: easypost.webhook_updates(json.dumps(b))),
    ),
    ("usps", "tracking_delivered", inside_reading(usps.tracking_update)),
    (
        "17track",
        "gettrackinfo",
        inside_reading(lambda b: track17.tracking_updates(track17.envelope_data(b))),
    ),
    ("17track", "push_updated", inside_reading(track17.push_updates)),
    ("kuaidi100", "query_result", inside_reading(kuaidi100.tracking_update)),
    ("kuaidi100", "push_param", inside_reading(kuaidi100.push_updates)),
    ("sf", "routes", inside_reading(lambda b: sf.tracking_updates(sf.result_data(b)))),
    ("sf", "route_push", inside_reading(sf.push_updates)),
    ("delhivery", "track_rto_batch", delhivery.parse_track_response),
    ("delhivery", "push_scan", delhivery.parse_push),
    ("tapin", "status_report", tapin.parse_report),
    ("ecpay", "push_tcat_delivered", ecpay.parse_push),
    ("sandbox", "tracking", sandbox.parse_tracking),
    ("sandbox", "webhook", lambda b: sandbox.parse_webhook_body(json.dumps(b).encode())),
]


def parcels(parsed: Any) -> dict[str, int]:
    """Each parcel read, with its number of events."""
    updates = parsed if isinstance(parsed, list) else [parsed] if parsed else []
    return {update.tracking_number: len(update.events) for update in updates}


@pytest.mark.parametrize(
    ("carrier", "name", "parse"),
    PARSERS,
    ids=[f"{c}-{n}" for c, n, *_ in PARSERS],
)
def test_a_mutated_answer_is_read_or_refused_and_costs_at_most_one_parcel(carrier, name, parse):
    golden = parcels(parse(fixture(carrier, name)))
    assert golden, "the golden payload reads"
    wrong = []
    for mutation in mutations(fixture(carrier, name)):
        try:
            kept = parcels(parse(mutation.document))
        except CarrierError as exc:
            if mutation.way == NO_OFFSET:
                wrong.append(f"{mutation.where}: refused, {exc!r}")
            if mutation.inside_item and len(golden) > 1:
                wrong.append(f"{mutation.where}: the whole answer refused, {exc!r}")
            continue
        except Exception as exc:  # noqa: BLE001 - every other escape is the failure reported
            wrong.append(f"{mutation.where}: {exc!r}")
            continue
        lost = [number for number in golden if number not in kept]
        if mutation.inside_item and len(lost) > 1:
            wrong.append(f"{mutation.where}: lost {lost}")
        if mutation.way == NO_OFFSET and kept != golden:
            wrong.append(f"{mutation.where}: read {kept}, not {golden}")
    assert wrong == []


def services(quotes: list) -> list[str]:
    return [quote.service for quote in quotes]


# carrier, fixture, rate parser (as its adapter calls it)
RATES: list[tuple[str, str, Callable[[Any], list]]] = [
    ("ups", "rate_shop", ups.parse_rate_response),
    ("fedex", "rate", fedex.parse_rate_response),
    ("easypost", "shipment", inside_reading(easypost.rate_quotes)),
]


@pytest.mark.parametrize(("carrier", "name", "parse"), RATES, ids=[r[0] for r in RATES])
def test_a_mutated_rate_answer_costs_at_most_the_rate_mutated(carrier, name, parse):
    golden = services(parse(fixture(carrier, name)))
    wrong = []
    for mutation in mutations(fixture(carrier, name)):
        try:
            kept = services(parse(mutation.document))
        except CarrierError as exc:
            if mutation.inside_item:
                wrong.append(f"{mutation.where}: every rate refused, {exc!r}")
            continue
        except Exception as exc:  # noqa: BLE001 - every other escape is the failure reported
            wrong.append(f"{mutation.where}: {exc!r}")
            continue
        if mutation.inside_item and len(set(golden) - set(kept)) > 1:
            wrong.append(f"{mutation.where}: quoted only {kept}")
    assert wrong == []


# carrier, fixture, label parser, where the label's price is written (None: not in the answer):
# a label is bought before its answer is read, so an unreadable price (optional: Label.price)
# must not lose it
LABELS: list[tuple[str, str, Callable[[Any], Any], tuple | None]] = [
    (
        "ups",
        "ship",
        lambda body: ups.parse_ship_response(body, "ground"),
        ("ShipmentResponse", "ShipmentResults", "NegotiatedRateCharges", "TotalCharge"),
    ),
    (
        "fedex",
        "ship",
        lambda body: fedex.parse_ship_response(body, "ground"),
        ("output", "transactionShipments", 0, "completedShipmentDetail", "shipmentRating"),
    ),
    (
        "easypost",
        "shipment_bought",
        inside_reading(lambda body: easypost.label(body, b"%PDF")),
        ("selected_rate",),
    ),
    ("tapin", "register", lambda body: tapin.parse_register(body, "post"), None),
    (
        "sf",
        "create_order",
        inside_reading(lambda body: sf.parse_order(sf.result_data(body, buys=True), "standard")),
        None,
    ),
]


@pytest.mark.parametrize(("carrier", "name", "parse", "price"), LABELS, ids=[r[0] for r in LABELS])
def test_a_bought_label_is_read_or_refused_and_an_unreadable_price_costs_only_the_price(
    carrier, name, parse, price
):
    golden = parse(fixture(carrier, name))
    wrong = []
    for mutation in mutations(fixture(carrier, name)):
        try:
            label = parse(mutation.document)
        except CarrierError:
            continue  # the purchase stays pending for ops: `label_purchases.nothing_bought`
        except Exception as exc:  # noqa: BLE001 - every other escape is the failure reported
            wrong.append(f"{mutation.where}: {exc!r}")
            continue
        if (
            price
            and mutation.path[: len(price)] == price
            and label.tracking_number != golden.tracking_number
        ):
            wrong.append(f"{mutation.where}: read as {label.tracking_number!r}")
    assert wrong == []


@pytest.mark.parametrize(
    ("carrier", "name", "parse", "amount", "tracking_number"),
    [
        (
            "ups",
            "ship",
            lambda body: ups.parse_ship_response(body, "ground"),
            ("ShipmentResponse", "ShipmentResults", "NegotiatedRateCharges", "TotalCharge"),
            "1Z2220060290602143",
        ),
        (
            "fedex",
            "ship",
            lambda body: fedex.parse_ship_response(body, "ground"),
            (
                "output",
                "transactionShipments",
                0,
                "completedShipmentDetail",
                "shipmentRating",
                "shipmentRateDetails",
                0,
            ),
            "794953535000",
        ),
    ],
    ids=["ups", "fedex"],
)
def test_a_label_whose_price_reads_na_is_kept_without_a_price(
    carrier, name, parse, amount, tracking_number
):
    body = fixture(carrier, name)
    node = body
    for key in amount:
        node = node[key]
    node["MonetaryValue" if carrier == "ups" else "totalNetCharge"] = "N/A"
    label = parse(body)
    assert (label.tracking_number, label.price) == (tracking_number, None)


def test_a_create_answer_with_a_null_package_is_refused_as_unreadable():
    body = fixture("delhivery", "create_success")
    body["packages"] = [None]
    with pytest.raises(CarrierError):
        delhivery.created_waybill(body)
