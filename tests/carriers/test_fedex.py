import base64
import hashlib
import hmac
import json
from datetime import UTC, date, datetime, timedelta, timezone
from urllib.parse import parse_qs

import pytest
import responses

from carriers.base import (
    Capability,
    CarrierRejected,
    CarrierResponseError,
    Label,
    NotSupported,
    RateQuote,
    ShipmentRequest,
    WebhookRequest,
    WebhookSignatureError,
)
from carriers.fedex import FedExCarrier, mapping, units
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
from tests.carriers.shipments import label_operations, located_event, oauth_account, shipment

BASE = "https://apis-sandbox.fedex.com"
NUMBER = "776094337676"
SECRET = "fedex-security-token"
SHIPPER = Address(
    country="US",
    postal_code="93706",
    city="Fresno",
    state="CA",
    line1="1 Main St",
    name="Dock 4",
    company="Shop Inc",
    phone="5595550100",
    residential=False,
)
RECIPIENT = Address(
    country="US",
    postal_code="93612",
    city="Clovis",
    state="CA",
    line1="100 Main St",
    name="Jane Doe",
    phone="5595550101",
    email="jane@example.com",
)
REQUEST = shipment(SHIPPER, RECIPIENT, ship_date=date(2026, 11, 24))


def account(**credentials):
    return oauth_account("fedex", "740561073", **{"webhook_secret": SECRET, **credentials})


def at(day, hh, mm, offset_hours):
    return datetime(2026, 11, day, hh, mm, tzinfo=timezone(timedelta(hours=offset_hours)))


def event(status, when, code, text, city, postal, reason=None, state="CA"):
    return located_event(status, when, code, text, reason, city, state, postal)


OUT_FOR_DELIVERY = event(
    Status.OUT_FOR_DELIVERY,
    at(26, 8, 52, -8),
    "OD",
    "On FedEx vehicle for delivery",
    "CLOVIS",
    "93612",
)
DELIVERED = TrackingUpdate(
    carrier="fedex",
    tracking_number=NUMBER,
    events=(
        event(
            Status.INFO_RECEIVED,
            at(24, 10, 36, -6),
            "OC",
            "Shipment information sent to FedEx",
            "",
            "93706",
            state="",
        ),
        event(Status.IN_TRANSIT, at(24, 14, 25, -8), "PU", "Picked up", "FRESNO", "93706"),
        event(
            Status.IN_TRANSIT,
            at(24, 19, 29, -5),
            "DP",
            "Left FedEx origin facility",
            "MEMPHIS",
            "38118",
            state="TN",
        ),
        event(
            Status.ATTEMPT_FAILED,
            at(25, 11, 26, -8),
            "DE:08",
            "Delivery exception - Customer not available or business closed",
            "CLOVIS",
            "93612",
            Reason.CUSTOMER_UNAVAILABLE,
        ),
        OUT_FOR_DELIVERY,
        event(Status.DELIVERED, at(26, 9, 26, -8), "DL", "Delivered", "CLOVIS", "93612"),
    ),
    service="priority_overnight",
    proof_of_delivery=ProofOfDelivery(signed_by="M.GARCIA"),
)
LABEL = Label(
    carrier="fedex",
    service="ground",
    tracking_number="794953535000",
    label_format="PDF",
    label_data=b"%PDF-1.4\n",
    price=Money(1205, "USD"),
    carrier_shipment_id="794953535000",
)
RATE_REQUEST = ShipmentRequest(SHIPPER, RECIPIENT, REQUEST.parcels, service="")

OPERATIONS = [
    Operation(
        "track",
        "POST",
        f"{BASE}/track/v1/trackingnumbers",
        "track",
        lambda c: c.track([NUMBER, "123456789012"]),
        [DELIVERED],
    ),
    Operation(
        "rates",
        "POST",
        f"{BASE}/rate/v1/rates/quotes",
        "rate",
        lambda c: c.rates(RATE_REQUEST),
        [
            RateQuote("fedex", "ground", Money(1205, "USD"), transit_days=3),
            RateQuote(
                "fedex",
                "priority_overnight",
                Money(6769, "USD"),
                transit_days=1,
                estimated_delivery=date(2026, 11, 25),
            ),
        ],
    ),
    *label_operations(f"{BASE}/ship/v1/shipments", "ship", REQUEST, LABEL),
    Operation(
        "cancel",
        "PUT",
        f"{BASE}/ship/v1/shipments/cancel",
        "cancel",
        lambda c: c.cancel("794953535000"),
        None,
        buys=True,
    ),
]

CONTRACT = Contract(
    carrier="fedex",
    token_url=f"{BASE}/oauth/token",
    make=lambda: FedExCarrier(account()),
    error_message=(
        "When payment Type is SENDER, ShippingChargesPayment Payor AccountNumber should "
        "match the shipper account number."
    ),
)


test_operation_contract = CONTRACT.test_for(OPERATIONS)


def test_registry_and_capabilities():
    assert get_carrier_class("fedex") is FedExCarrier
    assert FedExCarrier.track_batch_size == 30
    assert FedExCarrier(account()).supports(Capability.WEBHOOKS)


@responses.activate
def test_token_is_requested_with_form_credentials():
    CONTRACT.token()
    responses.add(responses.PUT, OPERATIONS[4].url, json=fixture("fedex", "cancel"))
    FedExCarrier(account()).cancel("794953535000")
    form = parse_qs(responses.calls[0].request.body)
    assert form == {
        "grant_type": ["client_credentials"],
        "client_id": ["test-client"],
        "client_secret": ["test-secret"],
    }
    assert "Authorization" not in responses.calls[0].request.headers
    assert json.loads(responses.calls[1].request.body) == {
        "accountNumber": {"value": "740561073"},
        "trackingNumber": "794953535000",
        "deletionControl": "DELETE_ALL_PACKAGES",
    }


@responses.activate
def test_track_splits_into_batches_of_thirty():
    CONTRACT.token()
    empty = {"transactionId": "t", "output": {"completeTrackResults": []}}
    responses.add(responses.POST, OPERATIONS[0].url, json=empty)
    responses.add(responses.POST, OPERATIONS[0].url, json=fixture("fedex", "track"))
    numbers = [f"7000000000{i:02d}" for i in range(31)]
    assert FedExCarrier(account()).track(numbers) == [DELIVERED]
    sent = [json.loads(c.request.body) for c in responses.calls[1:]]
    assert [len(body["trackingInfo"]) for body in sent] == [30, 1]
    assert all(body["includeDetailedScans"] for body in sent)
    assert sent[1]["trackingInfo"] == [{"trackingNumberInfo": {"trackingNumber": numbers[30]}}]


@responses.activate
def test_return_ship_request_body():
    CONTRACT.token()
    responses.add(responses.POST, OPERATIONS[2].url, json=fixture("fedex", "ship"))
    FedExCarrier(account()).create_return_label(REQUEST)
    line_item = {
        "weight": {"units": "LB", "value": 2.3},
        "dimensions": {"length": 12, "width": 8, "height": 4, "units": "IN"},
        "customerReferences": [
            {"customerReferenceType": "CUSTOMER_REFERENCE", "value": "order-1001"}
        ],
    }
    assert json.loads(responses.calls[1].request.body) == {
        "labelResponseOptions": "LABEL",
        "accountNumber": {"value": "740561073"},
        "requestedShipment": {
            "shipper": {
                "contact": {
                    "personName": "Dock 4",
                    "companyName": "Shop Inc",
                    "phoneNumber": "5595550100",
                    "emailAddress": "",
                },
                "address": {
                    "streetLines": ["1 Main St"],
                    "city": "Fresno",
                    "stateOrProvinceCode": "CA",
                    "postalCode": "93706",
                    "countryCode": "US",
                    "residential": False,
                },
            },
            "recipients": [
                {
                    "contact": {
                        "personName": "Jane Doe",
                        "companyName": "",
                        "phoneNumber": "5595550101",
                        "emailAddress": "jane@example.com",
                    },
                    "address": {
                        "streetLines": ["100 Main St"],
                        "city": "Clovis",
                        "stateOrProvinceCode": "CA",
                        "postalCode": "93612",
                        "countryCode": "US",
                        "residential": True,
                    },
                }
            ],
            "serviceType": "FEDEX_GROUND",
            "packagingType": "YOUR_PACKAGING",
            "pickupType": "USE_SCHEDULED_PICKUP",
            "shippingChargesPayment": {"paymentType": "SENDER"},
            "labelSpecification": {"imageType": "PDF", "labelStockType": "PAPER_4X6"},
            "requestedPackageLineItems": [line_item],
            "shipDatestamp": "2026-11-24",
            "shipmentSpecialServices": {
                "specialServiceTypes": ["RETURN_SHIPMENT"],
                "returnShipmentDetail": {"returnType": "PRINT_RETURN_LABEL"},
            },
        },
    }


def test_only_unknown_numbers_give_nothing():
    body = fixture("fedex", "track")
    body["output"]["completeTrackResults"] = body["output"]["completeTrackResults"][1:]
    assert mapping.parse_track_response(body) == []


def test_a_null_error_beside_a_found_number_is_no_error():
    """Only a trackResult whose `error` is filled in is a number FedEx did not find; one that
    carries `"error": null` is read (it was left out, with every scan of it)."""
    body = fixture("fedex", "webhook")
    body["trackResults"][0]["error"] = None
    assert [(u.tracking_number, len(u.events)) for u in mapping.parse_track_response(body)] == [
        (NUMBER, 1)
    ]


# -- webhooks -----------------------------------------------------------------------------

HOOK = json.dumps(fixture("fedex", "webhook")).encode()
GOOD_SIGNATURE = base64.b64encode(hmac.new(SECRET.encode(), HOOK, hashlib.sha256).digest())


def test_signed_webhook_is_parsed():
    carrier = FedExCarrier(account())
    request = WebhookRequest(headers={"fedex-signature": GOOD_SIGNATURE.decode()}, body=HOOK)
    carrier.verify_webhook(request)
    assert carrier.parse_webhook(request) == [
        TrackingUpdate(
            carrier="fedex",
            tracking_number=NUMBER,
            events=(OUT_FOR_DELIVERY,),
            estimated_delivery=at(26, 10, 30, -8),
            service="priority_overnight",
        )
    ]


def test_hex_signature_is_accepted():
    signature = hmac.new(SECRET.encode(), HOOK, hashlib.sha256).hexdigest()
    FedExCarrier(account()).verify_webhook(
        WebhookRequest(headers={"Fedex-Signature": signature}, body=HOOK)
    )


@pytest.mark.parametrize(
    ("headers", "body"),
    [
        ({}, HOOK),
        ({"fedex-signature": ""}, HOOK),
        ({"fedex-signature": "bm90IHRoZSBzaWduYXR1cmU="}, HOOK),
        ({"fedex-signature": GOOD_SIGNATURE.decode()}, HOOK + b" "),
    ],
    ids=["missing", "empty", "wrong", "tampered-body"],
)
def test_bad_webhook_signature_is_rejected(headers, body):
    with pytest.raises(WebhookSignatureError):
        FedExCarrier(account()).verify_webhook(WebhookRequest(headers=headers, body=body))


def test_webhook_rejected_when_no_secret_is_configured():
    request = WebhookRequest(headers={"fedex-signature": GOOD_SIGNATURE.decode()}, body=HOOK)
    with pytest.raises(WebhookSignatureError):
        FedExCarrier(account(webhook_secret="")).verify_webhook(request)


def test_malformed_webhook_is_a_response_error():
    with pytest.raises(CarrierResponseError):
        FedExCarrier(account()).parse_webhook(WebhookRequest(headers={}, body=b"[{]"))


# -- status tables: one case per row, the expected value written out ---------------------

S, R = Status, Reason


@pytest.mark.parametrize(
    ("code", "status", "reason"),
    [
        ("OC", S.INFO_RECEIVED, None),
        ("IN", S.INFO_RECEIVED, None),
        ("PX", S.INFO_RECEIVED, None),
        ("PU", S.IN_TRANSIT, None),
        ("AA", S.IN_TRANSIT, None),
        ("AD", S.IN_TRANSIT, None),
        ("DO", S.IN_TRANSIT, None),
        ("IP", S.IN_TRANSIT, None),
        ("OW", S.IN_TRANSIT, None),
        ("US", S.IN_TRANSIT, None),
        ("MD", S.INFO_RECEIVED, None),
        ("AC", S.IN_TRANSIT, None),
        ("AF", S.IN_TRANSIT, None),
        ("AO", S.IN_TRANSIT, None),
        ("AE", S.IN_TRANSIT, None),
        ("AP", S.IN_TRANSIT, None),
        ("AR", S.IN_TRANSIT, None),
        ("AX", S.IN_TRANSIT, None),
        ("CC", S.IN_TRANSIT, None),
        ("CH", S.IN_TRANSIT, None),
        ("CP", S.IN_TRANSIT, None),
        ("DP", S.IN_TRANSIT, None),
        ("DR", S.IN_TRANSIT, None),
        ("DS", S.IN_TRANSIT, None),
        ("EA", S.IN_TRANSIT, None),
        ("ED", S.IN_TRANSIT, None),
        ("EO", S.IN_TRANSIT, None),
        ("EP", S.IN_TRANSIT, None),
        ("FD", S.IN_TRANSIT, None),
        ("IT", S.IN_TRANSIT, None),
        ("IX", S.IN_TRANSIT, None),
        ("LO", S.IN_TRANSIT, None),
        ("OF", S.IN_TRANSIT, None),
        ("OX", S.IN_TRANSIT, None),
        ("PF", S.IN_TRANSIT, None),
        ("PL", S.IN_TRANSIT, None),
        ("PM", S.IN_TRANSIT, None),
        ("SF", S.IN_TRANSIT, None),
        ("SP", S.IN_TRANSIT, None),
        ("TR", S.IN_TRANSIT, None),
        ("CD", S.EXCEPTION, R.CUSTOMS_HOLD),
        ("DD", S.EXCEPTION, R.CARRIER_DELAY),
        ("DY", S.EXCEPTION, R.CARRIER_DELAY),
        ("PD", S.EXCEPTION, R.CARRIER_DELAY),
        ("SE", S.EXCEPTION, None),
        ("CA", S.CANCELLED, None),
        ("OD", S.OUT_FOR_DELIVERY, None),
        ("DE", S.ATTEMPT_FAILED, None),
        ("HL", S.AVAILABLE_FOR_PICKUP, None),
        ("HP", S.AVAILABLE_FOR_PICKUP, None),
        ("DL", S.DELIVERED, None),
        ("RS", S.RETURNING_TO_SENDER, None),
        ("RP", S.INFO_RECEIVED, None),
        ("RG", S.INFO_RECEIVED, None),
        ("LP", S.CANCELLED, None),
        ("LC", S.CANCELLED, None),
        ("RD", S.EXPIRED, None),
        ("RR", S.IN_TRANSIT, None),
        ("RM", S.IN_TRANSIT, None),
        ("RC", S.IN_TRANSIT, None),
        ("HA", S.IN_TRANSIT, None),
        ("RT", S.IN_TRANSIT, None),
        ("RA", S.IN_TRANSIT, None),
        ("PR", S.IN_TRANSIT, None),
        ("AS", S.IN_TRANSIT, None),
    ],
)
def test_event_type_row(code, status, reason):
    assert mapping.classify(code, "", "") == (status, reason)


# exceptionCode on a delivery exception (DE) event, with FedEx's own description. 007 is the
# API reference's mock number 377101283611590 ("Customer not available or business closed
# (Delivery Exception 007)"); A12 and A13 are FedEx Office holds the recipient asked for.
@pytest.mark.parametrize(
    ("code", "text", "status", "reason"),
    [
        ("03", "Incorrect address", S.EXCEPTION, R.ADDRESS_INCORRECT),
        (
            "007",
            "Customer not available or business closed",
            S.ATTEMPT_FAILED,
            R.CUSTOMER_UNAVAILABLE,
        ),
        ("04", "Unable to access the delivery location", S.ATTEMPT_FAILED, R.ACCESS_PROBLEM),
        ("05", "Delivery option requested by the recipient", S.ATTEMPT_FAILED, R.OTHER),
        ("07", "Refused by recipient", S.ATTEMPT_FAILED, R.REFUSED),
        (
            "08",
            "Customer not available or business closed",
            S.ATTEMPT_FAILED,
            R.CUSTOMER_UNAVAILABLE,
        ),
        ("09", "Local delivery restriction", S.EXCEPTION, R.OTHER),
        (
            "083",
            "Local delivery restriction - Delivery not attempted",
            S.EXCEPTION,
            R.OTHER,
        ),
        ("10", "Damaged - delivery not completed", S.EXCEPTION, R.DAMAGED),
        ("11", "Unable to locate the address", S.EXCEPTION, R.ADDRESS_INCORRECT),
        ("12", "Package could not be located", S.EXCEPTION, R.LOST),
        ("13", "Weather or natural disaster delay", S.EXCEPTION, R.WEATHER),
        ("15", "Business closed", S.ATTEMPT_FAILED, R.BUSINESS_CLOSED),
        ("17", "Customer requested a future delivery", S.ATTEMPT_FAILED, R.CUSTOMER_UNAVAILABLE),
        ("29", "Rerouted to a new address", S.EXCEPTION, R.ADDRESS_INCORRECT),
        ("34", "Delay beyond FedEx's control", S.EXCEPTION, R.CARRIER_DELAY),
        ("41", "Held by customs", S.EXCEPTION, R.CUSTOMS_HOLD),
        ("42", "Duties and taxes due", S.EXCEPTION, R.PAYMENT_REQUIRED),
        ("67", "Held at FedEx location, see details", S.EXCEPTION, R.HELD_BY_CARRIER),
        ("71", "Severe weather", S.EXCEPTION, R.WEATHER),
        (
            "A12",
            "Hold at FedEx Office request received - Check back later for shipment status",
            S.IN_TRANSIT,
            None,
        ),
        ("A13", "Redirecting to FedEx Office", S.IN_TRANSIT, None),
    ],
)
def test_exception_code_row(code, text, status, reason):
    assert mapping.classify("DE", code, f"Delivery exception - {text}") == (status, reason)


@pytest.mark.parametrize(
    ("kind", "exception", "text", "status", "reason"),
    [
        ("DE", "", "Delivery exception", S.ATTEMPT_FAILED, None),
        (
            "DE",
            "Q7",
            "Delivery exception - Customer not available or business closed",
            S.ATTEMPT_FAILED,
            R.CUSTOMER_UNAVAILABLE,
        ),
        ("SE", "Q7", "Shipment exception - Package damaged", S.EXCEPTION, R.DAMAGED),
        ("ZZ", "", "Shipment arriving early", S.IN_TRANSIT, None),
        (
            "ZZ",
            "",
            "Delivery attempted - no access to delivery location",
            S.ATTEMPT_FAILED,
            R.ACCESS_PROBLEM,
        ),
    ],
)
def test_codes_outside_the_tables_are_read_from_their_text(kind, exception, text, status, reason):
    assert mapping.classify(kind, exception, text) == (status, reason)


@pytest.mark.parametrize(("code", "entry"), units.SERVICES.items())
def test_service_row_round_trips(code, entry):
    assert mapping.service_type(entry[0]) == code
    assert mapping.service_name(code) == entry[0]


def test_unlisted_event_type_falls_back_to_the_derived_status():
    scan = {
        "date": "2026-11-26T09:26:00-08:00",
        "eventType": "ZQ",
        "eventDescription": "Left at front door",
        "derivedStatusCode": "DL",
    }
    result = {"trackingNumberInfo": {"trackingNumber": NUMBER}, "scanEvents": [scan]}
    [update] = mapping.parse_track_response({"trackResults": [result]})
    [only] = update.events
    assert (only.status, only.raw_code, only.raw_text) == (
        Status.DELIVERED,
        "ZQ",
        "Left at front door",
    )


def test_latest_status_stands_in_when_there_are_no_scans():
    result = {
        "trackingNumberInfo": {"trackingNumber": NUMBER},
        "latestStatusDetail": {
            "code": "DE",
            "derivedCode": "DE",
            "description": "Delivery exception",
            "scanLocation": {"city": "CLOVIS", "stateOrProvinceCode": "CA", "countryCode": "US"},
            "ancillaryDetails": [
                {"reason": "07", "reasonDescription": "Refused by recipient", "action": "RS"}
            ],
        },
        "dateAndTimes": [
            {"type": "ACTUAL_PICKUP", "dateTime": "2026-11-24T14:25:00-08:00"},
            {"type": "ESTIMATED_DELIVERY", "dateTime": "2026-11-27T17:00:00-08:00"},
        ],
        "scanEvents": [],
    }
    [update] = mapping.parse_track_response({"trackResults": [result]})
    assert update.events == (
        TrackingEvent(
            status=Status.ATTEMPT_FAILED,
            occurred_at=at(24, 14, 25, -8),
            raw_code="DE:07",
            raw_text="Delivery exception - Refused by recipient",
            reason=Reason.REFUSED,
            location="CLOVIS, CA, US",
            city="CLOVIS",
            state="CA",
            country="US",
        ),
    )
    assert update.estimated_delivery == at(27, 17, 0, -8)


@pytest.mark.parametrize("dates", [None, [None, {"type": "ACTUAL_PICKUP"}]], ids=["null", "nulls"])
def test_a_null_where_the_track_api_lists_dates_costs_no_scan(dates):
    """dateAndTimes is optional in the Track API: a null, or a null among its dates, leaves the
    number and its scans (it cost the whole number)."""
    body = fixture("fedex", "webhook")
    body["trackResults"][0]["dateAndTimes"] = dates
    assert [
        (u.tracking_number, [e.raw_code for e in u.events], u.estimated_delivery)
        for u in mapping.parse_track_response(body)
    ] == [(NUMBER, ["OD"], None)]


def test_unknown_label_format_is_a_configuration_error():
    with pytest.raises(ValueError, match="label_format"):
        FedExCarrier(account(label_format="JPEG"))


def test_exception_code_on_a_delivery_changes_nothing():
    assert mapping.classify("DL", "08", "Delivered") == (Status.DELIVERED, None)
    assert mapping.classify("SE", "13", "Weather") == (Status.EXCEPTION, Reason.WEATHER)


@responses.activate
def test_cancel_not_confirmed_is_rejected():
    CONTRACT.token()
    body = {"transactionId": "t", "output": {"cancelledShipment": False, "cancelledHistory": False}}
    responses.add(responses.PUT, OPERATIONS[4].url, json=body)
    with pytest.raises(CarrierRejected):
        FedExCarrier(account()).cancel("794953535000")


def test_multi_parcel_label_is_refused():
    two = ShipmentRequest(SHIPPER, RECIPIENT, [Parcel(500), Parcel(500)], "ground")
    with pytest.raises(NotSupported):
        FedExCarrier(account()).create_label(two)


@responses.activate
def test_one_bad_scan_does_not_sink_the_other_numbers_of_a_poll():
    """A FedEx poll carries up to 30 numbers: a scan without an offset is read in its
    location's zone, a scan without a date is skipped and kept, and every number is applied."""
    CONTRACT.token()
    body = fixture("fedex", "track_three_numbers")
    responses.add(responses.POST, OPERATIONS[0].url, json=body)
    numbers = ["377101283611590", "122816215025810", "647719948679"]

    attempted, delivered = FedExCarrier(account()).track(numbers)

    pacific = timezone(timedelta(hours=-8))
    assert [(e.occurred_at, e.raw_code, e.status, e.reason) for e in attempted.events] == [
        (datetime(2013, 12, 18, 8, 25, tzinfo=pacific), "OD", S.OUT_FOR_DELIVERY, None),
        (
            datetime(2013, 12, 18, 11, 22, 15, tzinfo=pacific),
            "DE:007",
            S.ATTEMPT_FAILED,
            R.CUSTOMER_UNAVAILABLE,
        ),
    ]
    assert attempted.unreadable == ()
    assert [(e.raw_code, e.status) for e in delivered.events] == [
        ("PU", S.IN_TRANSIT),
        ("DL", S.DELIVERED),
    ]
    # Norton, Virginia 24273 keeps Eastern time: 13:31 local is 18:31 UTC in January.
    assert delivered.events[-1].occurred_at == datetime(2014, 1, 9, 18, 31, tzinfo=UTC)
    [skipped] = delivered.unreadable
    assert json.loads(skipped.raw)["eventDescription"] == "At local FedEx facility"
    assert "date" in skipped.error


def test_unreadable_result_is_skipped_and_the_others_kept():
    body = fixture("fedex", "track_three_numbers")
    results = body["output"]["completeTrackResults"]
    results[0]["trackResults"][0]["trackingNumberInfo"] = None
    assert [u.tracking_number for u in mapping.parse_track_response(body)] == ["122816215025810"]
