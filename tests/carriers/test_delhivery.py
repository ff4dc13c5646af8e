"""Delhivery adapter against payloads shaped like its B2C API documentation (see each
fixture): the contract, the status tables row by row, shipments with cash on delivery, pickups,
scan pushes and failed-delivery instructions."""

from __future__ import annotations

import json
from datetime import date, datetime
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
import responses

from carriers.base import (
    Capability,
    CarrierAccount,
    CarrierOutcomeUnknown,
    CarrierRejected,
    FailedDeliveryAction,
    FailedDeliveryInstruction,
    Label,
    NotSupported,
    PickupConfirmation,
    PickupRequest,
    ShipmentRequest,
    WebhookSignatureError,
)
from carriers.delhivery import DelhiveryCarrier, mapping
from carriers.registry import get_carrier_class
from shipflow.domain import (
    Address,
    Money,
    Parcel,
    Reason,
    Status,
    TrackingEvent,
    TrackingUpdate,
    WebhookRequest,
)
from tests.carriers.carrier_contract import Contract, Operation, fixture

BASE = "https://staging-express.delhivery.com"
IST = ZoneInfo("Asia/Kolkata")
WAYBILL = "1490811234567"
S, R = Status, Reason

WAREHOUSE = Address(
    "IN", "122413", "Gurgaon", "HR", "Plot 12, Bilaspur", name="ShopIndia", phone="9810000000"
)
CUSTOMER = Address(
    "IN",
    "560034",
    "Bengaluru",
    "KA",
    "12 80 Feet Rd",
    "Koramangala 4th Block",
    name="Ananya Rao",
    phone="9845012345",
)
COD_REQUEST = ShipmentRequest(
    WAREHOUSE,
    CUSTOMER,
    [Parcel(650, 250, 200, 100)],
    "surface",
    reference="SO-1042",
    cash_on_delivery=Money(129900, "INR"),
)


def account(**credentials: str) -> CarrierAccount:
    base = {"api_token": "dlv-token", "pickup_location": "SHOPINDIA-GGN", "webhook_token": "w3b"}
    return CarrierAccount("delhivery", "shopindia", {**base, **credentials})


def carrier() -> DelhiveryCarrier:
    return DelhiveryCarrier(account())


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=IST)


GURGAON = dict(
    location="Gurgaon_Bilaspur_HB (Haryana)", city="Gurgaon", state="Haryana", country="IN"
)
BENGALURU = dict(
    location="Bengaluru_Koramangala_D (Karnataka)",
    city="Bengaluru",
    state="Karnataka",
    country="IN",
)
PUNE = dict(location="Pune_Kharadi_D (Maharashtra)", city="Pune", state="Maharashtra", country="IN")

MISSED = TrackingEvent(
    S.ATTEMPT_FAILED,
    at(2026, 11, 23, 19, 42, 7),
    "UD:Pending:EOD-6",
    "Pending - Consignee Unavailable",
    R.CUSTOMER_UNAVAILABLE,
    **BENGALURU,
)
DELIVERED = TrackingUpdate(
    carrier="delhivery",
    tracking_number=WAYBILL,
    events=(
        TrackingEvent(
            S.INFO_RECEIVED,
            datetime(2026, 11, 20, 14, 31, 48, 752000, tzinfo=IST),
            "UD:Manifested:X-UCI",
            "Manifested - Manifest uploaded",
            None,
            **GURGAON,
        ),
        TrackingEvent(
            S.IN_TRANSIT,
            at(2026, 11, 20, 18, 10, 52),
            "UD:In Transit:X-PPOM",
            "In Transit - Shipment picked up",
            None,
            **GURGAON,
        ),
        MISSED,
        TrackingEvent(
            S.OUT_FOR_DELIVERY,
            at(2026, 11, 24, 9, 15, 30),
            "UD:Dispatched:X-DDD3FD",
            "Dispatched - Out for delivery",
            None,
            **BENGALURU,
        ),
        TrackingEvent(
            S.DELIVERED,
            datetime(2026, 11, 24, 13, 5, 11, 400000, tzinfo=IST),
            "DL:Delivered:EOD-38",
            "Delivered - Delivered to consignee",
            None,
            **BENGALURU,
        ),
    ),
    estimated_delivery=at(2026, 11, 24, 23, 59, 59),
)

OPERATIONS = [
    Operation(
        "track",
        "GET",
        f"{BASE}/api/v1/packages/json/",
        "track_cod_delivered",
        lambda c: c.track([WAYBILL]),
        [DELIVERED],
    ),
    Operation(
        "create",
        "POST",
        f"{BASE}/api/cmu/create.json",
        "create_success",
        lambda c: mapping.created_waybill(
            c.client.create(mapping.build_create_request(COD_REQUEST, c.pickup_location))
        ),
        WAYBILL,
        buys=True,
    ),
    Operation(
        "cancel",
        "POST",
        f"{BASE}/api/p/edit",
        "cancel",
        lambda c: c.cancel(WAYBILL),
        None,
        buys=True,
    ),
    Operation(
        "pickup",
        "POST",
        f"{BASE}/fm/request/new/",
        "pickup",
        lambda c: c.schedule_pickup(
            PickupRequest(WAREHOUSE, date(2026, 11, 23), "11:00", "18:00", 3)
        ),
        PickupConfirmation("delhivery", "40785512", date(2026, 11, 23)),
        buys=True,
    ),
    Operation(
        "ndr",
        "POST",
        f"{BASE}/api/p/update",
        "ndr",
        lambda c: c.failed_delivery_action(
            FailedDeliveryInstruction(WAYBILL, FailedDeliveryAction.REATTEMPT)
        ),
        "UPL10575891229462827496",
        buys=True,
    ),
]

CONTRACT = Contract(carrier="delhivery", make=carrier, error_message="format key missing in POST")


test_operation_contract = CONTRACT.test_for(OPERATIONS)


def test_registry_and_capabilities():
    assert get_carrier_class("delhivery") is DelhiveryCarrier
    assert DelhiveryCarrier.track_batch_size == 50
    assert DelhiveryCarrier.capabilities == {
        Capability.LABELS,
        Capability.RETURN_LABELS,
        Capability.CANCEL,
        Capability.TRACKING_POLL,
        Capability.WEBHOOKS,
        Capability.FAILED_DELIVERY_ACTIONS,
        Capability.PICKUPS,
        Capability.CASH_ON_DELIVERY,
    }
    assert DelhiveryCarrier.failed_delivery_actions == {
        FailedDeliveryAction.REATTEMPT,
        FailedDeliveryAction.UPDATE_ADDRESS,
    }
    assert not carrier().takes_instruction(FailedDeliveryAction.RETURN_TO_SENDER)


# -- the status tables, row by row ------------------------------------------------------


@pytest.mark.parametrize(
    ("status_type", "status", "nsl", "instructions", "expected"),
    [
        ("UD", "Manifested", "X-UCI", "Manifest uploaded", (S.INFO_RECEIVED, None)),
        ("UD", "Not Picked", "X-PNP", "Pickup not done", (S.INFO_RECEIVED, None)),
        ("UD", "In Transit", "X-PPOM", "Shipment picked up", (S.IN_TRANSIT, None)),
        ("UD", "Pending", "X-IBD3F", "Shipment received at facility", (S.IN_TRANSIT, None)),
        ("UD", "Dispatched", "X-DDD3FD", "Out for delivery", (S.OUT_FOR_DELIVERY, None)),
        ("DL", "Delivered", "EOD-38", "Delivered to consignee", (S.DELIVERED, None)),
        ("RT", "In Transit", "RT-101", "Returned as per client", (S.RETURNING_TO_SENDER, None)),
        ("RT", "Pending", "RT-110", "Received at RTO centre", (S.RETURNING_TO_SENDER, None)),
        ("RT", "Dispatched", "RT-113", "Out for RTO delivery", (S.RETURNING_TO_SENDER, None)),
        ("DL", "RTO", "RD-AC", "RTO delivered to shipper", (S.RETURNED_TO_SENDER, None)),
        ("PP", "Open", "X-ASP", "Pickup request created", (S.INFO_RECEIVED, None)),
        ("PP", "Scheduled", "X-SC", "Pickup scheduled", (S.INFO_RECEIVED, None)),
        ("PP", "Dispatched", "X-DDO", "Out for pickup", (S.INFO_RECEIVED, None)),
        ("PU", "In Transit", "X-PPOM", "Picked up from customer", (S.IN_TRANSIT, None)),
        ("PU", "Pending", "X-IBD3F", "Received at facility", (S.IN_TRANSIT, None)),
        ("PU", "Dispatched", "X-DDO", "Out for delivery to client", (S.OUT_FOR_DELIVERY, None)),
        ("DL", "DTO", "EOD-600", "Delivered to client", (S.DELIVERED, None)),
        ("CN", "Canceled", "X-CAN", "Cancelled by client", (S.CANCELLED, None)),
        ("CN", "Closed", "X-CLO", "Pickup closed", (S.CANCELLED, None)),
        ("LT", "Lost", "LT-100", "Shipment lost", (S.EXCEPTION, R.LOST)),
        # failed-attempt NSL codes on an undelivered scan
        (
            "UD",
            "Pending",
            "EOD-6",
            "Consignee Unavailable",
            (S.ATTEMPT_FAILED, R.CUSTOMER_UNAVAILABLE),
        ),
        ("UD", "Pending", "EOD-74", "Consignee refused to accept", (S.ATTEMPT_FAILED, R.REFUSED)),
        ("UD", "Pending", "EOD-3", "Delivery rescheduled by customer", (S.ATTEMPT_FAILED, None)),
        (
            "UD",
            "Pending",
            "EOD-11",
            "Consignee not available",
            (S.ATTEMPT_FAILED, R.CUSTOMER_UNAVAILABLE),
        ),
        (
            "UD",
            "Pending",
            "EOD-15",
            "Consignee refused to pay COD amount",
            (S.ATTEMPT_FAILED, R.COD_REFUSED),
        ),
        ("UD", "Pending", "EOD-16", "COD amount not ready", (S.ATTEMPT_FAILED, R.COD_REFUSED)),
        ("UD", "Pending", "EOD-43", "Consignee phone not reachable", (S.ATTEMPT_FAILED, None)),
        ("UD", "Pending", "EOD-69", "Customer wants open delivery", (S.ATTEMPT_FAILED, None)),
        ("UD", "Pending", "EOD-86", "Not attempted", (S.ATTEMPT_FAILED, None)),
        (
            "UD",
            "Pending",
            "EOD-104",
            "Entry restricted, no access to area",
            (S.ATTEMPT_FAILED, R.ACCESS_PROBLEM),
        ),
        (
            "UD",
            "Pending",
            "ST-108",
            "Shipment held as per consignee request",
            (S.ATTEMPT_FAILED, None),
        ),
        (
            "UD",
            "Dispatched",
            "EOD-6",
            "Consignee Unavailable",
            (S.ATTEMPT_FAILED, R.CUSTOMER_UNAVAILABLE),
        ),
        # an RTO after a COD refusal keeps the reason
        (
            "RT",
            "In Transit",
            "RT-101",
            "COD refused by consignee",
            (S.RETURNING_TO_SENDER, R.COD_REFUSED),
        ),
        ("RT", "In Transit", "RT-102", "Consignee refused", (S.RETURNING_TO_SENDER, R.REFUSED)),
        # codes outside the tables: the text, then the StatusType, then in transit
        ("UD", "Held", "ST-999", "Held at destination due to weather", (S.IN_TRANSIT, R.WEATHER)),
        ("UD", "Sorted", "X-NEW", "Bag sealed", (S.IN_TRANSIT, None)),
        ("RT", "Reconciled", "XX-999", "Bag sealed at hub", (S.RETURNING_TO_SENDER, None)),
        ("PP", "Requeued", "X-NEW", "Request requeued", (S.INFO_RECEIVED, None)),
        ("CN", "Void", "X-NEW", "Voided", (S.CANCELLED, None)),
        ("DL", "Delivered", "EOD-6", "Delivered to consignee", (S.DELIVERED, None)),
    ],
)
def test_status_table(status_type, status, nsl, instructions, expected):
    assert mapping.classify(status_type, status, nsl, instructions) == expected


# -- tracking ---------------------------------------------------------------------------


@responses.activate
def test_poll_sends_token_and_comma_separated_waybills():
    responses.add(
        responses.GET, f"{BASE}/api/v1/packages/json/", json=fixture("delhivery", "track_unknown")
    )
    assert carrier().track([WAYBILL, "1490811234568"]) == []
    sent = responses.calls[0].request
    assert sent.headers["Authorization"] == "Token dlv-token"
    assert parse_qs(urlsplit(sent.url).query) == {"waybill": [f"{WAYBILL},1490811234568"]}


@responses.activate
def test_poll_is_split_at_fifty_waybills():
    for _ in range(2):
        responses.add(
            responses.GET,
            f"{BASE}/api/v1/packages/json/",
            json=fixture("delhivery", "track_unknown"),
        )
    numbers = [f"14908112{n:05d}" for n in range(51)]
    carrier().track(numbers)
    batches = [parse_qs(urlsplit(c.request.url).query)["waybill"][0] for c in responses.calls]
    assert [len(b.split(",")) for b in batches] == [50, 1]


def test_rto_batch_keeps_the_good_scans_of_a_bad_one():
    first, second = mapping.parse_track_response(fixture("delhivery", "track_rto_batch"))
    assert first.events == (
        TrackingEvent(
            S.ATTEMPT_FAILED,
            at(2026, 11, 23, 17, 2, 44),
            "UD:Pending:EOD-15",
            "Pending - Consignee refused to pay COD amount",
            R.COD_REFUSED,
            **PUNE,
        ),
        TrackingEvent(
            S.ATTEMPT_FAILED,
            at(2026, 11, 24, 16, 40),
            "UD:Pending:EOD-74",
            "Pending - Consignee refused to accept",
            R.REFUSED,
            **PUNE,
        ),
        TrackingEvent(
            S.RETURNING_TO_SENDER,
            at(2026, 11, 25, 10, 0),
            "RT:In Transit:RT-101",
            "In Transit - Returned as per client instructions",
            None,
            **PUNE,
        ),
        TrackingEvent(
            S.RETURNING_TO_SENDER,
            at(2026, 11, 26, 8, 0),
            "RT:Reconciled:XX-999",
            "Reconciled - Bag sealed at hub",
            None,
            location="Pune_Hub (Maharashtra)",
            city="Pune",
            state="Maharashtra",
            country="IN",
        ),
        TrackingEvent(
            S.RETURNED_TO_SENDER,
            at(2026, 11, 29, 11, 20),
            "DL:RTO:RD-AC",
            "RTO - RTO delivered to shipper",
            None,
            **GURGAON,
        ),
    )
    [skipped] = first.unreadable
    assert skipped.what == "scan" and "Scan without a time" in skipped.raw
    assert first.estimated_delivery is None
    assert second == TrackingUpdate(
        carrier="delhivery",
        tracking_number="1490811234569",
        events=(
            TrackingEvent(
                S.INFO_RECEIVED,
                at(2026, 11, 28, 10, 2, 3),
                "UD:Manifested:X-UCI",
                "Manifested - Manifest uploaded",
                None,
                **GURGAON,
            ),
        ),
    )


def test_a_shipment_that_cannot_be_read_does_not_sink_the_batch():
    body = fixture("delhivery", "track_rto_batch")
    del body["ShipmentData"][1]["Shipment"]["AWB"]
    [update] = mapping.parse_track_response(body)
    assert update.tracking_number == "1490811234568"


def test_times_without_offset_are_india_standard_time():
    moment = mapping.ist("2026-11-24T13:05:11.4")
    assert moment == datetime(2026, 11, 24, 7, 35, 11, 400000, tzinfo=ZoneInfo("UTC"))


# -- the scan push ----------------------------------------------------------------------


def push(headers: dict[str, str]) -> WebhookRequest:
    body = json.dumps(fixture("delhivery", "push_scan")).encode()
    return WebhookRequest(headers=headers, body=body)


def test_push_is_parsed_like_the_poll_scan_it_repeats():
    request = push({"Authorization": "Bearer w3b"})
    carrier().verify_webhook(request)
    [update] = carrier().parse_webhook(request)
    assert update == TrackingUpdate(carrier="delhivery", tracking_number=WAYBILL, events=(MISSED,))
    assert update.events[0].dedupe_key == DELIVERED.events[2].dedupe_key


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": "w3b"},
        {"Authorization": "Token dlv-token"},
    ],
    ids=["missing", "wrong", "no-scheme", "api-token"],
)
def test_push_with_a_bad_token_is_refused(headers):
    with pytest.raises(WebhookSignatureError):
        carrier().verify_webhook(push(headers))


def test_push_refused_when_no_token_is_configured():
    with pytest.raises(WebhookSignatureError):
        DelhiveryCarrier(account(webhook_token="")).verify_webhook(
            push({"Authorization": "Bearer "})
        )


# -- shipments ---------------------------------------------------------------------------


def sent_shipment(call) -> dict:
    form = parse_qs(call.request.body)
    assert form["format"] == ["json"]
    return json.loads(form["data"][0])


@responses.activate
def test_cod_shipment_with_its_packing_slip_label():
    link = fixture("delhivery", "packing_slip")["packages"][0]["pdf_download_link"]
    responses.add(
        responses.POST, f"{BASE}/api/cmu/create.json", json=fixture("delhivery", "create_success")
    )
    responses.add(
        responses.GET, f"{BASE}/api/p/packing_slip", json=fixture("delhivery", "packing_slip")
    )
    responses.add(responses.GET, link, body=b"%PDF-1.4 label", content_type="application/pdf")

    label = carrier().create_label(COD_REQUEST)

    assert label == Label(
        carrier="delhivery",
        service="surface",
        tracking_number=WAYBILL,
        label_format="PDF",
        label_data=b"%PDF-1.4 label",
        carrier_shipment_id=WAYBILL,
    )
    create, slip, download = responses.calls
    assert create.request.headers["Authorization"] == "Token dlv-token"
    assert sent_shipment(create) == {
        "shipments": [
            {
                "name": "Ananya Rao",
                "add": "12 80 Feet Rd, Koramangala 4th Block",
                "pin": "560034",
                "city": "Bengaluru",
                "state": "KA",
                "country": "India",
                "phone": "9845012345",
                "order": "SO-1042",
                "payment_mode": "COD",
                "cod_amount": 1299.0,
                "weight": 650,
                "shipping_mode": "Surface",
                "shipment_length": 25.0,
                "shipment_width": 20.0,
                "shipment_height": 10.0,
            }
        ],
        "pickup_location": {"name": "SHOPINDIA-GGN"},
    }
    assert parse_qs(urlsplit(slip.request.url).query) == {"wbns": [WAYBILL], "pdf": ["true"]}
    assert "Authorization" not in download.request.headers


def test_prepaid_and_return_bodies():
    prepaid = ShipmentRequest(WAREHOUSE, CUSTOMER, [Parcel(1200)], "express", reference="SO-2")
    shipment = json.loads(mapping.build_create_request(prepaid, "GGN")["data"])["shipments"][0]
    assert (shipment["payment_mode"], shipment["shipping_mode"], shipment["weight"]) == (
        "Prepaid",
        "Express",
        1200,
    )
    assert "cod_amount" not in shipment and "shipment_length" not in shipment
    back = ShipmentRequest(CUSTOMER, WAREHOUSE, [Parcel(900)], "surface", "RMA-7", is_return=True)
    pickup = json.loads(mapping.build_create_request(back, "GGN")["data"])["shipments"][0]
    assert (pickup["payment_mode"], pickup["name"], pickup["pin"]) == (
        "Pickup",
        "Ananya Rao",
        "560034",
    )


def test_cod_in_another_currency_is_not_supported():
    usd = ShipmentRequest(
        WAREHOUSE, CUSTOMER, [Parcel(650)], "surface", cash_on_delivery=Money(1000, "USD")
    )
    with pytest.raises(NotSupported, match="INR"):
        mapping.build_create_request(usd, "GGN")


@responses.activate
def test_refused_package_in_a_200_answer_is_rejected_with_delhiverys_words():
    responses.add(
        responses.POST, f"{BASE}/api/cmu/create.json", json=fixture("delhivery", "create_refused")
    )
    with pytest.raises(CarrierRejected) as caught:
        carrier().create_label(COD_REQUEST)
    assert "Package has no pin" in caught.value.carrier_message


@responses.activate
def test_label_that_cannot_be_fetched_leaves_the_outcome_to_check():
    responses.add(
        responses.POST, f"{BASE}/api/cmu/create.json", json=fixture("delhivery", "create_success")
    )
    responses.add(
        responses.GET, f"{BASE}/api/p/packing_slip", json={"packages": [], "packages_found": 0}
    )
    with pytest.raises(CarrierOutcomeUnknown, match=WAYBILL):
        carrier().create_label(COD_REQUEST)


@responses.activate
def test_cancel_sends_cancellation_and_a_refusal_is_rejected():
    responses.add(responses.POST, f"{BASE}/api/p/edit", json=fixture("delhivery", "cancel_refused"))
    with pytest.raises(CarrierRejected, match="can not be cancelled"):
        carrier().cancel(WAYBILL)
    assert json.loads(responses.calls[0].request.body) == {
        "waybill": WAYBILL,
        "cancellation": "true",
    }


# -- pickups ------------------------------------------------------------------------------


@responses.activate
def test_pickup_request_body():
    responses.add(responses.POST, f"{BASE}/fm/request/new/", json=fixture("delhivery", "pickup"))
    carrier().schedule_pickup(PickupRequest(WAREHOUSE, date(2026, 11, 23), "9:30", "18:00", 3))
    assert json.loads(responses.calls[0].request.body) == {
        "pickup_location": "SHOPINDIA-GGN",
        "pickup_date": "2026-11-23",
        "pickup_time": "09:30:00",
        "expected_package_count": 3,
    }


@responses.activate
def test_refused_pickup_is_rejected():
    responses.add(
        responses.POST, f"{BASE}/fm/request/new/", json=fixture("delhivery", "pickup_refused")
    )
    with pytest.raises(CarrierRejected, match="ClientWarehouse matching query does not exist"):
        carrier().schedule_pickup(PickupRequest(WAREHOUSE, date(2026, 11, 23)))


# -- failed deliveries ------------------------------------------------------------------------


A = FailedDeliveryAction
NEW_ADDRESS = Address(
    "IN",
    "560034",
    "Bengaluru",
    "KA",
    "14 80 Feet Rd",
    "Flat 3",
    name="Ananya Rao",
    phone="9845099999",
)


@pytest.mark.parametrize(
    ("instruction", "body"),
    [
        (
            FailedDeliveryInstruction(WAYBILL, A.REATTEMPT),
            {"data": [{"waybill": WAYBILL, "act": "RE-ATTEMPT"}]},
        ),
        (
            FailedDeliveryInstruction(WAYBILL, A.REATTEMPT, reattempt_on=date(2026, 11, 26)),
            {
                "data": [
                    {
                        "waybill": WAYBILL,
                        "act": "DEFER_DLV",
                        "action_data": {"deferred_date": "2026-11-26"},
                    }
                ]
            },
        ),
        (
            FailedDeliveryInstruction(WAYBILL, A.UPDATE_ADDRESS, address=NEW_ADDRESS),
            {
                "data": [
                    {
                        "waybill": WAYBILL,
                        "act": "EDIT_DETAILS",
                        "action_data": {
                            "name": "Ananya Rao",
                            "phone": "9845099999",
                            "add": "14 80 Feet Rd, Flat 3, Bengaluru, 560034",
                        },
                    },
                    {"waybill": WAYBILL, "act": "RE-ATTEMPT"},
                ]
            },
        ),
    ],
    ids=["re-attempt", "deferred", "edit-details"],
)
@responses.activate
def test_ndr_action_bodies(instruction, body):
    responses.add(responses.POST, f"{BASE}/api/p/update", json=fixture("delhivery", "ndr"))
    assert carrier().failed_delivery_action(instruction) == "UPL10575891229462827496"
    assert json.loads(responses.calls[0].request.body) == body


@pytest.mark.parametrize("action", [A.RETURN_TO_SENDER, A.HOLD_AT_PICKUP_POINT])
def test_actions_the_ndr_api_lacks_are_not_supported(action):
    with pytest.raises(NotSupported):
        carrier().failed_delivery_action(FailedDeliveryInstruction(WAYBILL, action))


@responses.activate
def test_ndr_answer_without_request_id_is_rejected():
    responses.add(responses.POST, f"{BASE}/api/p/update", json={"error": "Invalid waybill"})
    with pytest.raises(CarrierRejected, match="Invalid waybill"):
        carrier().failed_delivery_action(FailedDeliveryInstruction(WAYBILL, A.REATTEMPT))
