"""EasyPost adapter against payloads shaped like the EasyPost v2 API (see each fixture)."""

from __future__ import annotations

import hashlib
import hmac
import json
import unicodedata
from datetime import UTC, date, datetime

import pytest
import requests

from carriers.base import (
    CarrierAccount,
    CarrierOutcomeUnknown,
    CarrierRateLimited,
    CarrierRejected,
    CarrierResponseError,
    CarrierUnavailable,
    Label,
    RateQuote,
    ShipmentRequest,
    WebhookRequest,
    WebhookSignatureError,
)
from carriers.easypost import EasyPostCarrier
from carriers.easypost.mapping import classify, tracking_event
from carriers.registry import get_carrier_class
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

API = "https://api.easypost.com/v2"
SECRET = "s\u00e9cret"  # non-ASCII: EasyPost NFKD-normalizes the secret before signing
NFKD_SECRET = unicodedata.normalize("NFKD", SECRET)
CODE = "9400110898825022579493"
REQUEST = ShipmentRequest(
    shipper=Address("US", "94104", "San Francisco", "CA", "417 Montgomery Street", name="EasyPost"),
    recipient=Address(
        "US", "90277", "Redondo Beach", "CA", "179 N Harbor Dr", name="Dr. Steve Brule"
    ),
    parcels=[Parcel(weight_g=1000, length_mm=229, width_mm=152, height_mm=51)],
    service="USPS/Priority",
    reference="ORDER-1001",
)


def make_carrier() -> EasyPostCarrier:
    account = CarrierAccount(
        "easypost",
        "ep-test",
        {"api_key": "EZTK123", "webhook_secret": SECRET},
        rate_limit_per_second=1000,
    )
    return EasyPostCarrier(account)


@pytest.fixture
def carrier() -> EasyPostCarrier:
    return make_carrier()


def expected_update() -> TrackingUpdate:
    def event(status, reason, code, text, when, city="", state="", zip_=""):
        country = "US" if city else ""
        location = ", ".join(p for p in (city, f"{state} {zip_}".strip(), country) if p)
        return TrackingEvent(status, when, code, text, reason, location, city, state, zip_, country)

    chs = ("CHARLESTON", "SC", "29401")
    return TrackingUpdate(
        carrier="easypost",
        tracking_number=CODE,
        events=(
            event(
                Status.INFO_RECEIVED,
                None,
                "pre_transit/status_update",
                "Pre-Shipment Info Sent to USPS",
                datetime(2024, 11, 15, 16, 32, 33, tzinfo=UTC),
            ),
            event(
                Status.INFO_RECEIVED,
                None,
                "pre_transit/label_created",
                "Shipping Label Created",
                datetime(2024, 11, 16, 16, 32, 33, tzinfo=UTC),
                "HOUSTON",
                "TX",
                "77063",
            ),
            event(
                Status.IN_TRANSIT,
                None,
                "in_transit/arrived_at_facility",
                "Arrived at USPS Facility",
                datetime(2024, 11, 18, 16, 10, 31, tzinfo=UTC),
                "COLUMBIA",
                "SC",
                "29201",
            ),
            event(
                Status.ATTEMPT_FAILED,
                Reason.ACCESS_PROBLEM,  # what the message says; delivery_exception has no reason
                "failure/delivery_exception",
                "Delivery Attempted - No Access to Delivery Location",
                datetime(2024, 11, 21, 20, 20, tzinfo=UTC),
                *chs,
            ),
            event(
                Status.OUT_FOR_DELIVERY,
                None,
                "out_for_delivery/out_for_delivery",
                "Out for Delivery",
                datetime(2024, 11, 22, 14, 10, 45, tzinfo=UTC),
                *chs,
            ),
            event(
                Status.DELIVERED,
                None,
                "delivered/arrived_at_destination",
                "Delivered",
                datetime(2024, 11, 22, 18, 58, 40, tzinfo=UTC),
                *chs,
            ),
        ),
        estimated_delivery=datetime(2024, 11, 22, 19, tzinfo=UTC),
        service="First-Class Package Service",
        proof_of_delivery=ProofOfDelivery(signed_by="John Tester"),
        extra={"tracker_id": "trk_c8e0edb5bb284caa934a0d3db23a148z", "underlying_carrier": "USPS"},
    )


def signed(body: bytes, secret: str = NFKD_SECRET) -> WebhookRequest:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return WebhookRequest(headers={"X-Hmac-Signature": f"hmac-sha256-hex={digest}"}, body=body)


CONTRACT = Contract(
    carrier="easypost",
    make=make_carrier,
    error_message="Invalid tracking code for carrier USPS.",
    error_fixture="error_tracker",
    error_status=422,
)
OPERATIONS = [
    Operation(
        "track",
        "POST",
        f"{API}/trackers",
        "tracker_delivered",
        lambda c: c.track([CODE]),
        [expected_update()],
    )
]


test_operation_contract = CONTRACT.test_for(OPERATIONS)


def test_registry_names_the_adapter():
    assert get_carrier_class("easypost") is EasyPostCarrier


def test_track_by_code_creates_the_tracker(carrier, mocked):
    mocked.post(f"{API}/trackers", json=fixture("easypost", "tracker_delivered"))
    assert carrier.track([CODE]) == [expected_update()]
    sent = mocked.calls[0].request
    assert json.loads(sent.body) == {"tracker": {"tracking_code": CODE}}
    assert sent.headers["Authorization"] == "Basic RVpUSzEyMzo="


def test_track_by_tracker_id(carrier, mocked):
    mocked.get(
        f"{API}/trackers/trk_c8e0edb5bb284caa934a0d3db23a148z",
        json=fixture("easypost", "tracker_delivered"),
    )
    assert carrier.track(["trk_c8e0edb5bb284caa934a0d3db23a148z"]) == [expected_update()]


def test_tracker_without_details_is_left_out(carrier, mocked):
    mocked.post(f"{API}/trackers", json=fixture("easypost", "tracker_unknown"))
    assert carrier.track(["EZ0000000000"]) == []


def test_tracker_error_carries_easypost_message(carrier, mocked):
    mocked.post(f"{API}/trackers", status=422, json=fixture("easypost", "error_tracker"))
    with pytest.raises(CarrierRejected) as caught:
        carrier.track(["bad"])
    assert caught.value.carrier_code == "TRACKER.CREATE.ERROR"
    assert caught.value.carrier_message == "Invalid tracking code for carrier USPS."


def test_429_is_retried_then_reported(carrier, mocked):
    for _ in range(4):
        mocked.post(
            f"{API}/trackers",
            status=429,
            headers={"Retry-After": "0"},
            json={"error": {"code": "RATE_LIMITED", "message": "Slow down", "errors": []}},
        )
    with pytest.raises(CarrierRateLimited, match="Slow down"):
        carrier.track([CODE])


def test_timeout_and_malformed_json(carrier, mocked):
    mocked.post(f"{API}/trackers", body=requests.ConnectTimeout("connect timeout"))
    mocked.post(f"{API}/trackers", body="not json")
    with pytest.raises(CarrierUnavailable):
        carrier.track([CODE])
    with pytest.raises(CarrierResponseError):
        carrier.track([CODE])


def test_good_webhook_is_parsed(carrier):
    body = json.dumps(fixture("easypost", "event_tracker_updated")).encode()
    assert carrier.parse_webhook(signed(body)) == [expected_update()]


def test_webhook_signature_uses_the_nfkd_secret(carrier):
    body = json.dumps(fixture("easypost", "event_tracker_updated")).encode()
    assert NFKD_SECRET != SECRET
    carrier.verify_webhook(signed(body, NFKD_SECRET))
    for wrong in (SECRET, "other secret"):
        with pytest.raises(WebhookSignatureError):
            carrier.verify_webhook(signed(body, wrong))


def test_webhook_with_missing_signature_is_rejected(carrier):
    body = json.dumps(fixture("easypost", "event_tracker_updated")).encode()
    with pytest.raises(WebhookSignatureError):
        carrier.parse_webhook(WebhookRequest(headers={}, body=body))


def test_webhook_with_tampered_body_is_rejected(carrier):
    body = json.dumps(fixture("easypost", "event_tracker_updated")).encode()
    request = signed(body)
    with pytest.raises(WebhookSignatureError):
        carrier.parse_webhook(WebhookRequest(request.headers, body.replace(b"John", b"Jane")))


def test_webhook_of_another_kind_gives_no_update(carrier):
    body = json.dumps({"object": "Event", "description": "batch.updated", "result": {}}).encode()
    assert carrier.parse_webhook(signed(body)) == []


def test_signed_webhook_with_wrong_shape_is_a_response_error(carrier):
    with pytest.raises(CarrierResponseError):
        carrier.parse_webhook(signed(b"{not json"))


def test_rates(carrier, mocked):
    mocked.post(f"{API}/shipments", json=fixture("easypost", "shipment"))
    assert carrier.rates(REQUEST) == [
        RateQuote("easypost", "USPS/Priority", Money(758, "USD"), 2, None),
        RateQuote("easypost", "USPS/GroundAdvantage", Money(593, "USD"), 4, date(2024, 11, 26)),
    ]
    assert json.loads(mocked.calls[0].request.body) == {
        "shipment": {
            "from_address": {
                "name": "EasyPost",
                "street1": "417 Montgomery Street",
                "city": "San Francisco",
                "state": "CA",
                "zip": "94104",
                "country": "US",
                "residential": True,
            },
            "to_address": {
                "name": "Dr. Steve Brule",
                "street1": "179 N Harbor Dr",
                "city": "Redondo Beach",
                "state": "CA",
                "zip": "90277",
                "country": "US",
                "residential": True,
            },
            "parcel": {"weight": 35.28, "length": 9.02, "width": 5.99, "height": 2.01},
            "is_return": False,
            "options": {"label_format": "PDF"},
            "reference": "ORDER-1001",
        }
    }


def test_rate_error_carries_easypost_message(carrier, mocked):
    mocked.post(f"{API}/shipments", status=422, json=fixture("easypost", "error_invalid_address"))
    with pytest.raises(CarrierRejected, match="to_address.zip: cannot be blank"):
        carrier.rates(REQUEST)


LABEL_URL = "https://easypost-files.s3.us-west-2.amazonaws.com/files/postage_label/20241120/e8.pdf"


def test_label_buys_the_requested_rate_and_downloads_without_credentials(carrier, mocked):
    mocked.post(f"{API}/shipments", json=fixture("easypost", "shipment"))
    mocked.post(f"{API}/shipments/shp_1a2b3c/buy", json=fixture("easypost", "shipment_bought"))
    mocked.get(LABEL_URL, body=b"%PDF-1.4 easypost")
    assert carrier.create_label(REQUEST) == Label(
        carrier="easypost",
        service="USPS/Priority",
        tracking_number="9400100105440241000000",
        label_format="PDF",
        label_data=b"%PDF-1.4 easypost",
        price=Money(758, "USD"),
        carrier_shipment_id="shp_1a2b3c",
    )
    assert json.loads(mocked.calls[1].request.body) == {"rate": {"id": "rate_2f1a1d"}}
    assert "Authorization" not in mocked.calls[2].request.headers


def test_label_for_a_service_not_offered_is_rejected(carrier, mocked):
    mocked.post(f"{API}/shipments", json=fixture("easypost", "shipment"))
    with pytest.raises(CarrierRejected, match="offered: USPS/Priority, USPS/GroundAdvantage"):
        carrier.create_label(
            ShipmentRequest(REQUEST.shipper, REQUEST.recipient, REQUEST.parcels, "UPS/Ground")
        )


def test_label_download_timeout_is_a_bought_label_to_reconcile(carrier, mocked):
    mocked.post(f"{API}/shipments", json=fixture("easypost", "shipment"))
    mocked.post(f"{API}/shipments/shp_1a2b3c/buy", json=fixture("easypost", "shipment_bought"))
    mocked.get(LABEL_URL, body=requests.ReadTimeout("read timed out"))
    with pytest.raises(CarrierOutcomeUnknown, match="bought shp_1a2b3c"):
        carrier.create_label(REQUEST)


@pytest.mark.parametrize("answer", [{"status": 502}, {"body": requests.ReadTimeout("read")}])
def test_buy_is_sent_once_when_easypost_may_have_bought(carrier, mocked, answer):
    """A 502 or a timeout after the buy was sent may hide a bought label: not repeated."""
    mocked.post(f"{API}/shipments", json=fixture("easypost", "shipment"))
    buy = mocked.post(f"{API}/shipments/shp_1a2b3c/buy", **answer)
    with pytest.raises(CarrierOutcomeUnknown):
        carrier.create_label(REQUEST)
    assert buy.call_count == 1


def test_buy_refused_at_the_rate_limit_is_sent_again(carrier, mocked):
    mocked.post(f"{API}/shipments", json=fixture("easypost", "shipment"))
    buy = f"{API}/shipments/shp_1a2b3c/buy"
    mocked.post(buy, status=429, headers={"Retry-After": "0"}, json={})
    mocked.post(buy, json=fixture("easypost", "shipment_bought"))
    mocked.get(LABEL_URL, body=b"%PDF-1.4 easypost")
    assert carrier.create_label(REQUEST).tracking_number == "9400100105440241000000"
    assert [c.request.url for c in mocked.calls].count(buy) == 2


def test_refund_is_sent_once_on_a_server_error(carrier, mocked):
    refund = mocked.post(f"{API}/shipments/shp_1a2b3c/refund", status=503)
    with pytest.raises(CarrierOutcomeUnknown):
        carrier.cancel("shp_1a2b3c")
    assert refund.call_count == 1


def test_return_label_swaps_back_to_outbound_addresses(carrier, mocked):
    returning = ShipmentRequest(
        REQUEST.recipient, REQUEST.shipper, REQUEST.parcels, "USPS/Priority"
    )
    mocked.post(f"{API}/shipments", json={**fixture("easypost", "shipment"), "is_return": True})
    mocked.post(f"{API}/shipments/shp_1a2b3c/buy", json=fixture("easypost", "shipment_bought"))
    mocked.get(LABEL_URL, body=b"%PDF-1.4 return")
    assert carrier.create_return_label(returning).label_data == b"%PDF-1.4 return"
    sent = json.loads(mocked.calls[0].request.body)["shipment"]
    assert sent["is_return"] is True
    assert sent["to_address"]["name"] == "Dr. Steve Brule"  # the customer, as on the outbound
    assert sent["from_address"]["name"] == "EasyPost"


def test_cancel_refunds_the_shipment(carrier, mocked):
    mocked.post(
        f"{API}/shipments/shp_1a2b3c/refund", json=fixture("easypost", "shipment_refund_submitted")
    )
    assert carrier.cancel("shp_1a2b3c") is None


def test_cancel_refused_by_easypost(carrier, mocked):
    mocked.post(
        f"{API}/shipments/shp_1a2b3c/refund", json=fixture("easypost", "shipment_refund_rejected")
    )
    with pytest.raises(CarrierRejected, match="refund_status=rejected"):
        carrier.cancel("shp_1a2b3c")


def test_cancel_needs_a_shipment_id(carrier):
    with pytest.raises(CarrierRejected, match="shipment id"):
        carrier.cancel("9400100105440241000000")


S, R = Status, Reason


@pytest.mark.parametrize(
    ("status", "expected_status", "reason"),
    [
        ("available_for_pickup", S.AVAILABLE_FOR_PICKUP, None),
        ("cancelled", S.CANCELLED, None),
        ("delivered", S.DELIVERED, None),
        ("error", S.EXCEPTION, R.OTHER),
        ("failure", S.EXCEPTION, None),
        ("in_transit", S.IN_TRANSIT, None),
        ("out_for_delivery", S.OUT_FOR_DELIVERY, None),
        ("pre_transit", S.INFO_RECEIVED, None),
        ("return_to_sender", S.RETURNING_TO_SENDER, None),
        ("unknown", S.PENDING, None),
    ],
)
def test_every_status(status, expected_status, reason):
    assert classify(status, "status_update") == (expected_status, reason)


# status_detail on an in_transit tracker: the detail refines it, or only informs.
@pytest.mark.parametrize(
    ("detail", "status", "reason"),
    [
        ("address_correction", S.EXCEPTION, R.ADDRESS_INCORRECT),
        ("arrived_at_destination", S.IN_TRANSIT, None),
        ("arrived_at_facility", S.IN_TRANSIT, None),
        ("arrived_at_pickup_location", S.AVAILABLE_FOR_PICKUP, None),
        ("awaiting_information", S.EXCEPTION, R.ADDRESS_INCORRECT),
        ("cancelled", S.CANCELLED, None),
        ("damaged", S.EXCEPTION, R.DAMAGED),
        ("delayed", S.IN_TRANSIT, R.CARRIER_DELAY),
        ("delivery_exception", S.ATTEMPT_FAILED, None),
        ("departed_facility", S.IN_TRANSIT, None),
        ("departed_origin_facility", S.IN_TRANSIT, None),
        ("expired", S.EXPIRED, None),
        ("failure", S.EXCEPTION, R.OTHER),
        ("held", S.EXCEPTION, R.HELD_BY_CARRIER),
        ("in_transit", S.IN_TRANSIT, None),
        ("label_created", S.INFO_RECEIVED, None),
        ("lost", S.EXCEPTION, R.LOST),
        ("missorted", S.IN_TRANSIT, R.CARRIER_DELAY),
        ("out_for_delivery", S.OUT_FOR_DELIVERY, None),
        ("received_at_destination_facility", S.IN_TRANSIT, None),
        ("received_at_origin_facility", S.IN_TRANSIT, None),
        ("refused", S.RETURNING_TO_SENDER, R.REFUSED),
        ("return", S.RETURNING_TO_SENDER, None),
        ("status_update", S.IN_TRANSIT, None),
        ("transferred_to_destination_carrier", S.IN_TRANSIT, None),
        ("transit_exception", S.EXCEPTION, R.CARRIER_DELAY),
        ("unknown", S.IN_TRANSIT, None),
        ("weather_delay", S.IN_TRANSIT, R.WEATHER),
    ],
)
def test_every_status_detail(detail, status, reason):
    assert classify("in_transit", detail) == (status, reason)


@pytest.mark.parametrize(
    ("status", "detail", "message", "expected_status", "reason"),
    [
        (
            "failure",
            "delivery_exception",
            "Delivery Attempted - No Access to Delivery Location",
            S.ATTEMPT_FAILED,
            R.ACCESS_PROBLEM,
        ),
        (
            "failure",
            "delivery_exception",
            "Notice Left (No Authorized Recipient Available)",
            S.ATTEMPT_FAILED,
            R.CUSTOMER_UNAVAILABLE,
        ),
        (
            "held_somewhere",
            "",
            "Severe weather conditions have delayed delivery",
            S.IN_TRANSIT,
            R.WEATHER,
        ),
        ("held_somewhere", "", "Scanned", S.IN_TRANSIT, None),
    ],
)
def test_what_neither_code_decides_is_read_from_the_message(
    status, detail, message, expected_status, reason
):
    assert classify(status, detail, message) == (expected_status, reason)


def test_detail_does_not_override_a_specific_status():
    assert classify("delivered", "damaged") == (Status.DELIVERED, Reason.DAMAGED)


def test_tracking_detail_without_status_is_read_from_its_detail_and_message():
    """A TrackingDetail (docs.easypost.com/docs/trackers) that lost its `status` keeps the
    event (it was dropped), read like a status outside EasyPost's list."""
    raw = {
        "object": "TrackingDetail",
        "message": "Out for Delivery",
        "description": "",
        "status_detail": "out_for_delivery",
        "datetime": "2024-11-22T08:05:20-05:00",
        "source": "USPS",
        "carrier_code": "",
        "tracking_location": {
            "object": "TrackingLocation",
            "city": "CHARLESTON",
            "state": "SC",
            "country": "US",
            "zip": "29401",
        },
    }
    assert tracking_event(raw) == TrackingEvent(
        status=Status.OUT_FOR_DELIVERY,
        occurred_at=datetime(2024, 11, 22, 13, 5, 20, tzinfo=UTC),
        raw_code="out_for_delivery",
        raw_text="Out for Delivery",
        location="CHARLESTON, SC 29401, US",
        city="CHARLESTON",
        state="SC",
        postal_code="29401",
        country="US",
    )
