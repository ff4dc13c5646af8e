"""Every tracking parser is fed its golden payload mutated at each place, one place at a time,
the ways real answers differ from the documents' examples (`tests.mutations`). A mutation
inside a list's item (a parcel, an event) is read or costs at most its own parcel, never the
others beside it, and never raises but as a `CarrierError`; one of the envelope may cost the
answer, refused as a `CarrierError` (a stray KeyError where the adapter reads the parser
inside `carriers.convert.reading`). A time without its offset loses nothing: it is read in
the scan's zone."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from carriers.base import CarrierError
from carriers.convert import SHAPE_ERRORS
from carriers.delhivery import mapping as delhivery
from carriers.dhl import mapping as dhl
from carriers.easypost import mapping as easypost
from carriers.ecpay import mapping as ecpay
from carriers.fedex import mapping as fedex
from carriers.kuaidi100 import mapping as kuaidi100
from carriers.sf import mapping as sf
from carriers.tapin import mapping as tapin
from carriers.track17 import mapping as track17
from carriers.ups import mapping as ups
from carriers.usps import mapping as usps
from tests.carriers.carrier_contract import fixture
from tests.mutations import NO_OFFSET, mutations

# carrier, fixture, parser (the mapping function its adapter hands the decoded answer to),
# whether the adapter calls it inside `reading` (which turns a stray KeyError into a refusal)
PARSERS: list[tuple[str, str, Callable[[Any], Any], bool]] = [
    ("ups", "track_delivered", ups.parse_track_response, False),
    ("ups", "track_returned", ups.parse_track_response, False),
    ("ups", "track_alert", ups.parse_alerts, False),
    ("fedex", "track", fedex.parse_track_response, False),
    ("fedex", "track_three_numbers", fedex.parse_track_response, False),
    ("fedex", "webhook", fedex.parse_track_response, False),
    ("dhl", "shipment_delivered", dhl.tracking_updates, True),
    ("dhl", "shipment_express_customs", dhl.tracking_updates, True),
    ("easypost", "tracker_delivered", easypost.tracking_update, True),
    ("easypost", "event_tracker_updated", lambda b: easypost.webhook_updates(json.dumps(b)), True),
    ("usps", "tracking_delivered", usps.tracking_update, True),
    (
        "17track",
        "gettrackinfo",
        lambda b: track17.tracking_updates(track17.envelope_data(b)),
        True,
    ),
    ("17track", "push_updated", track17.push_updates, True),
    ("kuaidi100", "query_result", kuaidi100.tracking_update, True),
    ("kuaidi100", "push_param", kuaidi100.push_updates, True),
    ("sf", "routes", lambda b: sf.tracking_updates(sf.result_data(b)), True),
    ("sf", "route_push", sf.push_updates, True),
    ("delhivery", "track_rto_batch", delhivery.parse_track_response, False),
    ("delhivery", "push_scan", delhivery.parse_push, False),
    ("tapin", "status_report", tapin.parse_report, False),
    ("ecpay", "push_tcat_delivered", ecpay.parse_push, False),
]


def parcels(parsed: Any) -> dict[str, int]:
    """Each parcel read, with its number of events."""
    updates = parsed if isinstance(parsed, list) else [parsed] if parsed else []
    return {update.tracking_number: len(update.events) for update in updates}


@pytest.mark.parametrize(
    ("carrier", "name", "parse", "read_inside_reading"),
    PARSERS,
    ids=[f"{c}-{n}" for c, n, *_ in PARSERS],
)
def test_a_mutated_answer_is_read_or_refused_and_costs_at_most_one_parcel(
    carrier, name, parse, read_inside_reading
):
    golden = parcels(parse(fixture(carrier, name)))
    assert golden, "the golden payload reads"
    refusals = (CarrierError, *SHAPE_ERRORS) if read_inside_reading else (CarrierError,)
    wrong = []
    for mutation in mutations(fixture(carrier, name)):
        try:
            kept = parcels(parse(mutation.document))
        except refusals as exc:
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
