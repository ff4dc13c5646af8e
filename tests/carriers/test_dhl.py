"""DHL adapter against payloads shaped like the Unified Tracking API (see each fixture)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import requests

from carriers.base import (
    Capability,
    CarrierAccount,
    CarrierRateLimited,
    CarrierRejected,
    CarrierResponseError,
    CarrierUnavailable,
    NotSupported,
)
from carriers.dhl import DHLCarrier
from carriers.dhl.mapping import classify
from carriers.registry import get_carrier_class
from shipflow.domain import ProofOfDelivery, Reason, Status, TrackingEvent, TrackingUpdate
from tests.carriers.carrier_contract import Contract, Operation, fixture

URL = "https://api-eu.dhl.com/track/shipments"
NUMBER = "00340434292135100186"
CET = timezone(timedelta(hours=1))


BONN = dict(location="53113 Bonn, DE", city="Bonn", postal_code="53113", country="DE")
DELIVERED = TrackingUpdate(
    carrier="dhl",
    tracking_number=NUMBER,
    events=(
        TrackingEvent(
            Status.DELIVERED,
            datetime(2024, 11, 22, 14, 21, tzinfo=CET),
            "delivered",
            "DELIVERED - The shipment has been delivered to the recipient.",
            None,
            **BONN,
        ),
        TrackingEvent(
            Status.OUT_FOR_DELIVERY,
            datetime(2024, 11, 22, 8, 5, tzinfo=CET),
            "transit",
            "With delivery courier - The shipment has been loaded onto the delivery vehicle.",
            None,
            **BONN,
        ),
        TrackingEvent(
            Status.ATTEMPT_FAILED,
            datetime(2024, 11, 21, 16, 40, tzinfo=CET),
            "failure",
            "Delivery attempted; recipient not home - The recipient "
            "was not at home. A notification card was left.",
            Reason.CUSTOMER_UNAVAILABLE,
            **BONN,
        ),
        TrackingEvent(
            Status.IN_TRANSIT,
            datetime(2024, 11, 20, 22, 13, tzinfo=CET),
            "transit",
            "Processed at KOELN - GERMANY - The shipment has been processed in the parcel center.",
            None,
            "50679 Koeln, DE",
            "Koeln",
            "",
            "50679",
            "DE",
        ),
        TrackingEvent(
            Status.INFO_RECEIVED,
            datetime(2024, 11, 19, 10, tzinfo=CET),  # no place: Bonn to Bonn stays in Germany
            "pre-transit",
            "Shipment information received - The instruction "
            "data for this shipment have been provided by the sender to DHL "
            "electronically",
        ),
    ),
    estimated_delivery=datetime(2024, 11, 22, 18, tzinfo=CET),
    service="parcel-de",
    proof_of_delivery=ProofOfDelivery(
        "Maria Muster", "https://www.dhl.de/pod/00340434292135100186.png"
    ),
)


@pytest.fixture
def carrier() -> DHLCarrier:
    return make_carrier()


def make_carrier() -> DHLCarrier:
    account = CarrierAccount(
        "dhl", "dhl-test", {"api_key": "key-1"}, sandbox=False, rate_limit_per_second=1000
    )
    return DHLCarrier(account)


CONTRACT = Contract(
    carrier="dhl",
    make=make_carrier,
    error_message="Parameter 'service' has invalid value 'teleport'.",
    error_fixture="problem_bad_request",
)
OPERATIONS = [
    Operation("track", "GET", URL, "shipment_delivered", lambda c: c.track([NUMBER]), [DELIVERED])
]


test_operation_contract = CONTRACT.test_for(OPERATIONS)


def test_registry_names_the_adapter():
    assert get_carrier_class("dhl") is DHLCarrier


def test_tracking_parses_every_field(carrier, mocked):
    mocked.get(f"{URL}?trackingNumber={NUMBER}", json=fixture("dhl", "shipment_delivered"))
    assert carrier.track([NUMBER]) == [DELIVERED]
    assert mocked.calls[0].request.headers["DHL-API-Key"] == "key-1"


def test_unknown_number_is_left_out(carrier, mocked):
    mocked.get(
        URL,
        status=404,
        json=fixture("dhl", "problem_not_found"),
        content_type="application/problem+json",
    )
    assert carrier.track(["nope"]) == []


def test_problem_body_becomes_carrier_rejected(carrier, mocked):
    mocked.get(
        URL,
        status=400,
        json=fixture("dhl", "problem_bad_request"),
        content_type="application/problem+json",
    )
    with pytest.raises(CarrierRejected) as caught:
        carrier.track([NUMBER])
    assert caught.value.carrier_message == "Parameter 'service' has invalid value 'teleport'."


def test_429_is_retried_after_retry_after(carrier, mocked):
    mocked.get(
        URL, status=429, headers={"Retry-After": "0"}, json=fixture("dhl", "problem_rate_limited")
    )
    mocked.get(URL, json=fixture("dhl", "shipment_delivered"))
    assert carrier.track([NUMBER])[0].tracking_number == NUMBER


# RFC 9110 allows seconds or an HTTP date; a past date means no wait (it was read as unknown).
@pytest.mark.parametrize("retry_after", ["0", "Wed, 21 Oct 2015 07:28:00 GMT"])
def test_429_after_retries_is_rate_limited(carrier, mocked, retry_after):
    for _ in range(4):
        mocked.get(
            URL,
            status=429,
            headers={"Retry-After": retry_after},
            json=fixture("dhl", "problem_rate_limited"),
        )
    with pytest.raises(CarrierRateLimited) as caught:
        carrier.track([NUMBER])
    assert caught.value.retry_after == 0
    assert "Daily limit of 250 calls exceeded" in caught.value.carrier_message


def test_timeout_is_carrier_unavailable(carrier, mocked):
    mocked.get(URL, body=requests.ReadTimeout("read timed out"))
    with pytest.raises(CarrierUnavailable):
        carrier.track([NUMBER])


def test_malformed_json_is_a_response_error(carrier, mocked):
    mocked.get(URL, body='{"shipments": [', content_type="application/json")
    with pytest.raises(CarrierResponseError):
        carrier.track([NUMBER])


def test_event_without_timestamp_is_skipped_and_kept(carrier, mocked):
    shipment = fixture("dhl", "shipment_delivered")["shipments"][0]
    bad = {**shipment["events"][1]}
    del bad["timestamp"]
    shipment["events"][1] = bad
    mocked.get(URL, json={"shipments": [shipment, {"status": {"statusCode": "transit"}}]})
    [update] = carrier.track([NUMBER])
    assert len(update.events) == 4
    [skipped] = update.unreadable
    assert json.loads(skipped.raw) == bad and "timestamp" in skipped.error


def test_event_without_offset_is_read_in_its_locations_zone(carrier, mocked):
    shipment = fixture("dhl", "shipment_delivered")["shipments"][0]
    shipment["events"] = [{**shipment["events"][0], "timestamp": "2024-11-22T14:21:00"}]
    mocked.get(URL, json={"shipments": [shipment]})
    [update] = carrier.track([NUMBER])
    assert update.events[0].occurred_at == datetime(2024, 11, 22, 14, 21, tzinfo=CET)


def test_placeless_event_of_a_cross_border_shipment_stays_utc(carrier, mocked):
    """Only a shipment that stays in one country says where its placeless events happened."""
    shipment = fixture("dhl", "shipment_delivered")["shipments"][0]
    shipment["destination"]["address"] = {"countryCode": "AT", "addressLocality": "Wien"}
    mocked.get(URL, json={"shipments": [shipment]})
    [update] = carrier.track([NUMBER])
    assert update.events[-1].occurred_at == datetime(2024, 11, 19, 10, tzinfo=UTC)


def test_estimate_without_offset_is_read_at_the_destination(carrier, mocked):
    shipment = fixture("dhl", "shipment_delivered")["shipments"][0]
    shipment["estimatedTimeOfDelivery"] = "2024-11-22T18:00:00"
    mocked.get(URL, json={"shipments": [shipment]})
    [update] = carrier.track([NUMBER])
    assert update.estimated_delivery == datetime(2024, 11, 22, 18, tzinfo=CET)


def test_without_a_time_of_delivery_the_estimated_window_end_is_the_estimate(carrier, mocked):
    shipment = fixture("dhl", "shipment_delivered")["shipments"][0]
    del shipment["estimatedTimeOfDelivery"]
    shipment["estimatedDeliveryTimeFrame"] = {
        "estimatedFrom": "2024-11-22T10:00:00+01:00",
        "estimatedThrough": "2024-11-22T14:00:00+01:00",
    }
    mocked.get(URL, json={"shipments": [shipment]})
    [update] = carrier.track([NUMBER])
    assert update.estimated_delivery == datetime(2024, 11, 22, 14, tzinfo=CET)


def test_tracking_only(carrier):
    assert carrier.capabilities == {Capability.TRACKING_POLL}
    with pytest.raises(NotSupported):
        carrier.rates(None)
    with pytest.raises(NotSupported):
        carrier.create_label(None)


S, R = Status, Reason


@pytest.mark.parametrize(
    ("code", "status", "reason"),
    [
        ("pre-transit", S.INFO_RECEIVED, None),
        ("transit", S.IN_TRANSIT, None),
        ("delivered", S.DELIVERED, None),
        ("failure", S.EXCEPTION, None),
        ("unknown", S.IN_TRANSIT, None),
        ("not-a-dhl-code", S.IN_TRANSIT, None),
    ],
)
def test_every_status_code(code, status, reason):
    assert classify(code, "") == (status, reason)


@pytest.mark.parametrize(
    ("code", "text", "status", "reason"),
    [
        ("transit", "Returned to shipper", S.RETURNED_TO_SENDER, None),
        ("failure", "Recipient refused delivery", S.RETURNING_TO_SENDER, R.REFUSED),
        ("transit", "With delivery courier", S.OUT_FOR_DELIVERY, None),
        (
            "failure",
            "Delivery attempted; recipient not home",
            S.ATTEMPT_FAILED,
            R.CUSTOMER_UNAVAILABLE,
        ),
        ("failure", "Address information needed; contact DHL", S.EXCEPTION, R.ADDRESS_INCORRECT),
        (
            "transit",
            "The shipment is ready for pick up at the PACKSTATION",
            S.AVAILABLE_FOR_PICKUP,
            None,
        ),
        ("transit", "Clearance delay", S.EXCEPTION, R.CUSTOMS_HOLD),
        ("transit", "Delayed due to weather", S.IN_TRANSIT, R.WEATHER),
        ("transit", "Missed connection, shipment delay", S.IN_TRANSIT, R.CARRIER_DELAY),
        ("failure", "Shipment on hold", S.EXCEPTION, R.HELD_BY_CARRIER),
    ],
)
def test_event_text_qualifies_the_coarse_code(code, text, status, reason):
    assert classify(code, text) == (status, reason)


def test_routine_customs_clearance_is_not_an_exception():
    assert classify("transit", "Customs clearance status updated") == (Status.IN_TRANSIT, None)


def test_delivered_is_not_downgraded_by_text():
    assert classify("delivered", "Delivered, payment required") == (Status.DELIVERED, None)


def test_express_shipment_with_numeric_id_and_remark(carrier, mocked):
    mocked.get(f"{URL}?trackingNumber=7777777770", json=fixture("dhl", "shipment_express_customs"))
    assert carrier.track(["7777777770"]) == [
        TrackingUpdate(
            carrier="dhl",
            tracking_number="7777777770",
            events=(
                TrackingEvent(
                    Status.EXCEPTION,
                    # No offset given: read in the scan location's zone (Amsterdam).
                    datetime(2018, 3, 2, 7, 53, 47, tzinfo=ZoneInfo("Europe/Amsterdam")),
                    "transit",
                    "CUSTOMS - Clearance event - The shipment is pending completion of customs "
                    "inspection.",
                    Reason.CUSTOMS_HOLD,
                    "1043 AG Oderweg 2, AMSTERDAM, NL",
                    "Oderweg 2, AMSTERDAM",
                    "",
                    "1043 AG",
                    "NL",
                ),
            ),
            estimated_delivery=datetime(2018, 8, 3, tzinfo=UTC),
            service="express",
        )
    ]
