import base64
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

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
    TrackingQuery,
    WebhookRequest,
    WebhookSignatureError,
)
from carriers.registry import get_carrier_class
from carriers.ups import UPSCarrier, mapping, units
from shipflow.domain import (
    Address,
    Money,
    Parcel,
    ProofOfDelivery,
    Reason,
    Status,
    TrackingUpdate,
)
from tests.carriers.carrier_contract import Contract, Operation, fixture
from tests.carriers.shipments import label_operations, oauth_account, shipment
from tests.carriers.shipments import located_event as event

BASE = "https://wwwcie.ups.com"
NUMBER = "1Z023E2X0214323462"
SHIPPER = Address(
    country="US",
    postal_code="60607",
    city="Chicago",
    state="IL",
    line1="1 Main St",
    name="Dock 4",
    company="Shop Inc",
    phone="3125550100",
    residential=False,
)
RECIPIENT = Address(
    country="US",
    postal_code="07470",
    city="Wayne",
    state="NJ",
    line1="100 Main St",
    line2="Apt 2",
    name="Jane Doe",
    phone="9735550100",
)
REQUEST = shipment(SHIPPER, RECIPIENT)


def account(**credentials):
    return oauth_account(
        "ups", "A1B2C3", **{"webhook_credential": "s3cret-credential", **credentials}
    )


def at(day, hh, mm, offset_hours):
    return datetime(*day, hh, mm, tzinfo=timezone(timedelta(hours=offset_hours)))


DELIVERED = TrackingUpdate(
    carrier="ups",
    tracking_number=NUMBER,
    events=(
        event(
            Status.INFO_RECEIVED,
            at((2026, 11, 21), 10, 0, -6),
            "M:MP",
            "Shipper created a label, UPS has not received the package yet.",
        ),
        event(
            Status.IN_TRANSIT,
            at((2026, 11, 22), 17, 2, -6),
            "P:PU",
            "Pickup Scan",
            None,
            "Chicago",
            "IL",
        ),
        event(
            Status.IN_TRANSIT,
            at((2026, 11, 22), 23, 5, -6),
            "I:DP",
            "Departed from Facility",
            None,
            "Chicago",
            "IL",
        ),
        event(
            Status.OUT_FOR_DELIVERY,
            at((2026, 11, 23), 8, 10, -5),
            "I:OF",
            "Out For Delivery Today",
            None,
            "Parsippany",
            "NJ",
        ),
        event(
            Status.ATTEMPT_FAILED,
            at((2026, 11, 23), 16, 15, -5),
            "X:48",
            "The receiver was not available for delivery. "
            "We'll make a second attempt the next business day.",
            Reason.CUSTOMER_UNAVAILABLE,
            "Wayne",
            "NJ",
        ),
        event(
            Status.DELIVERED,
            at((2026, 11, 24), 14, 30, -5),
            "D:FS",
            "DELIVERED",
            None,
            "Wayne",
            "NJ",
            "07470",
        ),
    ),
    estimated_delivery=at((2026, 11, 24), 14, 30, -5),
    service="UPS Ground",
    proof_of_delivery=ProofOfDelivery(
        signed_by="JOHNSON",
        left_at="Front Door",
        photo="R0lGODlhAQABAIAAAP///wAAACwAAAAAAQABAAACAkQBADs=",
    ),
)

LABEL = Label(
    carrier="ups",
    service="ground",
    tracking_number="1Z2220060290602143",
    label_format="GIF",
    label_data=base64.b64decode("R0lGODlhAQABAAAAACw="),
    price=Money(1125, "USD"),
    carrier_shipment_id="1Z2220060290602143",
)

RATE_REQUEST = shipment(SHIPPER, RECIPIENT, service="", reference="")

OPERATIONS = [
    Operation(
        "track",
        "GET",
        f"{BASE}/api/track/v1/details/{NUMBER}",
        "track_delivered",
        lambda c: c.track([NUMBER]),
        [DELIVERED],
    ),
    Operation(
        "rates",
        "POST",
        f"{BASE}/api/rating/v2409/Shop",
        "rate_shop",
        lambda c: c.rates(RATE_REQUEST),
        [
            RateQuote("ups", "ground", Money(1125, "USD")),
            RateQuote("ups", "next_day_air", Money(6145, "USD"), transit_days=1),
        ],
    ),
    *label_operations(f"{BASE}/api/shipments/v2409/ship", "ship", REQUEST, LABEL),
    Operation(
        "cancel",
        "DELETE",
        f"{BASE}/api/shipments/v2409/void/cancel/1Z2220060290602143",
        "void",
        lambda c: c.cancel("1Z2220060290602143"),
        None,
        buys=True,
    ),
    Operation(
        "subscribe",
        "POST",
        f"{BASE}/api/track/v1/subscription/standard/package",
        "subscription",
        lambda c: sorted(
            c.subscribe(
                [TrackingQuery(NUMBER), TrackingQuery("1Z1234567$8")],
                "https://shipflow.example/hooks/ups",
            )
        ),
        ["1Z1234567$8"],
    ),
]

CONTRACT = Contract(
    carrier="ups",
    token_url=f"{BASE}/security/v1/oauth/token",
    make=lambda: UPSCarrier(account()),
    error_message="Address Validation Error on ShipTo address",
)


test_operation_contract = CONTRACT.test_for(OPERATIONS)


def test_registry_and_capabilities():
    assert get_carrier_class("ups") is UPSCarrier
    assert UPSCarrier.track_batch_size == 1
    assert UPSCarrier(account()).supports(Capability.RETURN_LABELS)
    assert not UPSCarrier(account()).supports(Capability.PICKUPS)


@responses.activate
def test_token_request_and_headers():
    CONTRACT.token()
    responses.add(responses.GET, OPERATIONS[0].url, json=fixture("ups", "track_delivered"))
    UPSCarrier(account()).track([NUMBER])
    token_call, track_call = responses.calls
    assert token_call.request.headers["x-merchant-id"] == "A1B2C3"
    assert token_call.request.headers["Authorization"].startswith("Basic ")
    assert token_call.request.body == "grant_type=client_credentials"
    assert len(track_call.request.headers["transId"]) == 32
    assert track_call.request.headers["transactionSrc"] == "shipflow"


@responses.activate
def test_unknown_tracking_number_is_left_out():
    CONTRACT.token()
    responses.add(
        responses.GET,
        f"{BASE}/api/track/v1/details/1Z0000000000000000",
        json=fixture("ups", "track_not_found"),
        status=404,
    )
    assert UPSCarrier(account()).track(["1Z0000000000000000"]) == []


def test_delivery_after_return_scan_is_returned_to_sender():
    [update] = mapping.parse_track_response(fixture("ups", "track_returned"))
    assert [(e.status, e.raw_code) for e in update.events] == [
        (Status.RETURNING_TO_SENDER, "RS:RS"),
        (Status.RETURNED_TO_SENDER, "D:FS"),
    ]


@responses.activate
def test_ship_request_body():
    CONTRACT.token()
    responses.add(responses.POST, OPERATIONS[2].url, json=fixture("ups", "ship"))
    UPSCarrier(account()).create_return_label(REQUEST)
    sent = json.loads(responses.calls[1].request.body)
    address = {
        "City": "Chicago",
        "StateProvinceCode": "IL",
        "PostalCode": "60607",
        "CountryCode": "US",
        "AddressLine": ["1 Main St"],
    }
    home = {
        "Name": "Shop Inc",
        "AttentionName": "Dock 4",
        "Phone": {"Number": "3125550100"},
        "Address": address,
    }
    customer = {
        "Name": "Jane Doe",
        "AttentionName": "Jane Doe",
        "Phone": {"Number": "9735550100"},
        "Address": {
            "City": "Wayne",
            "StateProvinceCode": "NJ",
            "PostalCode": "07470",
            "CountryCode": "US",
            "AddressLine": ["100 Main St", "Apt 2"],
        },
    }
    assert sent == {
        "ShipmentRequest": {
            "Request": {
                "RequestOption": "nonvalidate",
                "TransactionReference": {"CustomerContext": "order-1001"},
            },
            "Shipment": {
                "Description": "order-1001",
                "Shipper": {**customer, "ShipperNumber": "A1B2C3"},
                "ShipFrom": home,
                "ShipTo": {
                    **customer,
                    "Address": {**customer["Address"], "ResidentialAddressIndicator": "Y"},
                },
                "PaymentInformation": {
                    "ShipmentCharge": [{"Type": "01", "BillShipper": {"AccountNumber": "A1B2C3"}}]
                },
                "Service": {"Code": "03"},
                "Package": [
                    {
                        "Packaging": {"Code": "02"},
                        "PackageWeight": {"UnitOfMeasurement": {"Code": "LBS"}, "Weight": "2.3"},
                        "Dimensions": {
                            "UnitOfMeasurement": {"Code": "IN"},
                            "Length": "11.9",
                            "Width": "7.9",
                            "Height": "4.0",
                        },
                        "Description": "order-1001",
                    }
                ],
                "ShipmentRatingOptions": {"NegotiatedRatesIndicator": "Y"},
                "ReferenceNumber": {"Value": "order-1001"},
                "ReturnService": {"Code": "9"},
            },
            "LabelSpecification": {
                "LabelImageFormat": {"Code": "GIF"},
                "LabelStockSize": {"Height": "6", "Width": "4"},
            },
        }
    }


def test_rate_request_uses_metric_units_outside_the_us():
    request = ShipmentRequest(
        shipper=Address(country="DE", postal_code="10115", city="Berlin"),
        recipient=Address(country="FR", postal_code="75001", city="Paris"),
        parcels=[Parcel(weight_g=1250)],
        service="standard",
    )
    payload = mapping.build_rate_request(request, "A1B2C3")
    package = payload["RateRequest"]["Shipment"]["Package"]
    assert package == [
        {
            "PackagingType": {"Code": "02"},
            "PackageWeight": {"UnitOfMeasurement": {"Code": "KGS"}, "Weight": "1.3"},
        }
    ]
    assert payload["RateRequest"]["Shipment"]["Service"] == {"Code": "11"}


def test_multi_parcel_label_is_refused():
    two = ShipmentRequest(SHIPPER, RECIPIENT, [Parcel(500), Parcel(500)], "ground")
    with pytest.raises(NotSupported):
        UPSCarrier(account()).create_label(two)


# -- Track Alert webhooks -----------------------------------------------------------------

ALERT = json.dumps(fixture("ups", "track_alert")).encode()


def test_webhook_with_credential_is_parsed():
    carrier = UPSCarrier(account())
    request = WebhookRequest(headers={"Credential": "s3cret-credential"}, body=ALERT)
    carrier.verify_webhook(request)
    assert carrier.parse_webhook(request) == [
        TrackingUpdate(
            carrier="ups",
            tracking_number=NUMBER,
            events=(
                event(
                    Status.ATTEMPT_FAILED,
                    at((2026, 11, 23), 16, 15, -5),
                    "X:48",
                    "The receiver was not available for delivery",
                    Reason.CUSTOMER_UNAVAILABLE,
                    "Wayne",
                    "NJ",
                    "07470",
                ),
            ),
            estimated_delivery=at((2026, 11, 24), 17, 0, -5),
        )
    ]


def test_delivery_alert_carries_the_signer_and_the_photo():
    """The delivery scan of DELIVERED, pushed by Track Alert with its signer and photo."""
    assert mapping.parse_alerts(fixture("ups", "track_alert_delivered")) == [
        replace(
            DELIVERED,
            events=DELIVERED.events[-1:],
            service="",
            proof_of_delivery=ProofOfDelivery(
                signed_by="JOHNSON", photo="R0lGODlhAQABAIAAAP///wAAACwAAAAAAQABAAACAkQBADs="
            ),
        )
    ]


@pytest.mark.parametrize(
    "headers",
    [{}, {"credential": "wrong"}, {"credential": ""}, {"credential": "s3cret-credentiaL"}],
    ids=["missing", "wrong", "empty", "case"],
)
def test_webhook_with_bad_credential_is_rejected(headers):
    with pytest.raises(WebhookSignatureError):
        UPSCarrier(account()).verify_webhook(WebhookRequest(headers=headers, body=ALERT))


def test_webhook_rejected_when_no_credential_is_configured():
    carrier = UPSCarrier(account(webhook_credential=""))
    with pytest.raises(WebhookSignatureError):
        carrier.verify_webhook(WebhookRequest(headers={"credential": ""}, body=ALERT))


def test_malformed_webhook_is_a_response_error():
    with pytest.raises(CarrierResponseError):
        UPSCarrier(account()).parse_webhook(WebhookRequest(headers={}, body=b"{not json"))


# -- status tables: one case per row, the expected value written out ---------------------

S, R = Status, Reason


@pytest.mark.parametrize(
    ("kind", "status", "reason"),
    [
        ("M", S.INFO_RECEIVED, None),
        ("MV", S.CANCELLED, None),
        ("P", S.IN_TRANSIT, None),
        ("I", S.IN_TRANSIT, None),
        ("U", S.IN_TRANSIT, None),
        ("DO", S.IN_TRANSIT, None),
        ("DD", S.IN_TRANSIT, None),
        ("W", S.IN_TRANSIT, None),
        ("O", S.OUT_FOR_DELIVERY, None),
        ("D", S.DELIVERED, None),
        ("RS", S.RETURNING_TO_SENDER, None),
        ("NA", S.PENDING, None),
    ],
)
def test_status_type_row(kind, status, reason):
    assert mapping.classify(kind, "", "") == (status, reason)


# (type, code, UPS's description as sent in real answers) -> (status, reason). The VK, RZ, DA,
# BB and DJ cases are the real answers UPS's type X carries good news (or a delay) under.
@pytest.mark.parametrize(
    ("kind", "code", "text", "status", "reason"),
    [
        ("X", "SR", "Your package was released by the customs agency.", S.IN_TRANSIT, None),
        ("X", "RZ", "Your package was released by the government agency.", S.IN_TRANSIT, None),
        (
            "X",
            "VK",
            "Your package has cleared customs and is on the way.",
            S.IN_TRANSIT,
            None,
        ),
        ("X", "DA", "Your package is on the way.", S.IN_TRANSIT, None),
        (
            "X",
            "BB",
            "We've received the information needed to submit your package for clearance.",
            S.IN_TRANSIT,
            None,
        ),
        ("I", "OT", "Out For Delivery Today", S.OUT_FOR_DELIVERY, None),
        ("I", "OF", "Out For Delivery", S.OUT_FOR_DELIVERY, None),
        (
            "X",
            "48",
            "The receiver was not available for delivery.",
            S.ATTEMPT_FAILED,
            R.CUSTOMER_UNAVAILABLE,
        ),
        ("X", "B5", "The business was closed.", S.ATTEMPT_FAILED, R.BUSINESS_CLOSED),
        ("X", "RE", "The receiver refused the delivery.", S.ATTEMPT_FAILED, R.REFUSED),
        ("X", "AD", "The address is incorrect.", S.EXCEPTION, R.ADDRESS_INCORRECT),
        ("X", "UA", "The address is unknown.", S.EXCEPTION, R.ADDRESS_INCORRECT),
        (
            "X",
            "DJ",
            "Severe weather conditions have delayed delivery.",
            S.IN_TRANSIT,
            R.WEATHER,
        ),
        ("X", "WE", "Severe weather delay.", S.IN_TRANSIT, R.WEATHER),
        ("X", "CU", "Held by the customs agency.", S.EXCEPTION, R.CUSTOMS_HOLD),
        ("X", "BR", "Duties are due before release.", S.EXCEPTION, R.PAYMENT_REQUIRED),
        ("X", "DM", "The package was damaged.", S.EXCEPTION, R.DAMAGED),
        ("X", "LO", "The package could not be located.", S.EXCEPTION, R.LOST),
        ("X", "DL", "Delayed in the UPS network.", S.IN_TRANSIT, R.CARRIER_DELAY),
        ("X", "HP", "Held at a UPS facility.", S.EXCEPTION, R.HELD_BY_CARRIER),
        ("X", "ZP", "Held at a UPS facility for pickup.", S.AVAILABLE_FOR_PICKUP, None),
        ("D", "2W", "Delivered to UPS Access Point", S.AVAILABLE_FOR_PICKUP, None),
    ],
)
def test_status_code_row(kind, code, text, status, reason):
    assert mapping.classify(kind, code, text) == (status, reason)


@pytest.mark.parametrize(
    ("text", "status", "reason"),
    [
        ("Your package has cleared customs and is on the way.", S.IN_TRANSIT, None),
        ("Severe weather conditions have delayed delivery.", S.IN_TRANSIT, R.WEATHER),
        ("The customer was not available.", S.ATTEMPT_FAILED, R.CUSTOMER_UNAVAILABLE),
        ("We could not access the delivery location.", S.ATTEMPT_FAILED, R.ACCESS_PROBLEM),
        ("The street number is incorrect.", S.EXCEPTION, R.ADDRESS_INCORRECT),
        ("A mechanical failure has caused a delay.", S.IN_TRANSIT, R.CARRIER_DELAY),
        ("An unusual event.", S.IN_TRANSIT, None),
    ],
)
def test_exception_without_its_own_row_is_read_from_its_text(text, status, reason):
    assert mapping.classify("X", "Q9", text) == (status, reason)


def test_code_rows_do_not_misfire_across_types():
    assert mapping.classify("D", "48", "Delivered") == (Status.DELIVERED, None)
    assert mapping.classify("I", "DJ", "Departed from Facility") == (Status.IN_TRANSIT, None)


@pytest.mark.parametrize(("code", "entry"), units.SERVICES.items())
def test_service_row_round_trips(code, entry):
    assert mapping.service_code(entry[0]) == code
    assert mapping.service_name(code) == entry[0]


def test_shipment_with_only_warnings_is_left_out():
    body = {
        "trackResponse": {
            "shipment": [
                {
                    "inquiryNumber": "1Z0000000000000000",
                    "package": [],
                    "warnings": [{"code": "TW0001", "message": "Tracking Information Not Found"}],
                }
            ]
        }
    }
    assert mapping.parse_track_response(body) == []


def test_time_in_transit_is_read_from_the_service_summary():
    rated = {
        "Service": {"Code": "03"},
        "TotalCharges": {"CurrencyCode": "USD", "MonetaryValue": "14.68"},
        "TimeInTransit": {
            "ServiceSummary": {
                "EstimatedArrival": {"Arrival": {"Date": "20261127"}, "BusinessDaysInTransit": "3"}
            }
        },
    }
    assert mapping.parse_rate_response({"RateResponse": {"RatedShipment": rated}}) == [
        RateQuote("ups", "ground", Money(1468, "USD"), 3, datetime(2026, 11, 27).date())
    ]


def test_unknown_label_format_is_a_configuration_error():
    with pytest.raises(ValueError, match="label_format"):
        UPSCarrier(account(label_format="PDF"))


@pytest.mark.parametrize(
    ("recipient_country", "where", "expected"),
    [
        ("US", "package", {"PackageServiceOptions": {"DeliveryConfirmation": {"DCISType": "2"}}}),
        ("CA", "shipment", {"ShipmentServiceOptions": {"DeliveryConfirmation": {"DCISType": "1"}}}),
    ],
)
def test_signature_confirmation_level(recipient_country, where, expected):
    recipient = Address(country=recipient_country, postal_code="M5V 2T6", city="Toronto")
    request = ShipmentRequest(SHIPPER, recipient, [Parcel(500)], "ground", signature_required=True)
    shipment = mapping.build_ship_request(request, "A1B2C3", "ZPL")["ShipmentRequest"]["Shipment"]
    node = shipment["Package"][0] if where == "package" else shipment
    assert expected.items() <= node.items()


@responses.activate
def test_void_not_confirmed_is_rejected():
    CONTRACT.token()
    body = fixture("ups", "void")
    body["VoidShipmentResponse"]["SummaryResult"]["Status"] = {"Code": "0", "Description": "Fail"}
    responses.add(responses.DELETE, OPERATIONS[4].url, json=body)
    with pytest.raises(CarrierRejected):
        UPSCarrier(account()).cancel("1Z2220060290602143")


def _track(*activities):
    package = {"trackingNumber": NUMBER, "activity": list(activities)}
    [update] = mapping.parse_track_response({"trackResponse": {"shipment": {"package": package}}})
    return update


def _activity(**fields):
    return {"status": {"type": "I", "code": "AR", "description": "Arrival Scan"}, **fields}


def test_scheduled_delivery_is_read_in_the_destinations_zone():
    """Tracking.yaml: deliveryDate SDD and the deliveryTime window are the destination's; a
    package last scanned in Chicago (Central) for Wayne, NJ is due by the end of the day in
    Eastern time (it was read in the last scan's zone, an hour late)."""
    package = {
        "trackingNumber": NUMBER,
        "packageAddress": [
            {
                "type": "ORIGIN",
                "address": {"city": "Chicago", "stateProvince": "IL", "countryCode": "US"},
            },
            {
                "type": "DESTINATION",
                "address": {
                    "city": "Wayne",
                    "stateProvince": "NJ",
                    "postalCode": "07470",
                    "countryCode": "US",
                    "country": "US",
                },
            },
        ],
        "deliveryDate": [{"type": "SDD", "date": "20261124"}],
        "deliveryTime": {"type": "EOD"},
        "activity": [
            {
                "location": {
                    "address": {"city": "Chicago", "stateProvince": "IL", "countryCode": "US"}
                },
                "status": {"type": "I", "code": "DP", "description": "Departed from Facility"},
                "date": "20261122",
                "time": "230500",
                "gmtDate": "20261123",
                "gmtOffset": "-06:00",
                "gmtTime": "050500",
            }
        ],
    }
    [update] = mapping.parse_track_response(
        {"trackResponse": {"shipment": [{"package": [package]}]}}
    )
    assert update.estimated_delivery == datetime(
        2026, 11, 24, 23, 59, 59, tzinfo=ZoneInfo("America/New_York")
    )
    assert update.estimated_delivery.utcoffset() == timedelta(hours=-5)


def test_activity_without_offset_uses_gmt():
    update = _track(_activity(gmtDate="20261122", gmtTime="74700"))
    assert update.events[0].occurred_at == datetime(2026, 11, 22, 7, 47, tzinfo=UTC)


def test_gmt_time_with_colons_is_read():
    update = _track(_activity(gmtDate="20261122", gmtTime="07:47:00"))
    assert update.events[0].occurred_at == datetime(2026, 11, 22, 7, 47, tzinfo=UTC)


def test_activity_without_gmt_fields_is_read_in_its_locations_zone():
    """Tracking.yaml makes gmtDate, gmtTime and gmtOffset optional: a local time with none of
    them is read in the scan location's zone (New Jersey: Eastern time)."""
    location = {"address": {"city": "Wayne", "stateProvince": "NJ", "countryCode": "US"}}
    update = _track(_activity(date="20261122", time="074700", location=location))
    when = update.events[0].occurred_at
    assert when == datetime(2026, 11, 22, 7, 47, tzinfo=ZoneInfo("America/New_York"))
    assert when.utcoffset() == timedelta(hours=-5)


def test_activity_without_any_time_is_skipped_and_kept():
    good = _activity(date="20261122", time="074700", gmtOffset="-05:00")
    bad = _activity(date="20261123")
    update = _track(bad, good)
    assert [e.raw_code for e in update.events] == ["I:AR"]
    [skipped] = update.unreadable
    assert json.loads(skipped.raw) == bad
    assert "neither a local nor a GMT" in skipped.error


def test_alert_without_gmt_fields_is_read_in_its_locations_zone():
    body = fixture("ups", "track_alert")
    for key in ("gmtOffset", "gmtActivityDate", "gmtActivityTime"):
        body.pop(key, None)
    [update] = mapping.parse_alerts(body)
    assert update.events[0].occurred_at == datetime(
        2026, 11, 23, 16, 15, tzinfo=ZoneInfo("America/New_York")
    )


def test_unreadable_alert_does_not_sink_the_others():
    good = fixture("ups", "track_alert")
    bad = {**good, "trackingNumber": None, "activityStatus": 7}
    del bad["trackingNumber"]
    assert [u.tracking_number for u in mapping.parse_alerts([bad, good])] == [NUMBER]


@pytest.mark.parametrize("body", [[], {"trackResponse": []}, {"trackResponse": {"shipment": 3}}])
def test_wrongly_shaped_track_response_is_a_response_error(body):
    with pytest.raises(CarrierResponseError):
        mapping.parse_track_response(body)


def test_label_format_is_checked_when_the_adapter_is_made():
    assert UPSCarrier(account(label_format="zpl")).label_format == "ZPL"
    with pytest.raises(ValueError, match="ups label_format must be one of"):
        UPSCarrier(account(label_format="PDF"))
