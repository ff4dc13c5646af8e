"""DHL adapter against payloads shaped like the Unified Tracking API (see each fixture)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

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
from carriers.dhl.units import EVENT_TEXTS, STATUS_CODES
from carriers.registry import get_carrier_class
from shipflow.domain import ProofOfDelivery, Reason, Status, TrackingEvent, TrackingUpdate
from tests.carriers.carrier_contract import fixture

URL = "https://api-eu.dhl.com/track/shipments"
NUMBER = "00340434292135100186"
CET = timezone(timedelta(hours=1))


@pytest.fixture
def carrier() -> DHLCarrier:
    account = CarrierAccount(
        "dhl", "dhl-test", {"api_key": "key-1"}, sandbox=False, rate_limit_per_second=1000
    )
    return DHLCarrier(account)


def test_registry_names_the_adapter():
    assert get_carrier_class("dhl") is DHLCarrier


def test_tracking_parses_every_field(carrier, mocked):
    mocked.get(f"{URL}?trackingNumber={NUMBER}", json=fixture("dhl", "shipment_delivered"))
    bonn = dict(location="53113 Bonn, DE", city="Bonn", postal_code="53113", country="DE")
    assert carrier.track([NUMBER]) == [
        TrackingUpdate(
            carrier="dhl",
            tracking_number=NUMBER,
            events=(
                TrackingEvent(
                    Status.DELIVERED,
                    datetime(2024, 11, 22, 14, 21, tzinfo=CET),
                    "delivered",
                    "DELIVERED - The shipment has been delivered to the recipient.",
                    None,
                    **bonn,
                ),
                TrackingEvent(
                    Status.OUT_FOR_DELIVERY,
                    datetime(2024, 11, 22, 8, 5, tzinfo=CET),
                    "transit",
                    "With delivery courier - The shipment has been loaded "
                    "onto the delivery vehicle.",
                    None,
                    **bonn,
                ),
                TrackingEvent(
                    Status.ATTEMPT_FAILED,
                    datetime(2024, 11, 21, 16, 40, tzinfo=CET),
                    "failure",
                    "Delivery attempted; recipient not home - The recipient "
                    "was not at home. A notification card was left.",
                    Reason.CUSTOMER_UNAVAILABLE,
                    **bonn,
                ),
                TrackingEvent(
                    Status.IN_TRANSIT,
                    datetime(2024, 11, 20, 22, 13, tzinfo=CET),
                    "transit",
                    "Processed at KOELN - GERMANY - The shipment has been "
                    "processed in the parcel center.",
                    None,
                    "50679 Koeln, DE",
                    "Koeln",
                    "",
                    "50679",
                    "DE",
                ),
                TrackingEvent(
                    Status.INFO_RECEIVED,
                    datetime(2024, 11, 19, 10, tzinfo=UTC),
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
    ]
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


def test_429_after_retries_is_rate_limited(carrier, mocked):
    for _ in range(4):
        mocked.get(
            URL,
            status=429,
            headers={"Retry-After": "0"},
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


def test_missing_timestamp_is_a_response_error(carrier, mocked):
    mocked.get(URL, json={"shipments": [{"id": NUMBER, "status": {"statusCode": "transit"}}]})
    with pytest.raises(CarrierResponseError):
        carrier.track([NUMBER])


def test_tracking_only(carrier):
    assert carrier.capabilities == {Capability.TRACKING_POLL}
    with pytest.raises(NotSupported):
        carrier.rates(None)
    with pytest.raises(NotSupported):
        carrier.create_label(None)


@pytest.mark.parametrize(("code", "expected"), sorted(STATUS_CODES.items()))
def test_every_status_code(code, expected):
    assert classify(code, "") == expected


TEXT_EXAMPLES = {
    0: "Returned to shipper",
    1: "Recipient refused delivery",
    2: "The shipment is being returned",
    3: "With delivery courier",
    4: "Delivery attempted; recipient not home",
    5: "Closed on arrival",
    6: "No access to the delivery address",
    7: "Address information needed; contact DHL",
    8: "The shipment is ready for pick up at the PACKSTATION",
    9: "Clearance delay",
    10: "Shipment on hold, duties payment required",
    11: "Delayed due to weather",
    12: "The shipment was damaged",
    13: "The shipment cannot be located",
    14: "Missed connection, shipment delay",
    15: "Shipment on hold",
}


@pytest.mark.parametrize("index", range(len(EVENT_TEXTS)))
def test_every_event_text_pattern(index):
    _, status, reason = EVENT_TEXTS[index]
    assert classify("transit", TEXT_EXAMPLES[index]) == (status, reason)


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
                    datetime(2018, 3, 2, 7, 53, 47, tzinfo=UTC),  # no offset given: UTC
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
