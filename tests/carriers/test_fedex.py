import base64
import hashlib
import hmac
import json
from datetime import date, datetime, timedelta, timezone
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
from tests.carriers.carrier_contract import CHECKS, Contract, Operation, fixture
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


@responses.activate
@pytest.mark.parametrize("check", CHECKS)
@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op.id)
def test_operation_contract(op, check):
    getattr(CONTRACT, check)(op)


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


# -- status tables: one case per row ------------------------------------------------------


@pytest.mark.parametrize(("code", "expected"), units.STATUS_BY_EVENT.items())
def test_event_type_row(code, expected):
    assert mapping.classify(code, "", "") == expected


@pytest.mark.parametrize(("code", "entry"), units.EXCEPTIONS.items())
def test_exception_code_row(code, entry):
    override, reason = entry
    assert mapping.classify("DE", code, "") == (override or Status.ATTEMPT_FAILED, reason)


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
