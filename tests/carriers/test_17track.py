"""17TRACK adapter against payloads shaped like its Tracking API v2.2 (see each fixture)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from carriers.base import (
    Capability,
    CarrierAccount,
    CarrierAuthError,
    CarrierRateLimited,
    CarrierRejected,
    CarrierUnavailable,
    TrackingQuery,
    WebhookRequest,
    WebhookSignatureError,
)
from carriers.registry import get_carrier_class
from carriers.track17 import Track17Carrier
from carriers.track17.mapping import push_updates, tracking_event
from shipflow.domain import Reason, Status, TrackingEvent, TrackingUpdate
from tests.carriers.carrier_contract import Contract, Operation, fixture

BASE = "https://api.17track.net/track/v2.2"
NUMBER = "123456789012"
JST = timezone(timedelta(hours=9))
S, R = Status, Reason


def event(
    status, when, code, text, location, city, reason=None, state="", postal=""
) -> TrackingEvent:
    return TrackingEvent(status, when, code, text, reason, location, city, state, postal, "JP")


ATTEMPTED = TrackingUpdate(
    carrier="17track",
    tracking_number=NUMBER,
    events=(
        event(
            S.ATTEMPT_FAILED,
            datetime(2024, 11, 20, 14, 5, tzinfo=JST),
            "DeliveryFailure_NoBody",
            "Absence. Attempted delivery",
            "Osaka Center",
            "Osaka",
            R.CUSTOMER_UNAVAILABLE,
        ),
        event(
            S.OUT_FOR_DELIVERY,
            datetime(2024, 11, 20, 8, 40, tzinfo=JST),
            "OutForDelivery_Other",
            "Out for delivery",
            "Osaka Center",
            "Osaka",
        ),
        # neither sub-status nor stage, and no offset: the text decides, read in Japan's zone
        event(
            S.IN_TRANSIT,
            datetime(2024, 11, 19, 6, 15, tzinfo=ZoneInfo("Asia/Tokyo")),
            "",
            "Arrived at delivery center",
            "Osaka",
            "Osaka",
        ),
        event(
            S.IN_TRANSIT,
            datetime(2024, 11, 18, 18, 20, tzinfo=JST),
            "InTransit_PickedUp",
            "Package picked up",
            "Shinagawa",
            "Shinagawa",
            state="Tokyo",
            postal="140-0002",
        ),
    ),
    estimated_delivery=datetime(2024, 11, 21, 12, tzinfo=JST),
    extra={
        "carrier_key": 100062,
        "courier": "yamato",
        "estimated_delivery_from": "2024-11-21T09:00:00+09:00",
    },
)


def make_carrier(api_key: str = "K3Y") -> Track17Carrier:
    account = CarrierAccount(
        "17track", "17t-test", {"api_key": api_key}, rate_limit_per_second=1000
    )
    return Track17Carrier(account)


def track_result(carrier: Track17Carrier) -> list[TrackingUpdate]:
    """The time-less InfoReceived event is kept aside, the rest of the number read."""
    [update] = carrier.track([NUMBER, "RR000000000JP"])
    assert [json.loads(u.raw)["description"] for u in update.unreadable] == [
        "Shipment information received"
    ]
    return [replace(update, unreadable=())]


CONTRACT = Contract(
    carrier="17track",
    make=make_carrier,
    error_message="Submitted data is invalid.",
    error_status=200,
)
OPERATIONS = [
    Operation("track", "POST", f"{BASE}/gettrackinfo", "gettrackinfo", track_result, [ATTEMPTED])
]


test_operation_contract = CONTRACT.test_for(OPERATIONS)


def test_registered_tracking_only():
    assert get_carrier_class("17track") is Track17Carrier
    assert Track17Carrier.capabilities == {
        Capability.TRACKING_POLL,
        Capability.WEBHOOKS,
        Capability.PUSH_SUBSCRIPTIONS,
    }
    assert Capability.LABELS not in Track17Carrier.capabilities


def test_calls_send_the_17token_and_json_arrays(mocked):
    mocked.post(f"{BASE}/gettrackinfo", json=fixture("17track", "gettrackinfo"))
    make_carrier().track([NUMBER])
    [call] = mocked.calls
    assert call.request.headers["17token"] == "K3Y"
    assert json.loads(call.request.body) == [{"number": NUMBER}]


def test_subscribing_registers_and_keeps_each_numbers_error_without_sinking_the_batch(mocked):
    mocked.post(f"{BASE}/register", json=fixture("17track", "register"))
    numbers = [NUMBER, "EJ123456785JP", "1234", "400000000003"]
    refused = make_carrier().subscribe([TrackingQuery(n) for n in numbers], "")
    assert sorted(refused) == ["1234", "400000000003"]  # already registered is no refusal
    assert type(refused["1234"]) is CarrierRejected
    assert refused["1234"].carrier_message == "The format of '1234' is invalid."
    quota = refused["400000000003"]
    assert isinstance(quota, CarrierRateLimited) and quota.carrier_code == "-18019908"


def test_a_number_refused_by_an_internal_error_is_asked_again(mocked):
    """17TRACK's error codes: -18010003 "Internal service error. Please try again later." is
    no refusal of the number (it was stamped refused and never subscribed again)."""
    mocked.post(
        f"{BASE}/register",
        json={
            "code": 0,
            "data": {
                "accepted": [],
                "rejected": [
                    {
                        "number": NUMBER,
                        "error": {
                            "code": -18010003,
                            "message": "Internal service error. Please try again later.",
                        },
                    }
                ],
            },
        },
    )
    refused = make_carrier().subscribe([TrackingQuery(NUMBER)], "")
    assert [(n, type(e), e.retryable, e.carrier_code) for n, e in refused.items()] == [
        (NUMBER, CarrierUnavailable, True, "-18010003")
    ]


def test_stop_tracking(mocked):
    mocked.post(f"{BASE}/stoptrack", json=fixture("17track", "stoptrack"))
    assert make_carrier().stop([NUMBER]) == {}
    assert json.loads(mocked.calls[0].request.body) == [{"number": NUMBER}]


def test_rate_limit_429_is_retried_then_rate_limited(mocked):
    for _ in range(4):
        mocked.post(f"{BASE}/gettrackinfo", status=429, json=fixture("17track", "rate_limited"))
    with pytest.raises(CarrierRateLimited):
        make_carrier().track([NUMBER])
    assert len(mocked.calls) == 4


@pytest.mark.parametrize(
    ("code", "error"),
    [
        (-18019907, CarrierRateLimited),  # daily limit
        (-18019908, CarrierRateLimited),  # quota used up
        (-18010002, CarrierAuthError),  # invalid security key
        (-18010014, CarrierRejected),  # over 40 numbers
        (-18010003, CarrierUnavailable),  # "Internal service error. Please try again later."
    ],
)
def test_call_errors(mocked, code, error):
    mocked.post(
        f"{BASE}/register",
        json={"code": code, "data": {"errors": [{"code": code, "message": "m"}]}},
    )
    with pytest.raises(error) as caught:
        make_carrier().subscribe([TrackingQuery(NUMBER)], "")
    assert type(caught.value) is error and caught.value.carrier_code == str(code)


def pushed(body: bytes, sign: str) -> WebhookRequest:
    return WebhookRequest(headers={"Content-Type": "application/json", "sign": sign}, body=body)


STOPPED = b'{"event":"TRACKING_STOPPED"}'
# printf '%s' '{"event":"TRACKING_STOPPED"}/K3Y' | sha256sum
STOPPED_SIGN = "c79358654da0e701fdd5ffb0a247e7f0f9b2861584c6369f74d44f536b5de919"


def test_push_sign_is_sha256_of_body_slash_key():
    make_carrier().verify_webhook(pushed(STOPPED, STOPPED_SIGN))


@pytest.mark.parametrize(
    ("body", "sign", "key"),
    [
        (STOPPED, STOPPED_SIGN[:-1] + "8", "K3Y"),
        (STOPPED + b" ", STOPPED_SIGN, "K3Y"),
        (STOPPED, "", "K3Y"),
        (STOPPED, STOPPED_SIGN, "other"),
        (STOPPED, STOPPED_SIGN, ""),
    ],
)
def test_push_with_wrong_or_missing_sign_is_refused(body, sign, key):
    with pytest.raises(WebhookSignatureError):
        make_carrier(key).verify_webhook(pushed(body, sign))


def test_tracking_updated_push_is_read_and_answered_200():
    carrier = make_carrier()
    body = json.dumps(fixture("17track", "push_updated")).encode()
    [update] = carrier.parse_webhook(pushed(body, ""))
    assert (
        update.events == ATTEMPTED.events
        and update.estimated_delivery == ATTEMPTED.estimated_delivery
    )
    assert carrier.webhook_reply is not None and carrier.webhook_reply.status == 200


def test_tracking_stopped_push_has_no_events():
    body = json.dumps(fixture("17track", "push_stopped")).encode()
    assert make_carrier().parse_webhook(pushed(body, "")) == []


@pytest.mark.parametrize(
    ("code", "status", "reason"),
    [
        ("NotFound_Other", S.PENDING, None),
        ("NotFound_InvalidCode", S.PENDING, None),
        ("InfoReceived", S.INFO_RECEIVED, None),
        ("InTransit_PickedUp", S.IN_TRANSIT, None),
        ("InTransit_Departure", S.IN_TRANSIT, None),
        ("InTransit_Arrival", S.IN_TRANSIT, None),
        ("InTransit_CustomsProcessing", S.IN_TRANSIT, None),
        ("InTransit_CustomsReleased", S.IN_TRANSIT, None),
        ("InTransit_CustomsRequiringInformation", S.EXCEPTION, R.CUSTOMS_HOLD),
        ("InTransit_Other", S.IN_TRANSIT, None),
        ("Expired_Other", S.EXPIRED, None),
        ("AvailableForPickup_Other", S.AVAILABLE_FOR_PICKUP, None),
        ("OutForDelivery_Other", S.OUT_FOR_DELIVERY, None),
        ("DeliveryFailure_Other", S.ATTEMPT_FAILED, None),
        ("DeliveryFailure_NoBody", S.ATTEMPT_FAILED, R.CUSTOMER_UNAVAILABLE),
        (
            "DeliveryFailure_Security",
            S.ATTEMPT_FAILED,
            R.HELD_BY_CARRIER,
        ),  # security, customs, fees
        ("DeliveryFailure_Rejected", S.ATTEMPT_FAILED, R.REFUSED),
        ("DeliveryFailure_InvalidAddress", S.ATTEMPT_FAILED, R.ADDRESS_INCORRECT),
        ("Delivered_Other", S.DELIVERED, None),
        ("Exception_Other", S.EXCEPTION, None),
        ("Exception_Returning", S.RETURNING_TO_SENDER, None),
        ("Exception_Returned", S.RETURNED_TO_SENDER, None),
        ("Exception_NoBody", S.EXCEPTION, R.CUSTOMER_UNAVAILABLE),
        ("Exception_Security", S.EXCEPTION, R.HELD_BY_CARRIER),
        ("Exception_Damage", S.EXCEPTION, R.DAMAGED),
        ("Exception_Rejected", S.EXCEPTION, R.REFUSED),  # refused before delivery
        ("Exception_Delayed", S.IN_TRANSIT, R.CARRIER_DELAY),
        ("Exception_Lost", S.EXCEPTION, R.LOST),
        ("Exception_Destroyed", S.EXCEPTION, R.LOST),
        ("Exception_Cancel", S.CANCELLED, None),
        ("Exception_Unheard", S.IN_TRANSIT, None),  # not in the table: kept raw
    ],
)
def test_sub_status(code, status, reason):
    read = tracking_event(
        {"time_iso": "2024-11-20T08:00:00+09:00", "description": "d", "sub_status": code}
    )
    assert (read.raw_code, read.status, read.reason, read.raw_text) == (code, status, reason, "d")


@pytest.mark.parametrize(
    ("stage", "status"),
    [
        ("InfoReceived", S.INFO_RECEIVED),
        ("PickedUp", S.IN_TRANSIT),
        ("Departure", S.IN_TRANSIT),
        ("Arrival", S.IN_TRANSIT),
        ("AvailableForPickup", S.AVAILABLE_FOR_PICKUP),
        ("OutForDelivery", S.OUT_FOR_DELIVERY),
        ("Delivered", S.DELIVERED),
        ("Returning", S.RETURNING_TO_SENDER),
        ("Returned", S.RETURNED_TO_SENDER),
    ],
)
def test_stage_of_an_event_without_sub_status(stage, status):
    read = tracking_event({"time_utc": "2024-11-19T23:00:00Z", "description": "d", "stage": stage})
    assert (read.raw_code, read.status, read.reason) == (stage, status, None)


@pytest.mark.parametrize(
    ("key", "courier"),
    [
        (100001, "dhl"),
        (100002, "ups"),
        (100003, "fedex"),
        (21051, "usps"),
        (10021, "japan_post"),
        (100062, "yamato"),
        (100040, "sagawa"),
        (3011, "china_post"),
        (3013, "ems"),
        (100012, "sf"),
        (999999, ""),  # a carrier we do not name: its key is still kept
    ],
)
def test_carrier_keys(key, courier):
    [update] = make_carrier().parse_webhook(
        pushed(
            json.dumps(
                {"event": "TRACKING_UPDATED", "data": {"number": "N1", "carrier": key}}
            ).encode(),
            "",
        )
    )
    assert (update.extra["carrier_key"], update.extra["courier"]) == (key, courier)


def test_a_placeless_time_without_offset_is_read_in_the_domestic_shipments_country():
    """17TRACK leaves an event's address null where the carrier names no place; `time_iso`
    without an offset then belongs to the country a domestic (JP to JP) shipment stays in, and
    an estimate without one to the recipient's address (both were read as UTC, 9 hours off)."""
    body = fixture("17track", "push_updated")
    info = body["data"]["track_info"]
    event = info["tracking"]["providers"][0]["events"][0]
    event["time_iso"] = "2024-11-20T14:05:00"
    event["address"] = {
        "country": None,
        "state": None,
        "city": None,
        "street": None,
        "postal_code": None,
        "coordinates": {"longitude": None, "latitude": None},
    }
    info["time_metrics"]["estimated_delivery_date"]["to"] = "2024-11-21T12:00:00"
    [update] = push_updates(body)
    tokyo = ZoneInfo("Asia/Tokyo")
    assert (update.events[0].occurred_at, update.estimated_delivery) == (
        datetime(2024, 11, 20, 14, 5, tzinfo=tokyo),
        datetime(2024, 11, 21, 12, 0, tzinfo=tokyo),
    )
    assert update.events[0].occurred_at.utcoffset() == timedelta(hours=9)
