"""USPS adapter against payloads shaped like the USPS v3 APIs (see each fixture's source)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import requests

from carriers.base import (
    CarrierAccount,
    CarrierAuthError,
    CarrierOutcomeUnknown,
    CarrierRateLimited,
    CarrierRejected,
    CarrierResponseError,
    CarrierUnavailable,
    Label,
    NotSupported,
    RateQuote,
    ShipmentRequest,
)
from carriers.registry import get_carrier_class
from carriers.usps import USPSCarrier
from carriers.usps.mapping import tracking_event
from shipflow.domain import (
    Address,
    Money,
    Parcel,
    ProofOfDelivery,
    Reason,
    Status,
    TrackingEvent,
    TrackingUpdate,
)
from tests.carriers.carrier_contract import Contract, Operation, fixture

BASE = "https://apis-tem.usps.com"
EST = timezone(timedelta(hours=-5))
NUMBER = "9400109104250532908587"
REQUEST = ShipmentRequest(
    shipper=Address("US", "63116", "St. Louis", "MO", "4120 Bingham", name="John Smith"),
    recipient=Address("US", "63118", "St. Louis", "MO", "1100 Wyoming", "Suite 150", "Joe Doe"),
    parcels=[Parcel(weight_g=1000, length_mm=229, width_mm=152, height_mm=51)],
    service="ground_advantage",
    ship_date=date(2024, 7, 15),
)


def event(status, reason, code, text, when, city="", state="", zip_=""):
    place = ", ".join(p for p in (city, f"{state} {zip_}".strip()) if p)
    return TrackingEvent(status, when, code, text, reason, place, city, state, zip_, "US")


DELIVERED = TrackingUpdate(
    carrier="usps",
    tracking_number=NUMBER,
    events=(
        event(
            Status.DELIVERED,
            None,
            "01",
            "Delivered, Left with Individual",
            datetime(2024, 11, 22, 13, 58, tzinfo=EST),
            "HERNANDO",
            "FL",
            "34442",
        ),
        event(
            Status.OUT_FOR_DELIVERY,
            None,
            "OF",
            "Out for Delivery",
            datetime(2024, 11, 22, 9, 10, tzinfo=EST),
            "HERNANDO",
            "FL",
            "34442",
        ),
        event(
            Status.ATTEMPT_FAILED,
            Reason.CUSTOMER_UNAVAILABLE,
            "02",
            "Notice Left (No Authorized Recipient Available)",
            datetime(2024, 11, 21, 15, 20, tzinfo=EST),
            "HERNANDO",
            "FL",
            "34442",
        ),
        event(
            Status.IN_TRANSIT,
            None,
            "TL",
            "In Transit to Next Facility",
            datetime(2024, 11, 20, 1, 11, tzinfo=EST),
        ),
        event(
            Status.IN_TRANSIT,
            None,
            "03",
            "USPS in possession of item",
            datetime(2024, 11, 18, 11, 10, tzinfo=EST),
            "JAMAICA",
            "NY",
            "11430",
        ),
        event(
            Status.INFO_RECEIVED,
            None,
            "GX",
            "Shipping Label Created, USPS Awaiting Item",
            datetime(2024, 11, 15, 11, 32, tzinfo=EST),
            "SPRINGFIELD GARDENS",
            "NY",
            "11413",
        ),
    ),
    estimated_delivery=datetime(2024, 11, 22, 21, tzinfo=UTC),
    service="USPS Ground Advantage",
    proof_of_delivery=ProofOfDelivery(signed_by="J SMITH"),
    extra={"status_category": "Delivered"},
)


def make_carrier() -> USPSCarrier:
    account = CarrierAccount(
        "usps",
        "usps-test",
        {
            "client_id": "id",
            "client_secret": "secret",
            "crid": "56982563",
            "mid": "904128936",
            "account_number": "1000405525",
        },
        rate_limit_per_second=1000,
    )
    return USPSCarrier(account)


@pytest.fixture
def carrier() -> USPSCarrier:
    return make_carrier()


def token(mocked, access_token: str = "eyJUSPS.first") -> None:
    mocked.post(
        f"{BASE}/oauth2/v3/token",
        json={**fixture("usps", "oauth_token"), "access_token": access_token},
    )


def payment(mocked) -> None:
    mocked.post(
        f"{BASE}/payments/v3/payment-authorization", json=fixture("usps", "payment_authorization")
    )


CONTRACT = Contract(
    carrier="usps",
    make=make_carrier,
    token_url=f"{BASE}/oauth2/v3/token",
    error_message='OASValidation OpenAPI-Spec-Validation-Prices with resource "/base-rates/search": '
    "failed with reason; destinationZIPCode must match pattern ^\\d{5}$",
    error_fixture="error_bad_request",
)
OPERATIONS = [
    Operation(
        "track",
        "GET",
        f"{BASE}/tracking/v3/tracking/{NUMBER}",
        "tracking_delivered",
        lambda c: c.track([NUMBER]),
        [DELIVERED],
    ),
    Operation(
        "rates",
        "POST",
        f"{BASE}/prices/v3/base-rates/search",
        "base_rates",
        lambda c: c.rates(REQUEST),
        [RateQuote("usps", "ground_advantage", Money(945, "USD"))],
    ),
]


test_operation_contract = CONTRACT.test_for(OPERATIONS)


def test_registry_names_the_adapter():
    assert get_carrier_class("usps") is USPSCarrier


def test_tracking_parses_every_field(carrier, mocked):
    token(mocked)
    mocked.get(
        f"{BASE}/tracking/v3/tracking/{NUMBER}?expand=DETAIL",
        json=fixture("usps", "tracking_delivered"),
    )
    assert carrier.track([NUMBER]) == [DELIVERED]
    assert (
        mocked.calls[0].request.body
        == "grant_type=client_credentials&client_id=id&client_secret=secret"
    )
    assert mocked.calls[1].request.headers["Authorization"] == "Bearer eyJUSPS.first"


def test_tracking_leaves_out_unknown_and_eventless_numbers(carrier, mocked):
    token(mocked)
    mocked.get(
        f"{BASE}/tracking/v3/tracking/unknown", status=404, json=fixture("usps", "error_not_found")
    )
    mocked.get(
        f"{BASE}/tracking/v3/tracking/9400100000000000000000",
        json=fixture("usps", "tracking_label_only"),
    )
    assert carrier.track(["unknown", "9400100000000000000000"]) == []


def test_expired_token_is_refreshed_and_the_call_retried(carrier, mocked):
    token(mocked, "old")
    mocked.get(
        f"{BASE}/tracking/v3/tracking/{NUMBER}",
        status=401,
        json={"error": "invalid_token", "error_description": "token expired"},
    )
    token(mocked, "new")
    mocked.get(f"{BASE}/tracking/v3/tracking/{NUMBER}", json=fixture("usps", "tracking_delivered"))
    assert carrier.track([NUMBER])[0].tracking_number == NUMBER
    assert mocked.calls[3].request.headers["Authorization"] == "Bearer new"


def test_rate_limit_is_retried_after_the_carriers_delay(carrier, mocked):
    token(mocked)
    url = f"{BASE}/tracking/v3/tracking/{NUMBER}"
    mocked.get(url, status=429, headers={"Retry-After": "0"}, json={})
    mocked.get(url, json=fixture("usps", "tracking_delivered"))
    assert len(carrier.track([NUMBER])) == 1


def test_tracking_read_is_asked_again_after_a_bad_gateway(carrier, mocked):
    token(mocked)
    url = f"{BASE}/tracking/v3/tracking/{NUMBER}"
    mocked.get(url, status=502, json={})
    mocked.get(url, json=fixture("usps", "tracking_delivered"))
    assert len(carrier.track([NUMBER])) == 1


@pytest.mark.parametrize("answer", [{"status": 502}, {"body": requests.ReadTimeout("read")}])
def test_label_is_bought_once_when_usps_may_have_sold_it(carrier, mocked, answer):
    token(mocked)
    payment(mocked)
    label = mocked.post(f"{BASE}/labels/v3/label", **answer)
    with pytest.raises(CarrierOutcomeUnknown, match="not repeated"):
        carrier.create_label(REQUEST)
    assert label.call_count == 1


def test_cancel_is_sent_once_on_a_server_error(carrier, mocked):
    token(mocked)
    payment(mocked)
    cancel = mocked.delete(f"{BASE}/labels/v3/label/9205590109769900012613", status=500)
    with pytest.raises(CarrierOutcomeUnknown):
        carrier.cancel("9205590109769900012613")
    assert cancel.call_count == 1


def test_timeout_is_carrier_unavailable(carrier, mocked):
    token(mocked)
    mocked.get(f"{BASE}/tracking/v3/tracking/{NUMBER}", body=requests.Timeout("read timed out"))
    with pytest.raises(CarrierUnavailable, match="timed out"):
        carrier.track([NUMBER])


def test_malformed_json_is_a_response_error(carrier, mocked):
    token(mocked)
    mocked.get(f"{BASE}/tracking/v3/tracking/{NUMBER}", body="<html>gateway</html>")
    with pytest.raises(CarrierResponseError):
        carrier.track([NUMBER])


def test_payload_of_wrong_shape_is_a_response_error(carrier, mocked):
    token(mocked)
    mocked.get(f"{BASE}/tracking/v3/tracking/{NUMBER}", json={"trackingEvents": []})
    mocked.get(f"{BASE}/tracking/v3/tracking/{NUMBER}", json={"trackingEvents": [{}]})
    assert carrier.track([NUMBER]) == []  # no event yet
    with pytest.raises(CarrierResponseError):
        carrier.track([NUMBER])  # events but no tracking number


def test_event_without_code_nor_time_is_skipped_and_kept(carrier, mocked):
    token(mocked)
    payload = fixture("usps", "tracking_delivered")
    payload["trackingEvents"][1] = {"eventType": "no code"}
    mocked.get(f"{BASE}/tracking/v3/tracking/{NUMBER}", json=payload)
    [update] = carrier.track([NUMBER])
    assert [e.raw_code for e in update.events] == ["01", "02", "TL", "03", "GX"]
    [skipped] = update.unreadable
    assert json.loads(skipped.raw) == {"eventType": "no code"}


def test_rates(carrier, mocked):
    token(mocked)
    mocked.post(f"{BASE}/prices/v3/base-rates/search", json=fixture("usps", "base_rates"))
    assert carrier.rates(REQUEST) == [RateQuote("usps", "ground_advantage", Money(945, "USD"))]
    assert json.loads(mocked.calls[1].request.body) == {
        "originZIPCode": "63116",
        "destinationZIPCode": "63118",
        "priceType": "RETAIL",
        "mailClass": "USPS_GROUND_ADVANTAGE",
        "rateIndicator": "SP",
        "weight": 2.21,
        "length": 9.02,
        "width": 5.99,
        "height": 2.01,
        "processingCategory": "MACHINABLE",
        "destinationEntryFacilityType": "NONE",
        "mailingDate": "2024-07-15",
    }


def test_rate_error_carries_the_usps_message(carrier, mocked):
    token(mocked)
    mocked.post(
        f"{BASE}/prices/v3/base-rates/search", status=400, json=fixture("usps", "error_bad_request")
    )
    with pytest.raises(CarrierRejected) as caught:
        carrier.rates(REQUEST)
    assert "destinationZIPCode must match pattern" in caught.value.carrier_message
    assert caught.value.carrier_code == "400"


def test_unknown_service_is_rejected_before_any_call(carrier):
    with pytest.raises(CarrierRejected, match="no service 'teleport'"):
        carrier.rates(
            ShipmentRequest(REQUEST.shipper, REQUEST.recipient, REQUEST.parcels, "teleport")
        )


def test_label(carrier, mocked):
    token(mocked)
    payment(mocked)
    mocked.post(
        f"{BASE}/labels/v3/label",
        body=fixture("usps", "label"),
        content_type="multipart/mixed; boundary=726UYUDSQB6JWJXFDY",
    )
    assert carrier.create_label(REQUEST) == Label(
        carrier="usps",
        service="ground_advantage",
        tracking_number="9205590109769900012613",
        label_format="PDF",
        label_data=b"%PDF-1.4 usps label",
        price=Money(764, "USD"),
        carrier_shipment_id="9205590109769900012613",
    )
    sent = mocked.calls[2].request
    assert sent.headers["X-Payment-Authorization-Token"] == "eyJPAYMENT.token"
    body = json.loads(sent.body)
    assert body["toAddress"] == {
        "firstName": "Joe",
        "lastName": "Doe",
        "streetAddress": "1100 Wyoming",
        "secondaryAddress": "Suite 150",
        "city": "St. Louis",
        "state": "MO",
        "ZIPCode": "63118",
    }
    assert body["packageDescription"]["mailClass"] == "USPS_GROUND_ADVANTAGE"


def test_return_label(carrier, mocked):
    token(mocked)
    payment(mocked)
    mocked.post(
        f"{BASE}/labels/v3/return-label",
        body=fixture("usps", "return_label"),
        content_type="multipart/mixed; boundary=5GSK8EST33Y6MQJS45",
    )
    assert carrier.create_return_label(REQUEST) == Label(
        "usps",
        "ground_advantage",
        "9202090109769900012620",
        "PDF",
        b"%PDF-1.4 usps return label",
        Money(810, "USD"),
        "9202090109769900012620",
    )


def test_label_without_image_is_a_response_error(carrier, mocked):
    token(mocked)
    payment(mocked)
    body = '--B\r\nContent-Type: application/json\r\n\r\n{"trackingNumber": "1"}\r\n--B--\r\n'
    mocked.post(f"{BASE}/labels/v3/label", body=body)
    with pytest.raises(CarrierResponseError):
        carrier.create_label(REQUEST)


def test_label_timeout(carrier, mocked):
    token(mocked)
    payment(mocked)
    mocked.post(f"{BASE}/labels/v3/label", body=requests.ConnectTimeout("connect timeout"))
    with pytest.raises(CarrierUnavailable):
        carrier.create_label(REQUEST)


def test_cancel(carrier, mocked):
    token(mocked)
    payment(mocked)
    mocked.delete(f"{BASE}/labels/v3/label/9205590109769900012613", json=fixture("usps", "cancel"))
    assert carrier.cancel("9205590109769900012613") is None
    assert mocked.calls[2].request.headers["X-Payment-Authorization-Token"] == "eyJPAYMENT.token"


def test_cancel_rejected_with_usps_message(carrier, mocked):
    token(mocked)
    payment(mocked)
    mocked.delete(f"{BASE}/labels/v3/label/1", status=404, json=fixture("usps", "error_not_found"))
    with pytest.raises(CarrierRejected, match="Resource Not Found"):
        carrier.cancel("1")


def test_unsupported_operations(carrier):
    assert not carrier.supports("webhooks")
    with pytest.raises(NotSupported):
        carrier.parse_webhook(None)


S, R = Status, Reason


@pytest.mark.parametrize(
    ("code", "status", "reason"),
    [
        ("01", S.DELIVERED, None),
        ("02", S.ATTEMPT_FAILED, R.CUSTOMER_UNAVAILABLE),
        ("03", S.IN_TRANSIT, None),
        ("04", S.RETURNING_TO_SENDER, R.REFUSED),
        ("05", S.EXCEPTION, R.ADDRESS_INCORRECT),
        ("06", S.IN_TRANSIT, None),
        ("07", S.IN_TRANSIT, None),
        ("08", S.IN_TRANSIT, R.CARRIER_DELAY),
        ("09", S.RETURNING_TO_SENDER, None),
        ("10", S.IN_TRANSIT, None),
        ("11", S.EXCEPTION, R.LOST),
        ("14", S.AVAILABLE_FOR_PICKUP, None),
        ("15", S.IN_TRANSIT, R.CARRIER_DELAY),
        ("16", S.AVAILABLE_FOR_PICKUP, None),
        ("17", S.DELIVERED, None),
        ("19", S.IN_TRANSIT, None),
        ("21", S.RETURNING_TO_SENDER, R.ADDRESS_INCORRECT),
        ("22", S.RETURNING_TO_SENDER, R.ADDRESS_INCORRECT),
        ("23", S.RETURNING_TO_SENDER, R.ADDRESS_INCORRECT),
        ("24", S.RETURNING_TO_SENDER, R.ADDRESS_INCORRECT),
        ("25", S.RETURNING_TO_SENDER, R.ADDRESS_INCORRECT),
        ("26", S.RETURNING_TO_SENDER, R.ADDRESS_INCORRECT),
        ("27", S.RETURNING_TO_SENDER, R.CUSTOMER_UNAVAILABLE),
        ("28", S.RETURNING_TO_SENDER, R.OTHER),
        ("29", S.RETURNING_TO_SENDER, R.OTHER),
        ("31", S.RETURNING_TO_SENDER, R.CUSTOMER_UNAVAILABLE),
        ("41", S.IN_TRANSIT, None),
        ("42", S.IN_TRANSIT, None),
        ("43", S.DELIVERED, None),
        ("44", S.EXCEPTION, R.HELD_BY_CARRIER),
        ("51", S.ATTEMPT_FAILED, R.BUSINESS_CLOSED),
        ("52", S.ATTEMPT_FAILED, R.CUSTOMER_UNAVAILABLE),
        ("53", S.ATTEMPT_FAILED, R.ACCESS_PROBLEM),
        ("54", S.ATTEMPT_FAILED, R.ACCESS_PROBLEM),
        ("55", S.ATTEMPT_FAILED, R.ACCESS_PROBLEM),
        ("56", S.ATTEMPT_FAILED, R.CUSTOMER_UNAVAILABLE),
        ("80", S.IN_TRANSIT, None),
        ("81", S.IN_TRANSIT, None),
        ("82", S.IN_TRANSIT, None),
        ("A1", S.IN_TRANSIT, None),
        ("DX", S.EXCEPTION, R.CARRIER_DELAY),
        ("EF", S.IN_TRANSIT, None),
        ("GX", S.INFO_RECEIVED, None),
        ("MA", S.INFO_RECEIVED, None),
        ("OF", S.OUT_FOR_DELIVERY, None),
        ("PA", S.IN_TRANSIT, None),
        ("PC", S.IN_TRANSIT, None),
        ("SF", S.IN_TRANSIT, None),
        ("T1", S.IN_TRANSIT, None),
        ("TL", S.IN_TRANSIT, None),
        ("TM", S.IN_TRANSIT, None),
    ],
)
def test_every_event_code(code, status, reason):
    raw = {"eventCode": code, "eventType": "text", "GMTTimestamp": "2024-11-22T18:58:40Z"}
    event = tracking_event(raw)
    assert (event.status, event.reason) == (status, reason)
    assert event.occurred_at == datetime(2024, 11, 22, 18, 58, 40, tzinfo=UTC)


@pytest.mark.parametrize(
    ("code", "text", "status", "reason"),
    [
        (
            "Q1",
            "Delivery Attempted - No Access to Delivery Location",
            S.ATTEMPT_FAILED,
            R.ACCESS_PROBLEM,
        ),
        ("Q1", "Arrived at USPS Regional Destination Facility", S.IN_TRANSIT, None),
    ],
)
def test_code_outside_the_table_is_read_from_its_text(code, text, status, reason):
    raw = {"eventCode": code, "eventType": text, "GMTTimestamp": "2024-11-22T18:58:40Z"}
    assert (tracking_event(raw).status, tracking_event(raw).reason) == (status, reason)


def test_event_without_code_is_read_from_its_text():
    """Tracking 3.0 marks no event field required: an event USPS sends without `eventCode`
    is read from its `eventType` like a code outside the table (it was dropped)."""
    raw = {
        "eventType": "Out for Delivery",
        "eventTimestamp": "2024-11-22T09:10:00",
        "GMTTimestamp": "2024-11-22T14:10:45Z",
        "GMTOffset": "-05:00",
        "eventCountry": None,
        "eventCity": "HERNANDO",
        "eventState": "FL",
        "eventZIP": "34442",
        "firm": None,
        "name": None,
        "authorizedAgent": "false",
    }
    assert tracking_event(raw) == TrackingEvent(
        status=S.OUT_FOR_DELIVERY,
        occurred_at=datetime(2024, 11, 22, 9, 10, tzinfo=timezone(timedelta(hours=-5))),
        raw_code="",
        raw_text="Out for Delivery",
        location="HERNANDO, FL 34442",
        city="HERNANDO",
        state="FL",
        postal_code="34442",
        country="US",
    )


def test_expected_delivery_without_offset_is_read_at_the_destination(carrier, mocked):
    """An expectedDeliveryTimeStamp without an offset is the destination's local time
    (HERNANDO, FL 34442: Eastern), not UTC."""
    token(mocked)
    payload = fixture("usps", "tracking_delivered")
    payload["expectedDeliveryTimeStamp"] = "2024-11-22T21:00:00"
    mocked.get(f"{BASE}/tracking/v3/tracking/{NUMBER}", json=payload)
    [update] = carrier.track([NUMBER])
    assert update.estimated_delivery == datetime(
        2024, 11, 22, 21, tzinfo=ZoneInfo("America/New_York")
    )
    assert update.estimated_delivery.utcoffset() == timedelta(hours=-5)


def test_local_time_without_offset_is_read_in_the_scan_zip_zone():
    raw = {"eventCode": "07", "eventTimestamp": "2024-07-22T09:10:00", "eventZIP": "34442"}
    assert tracking_event(raw).occurred_at == datetime(
        2024, 7, 22, 9, 10, tzinfo=ZoneInfo("America/New_York")
    )


def test_label_image_is_base64_decoded():
    from carriers.usps.mapping import multipart_parts

    parts = multipart_parts(fixture("usps", "label").encode())
    assert [headers["content-type"] for headers, _ in parts] == [
        "application/json",
        "application/pdf",
    ]
    assert base64.b64decode(parts[1][1]).startswith(b"%PDF")


def test_refused_credentials_are_an_auth_error(carrier, mocked):
    mocked.post(
        f"{BASE}/oauth2/v3/token",
        status=401,
        json={"error": "invalid_client", "error_description": "Client authentication failed."},
    )
    with pytest.raises(CarrierAuthError, match="refused the client credentials"):
        carrier.track([NUMBER])


def test_rate_limit_after_retries_is_reported(carrier, mocked):
    token(mocked)
    for _ in range(4):
        mocked.post(
            f"{BASE}/prices/v3/base-rates/search",
            status=429,
            headers={"Retry-After": "0"},
            json={
                "apiVersion": "/prices/v3",
                "error": {"code": "429", "message": "Quota exceeded", "errors": []},
            },
        )
    with pytest.raises(CarrierRateLimited, match="Quota exceeded"):
        carrier.rates(REQUEST)
