"""Tapin (Iran Post) adapter against payloads shaped like Tapin's official API documentation
(see each fixture): the contract, the status table row by row, prices in Rial, orders with the
goods' value collected on delivery, and status polls in Tehran time."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import responses

from carriers.base import (
    Capability,
    CarrierAccount,
    CarrierAuthError,
    CarrierError,
    CarrierOutcomeUnknown,
    CarrierRejected,
    CarrierUnavailable,
    Label,
    NotSupported,
    RateQuote,
    ShipmentRequest,
)
from carriers.registry import get_carrier_class
from carriers.tapin import TapinCarrier, mapping
from shipflow.domain import Address, Money, Parcel, Reason, Status, TrackingEvent, TrackingUpdate
from tests.carriers.carrier_contract import Contract, Operation, fixture

API = "https://api.tapin.ir/api/v2/public"
TEHRAN = ZoneInfo("Asia/Tehran")
BARCODE = "21242000512705555221"
S, R = Status, Reason

SHOP = Address("IR", "1313131313", "تهران", "تهران", "خیابان آزادی", name="فروشگاه")
CUSTOMER = Address(
    "IR",
    "4133654321",
    "رشت",
    "گیلان",  # Persian yeh; Tapin's tree spells it with the Arabic one
    "خیابان لاکانی، کوچه ۱۲",
    "پلاک ۳",
    name="پریسا رحیمی",
    phone="09121234567",
)
COD = ShipmentRequest(
    SHOP,
    CUSTOMER,
    [Parcel(1200)],
    "pishtaz",
    reference="SO-77",
    cash_on_delivery=Money(45_000_000, "IRR"),
)
CODES = (2, 41)


def account(**credentials: str) -> CarrierAccount:
    base = {"api_token": "tok", "shop_id": "7c45979e-926d-4a4f-8ade-ab5180f7daee"}
    return CarrierAccount("tapin", "shop", {**base, **credentials})


def carrier() -> TapinCarrier:
    return TapinCarrier(account())


def with_tree(c: TapinCarrier) -> TapinCarrier:
    c._tree = fixture("tapin", "state_tree")["entries"]
    return c


def sent(call) -> dict:
    return json.loads(call.request.body)


REPORT = [
    TrackingUpdate(
        carrier="tapin",
        tracking_number=BARCODE,
        events=(
            TrackingEvent(
                S.IN_TRANSIT,
                datetime(2026, 11, 23, 10, 7, 9, 620789, tzinfo=TEHRAN),
                "13",
                "وارد شده به استان توزیع",
                None,
                country="IR",
            ),
        ),
    ),
    TrackingUpdate(
        carrier="tapin",
        tracking_number="21242000512705555238",
        events=(
            TrackingEvent(
                S.ATTEMPT_FAILED,
                datetime(2026, 11, 24, 17, 45, tzinfo=TEHRAN),
                "15",
                "مراجعه اول",
                None,
                country="IR",
            ),
        ),
    ),
    TrackingUpdate(
        carrier="tapin",
        tracking_number="21242000512705555245",
        events=(
            TrackingEvent(
                S.IN_TRANSIT, datetime(2026, 11, 24, 9, tzinfo=TEHRAN), "19", "", None, country="IR"
            ),
        ),
    ),
]

OPERATIONS = [
    Operation(
        "price",
        "POST",
        f"{API}/order/post/check-price",
        "check_price",
        lambda c: with_tree(c).rates(COD),
        [RateQuote("tapin", "pishtaz", Money(1_449_700, "IRR"), transit_days=5)],
    ),
    Operation(
        "register",
        "POST",
        f"{API}/order/post/register",
        "register",
        lambda c: with_tree(c).create_label(COD),
        Label("tapin", "pishtaz", BARCODE, "PDF", b"", carrier_shipment_id="16013"),
        buys=True,
    ),
    Operation(
        "status_report",
        "POST",
        f"{API}/order/post/get-status/report",
        "status_report",
        lambda c: mapping.parse_report(c.client.status_report([16013, 16014, 16015, 16016])),
        REPORT,
    ),
    Operation(
        "change_status",
        "POST",
        f"{API}/order/post/change-status",
        "change_status",
        lambda c: mapping.entries(
            c.client.change_status(mapping.build_cancel_request(c.shop_id, 16013)), "cancellation"
        )["status"],
        80,
        buys=True,
    ),
]

CONTRACT = Contract(carrier="tapin", make=carrier, error_message="فیلد های ارسالی معتبر نمیباشند.")


test_operation_contract = CONTRACT.test_for(OPERATIONS)


def test_registry_and_capabilities():
    assert get_carrier_class("tapin") is TapinCarrier
    assert TapinCarrier.track_batch_size == 200
    assert TapinCarrier.capabilities == {
        Capability.RATES,
        Capability.LABELS,
        Capability.CANCEL,
        Capability.TRACKING_POLL,
        Capability.CASH_ON_DELIVERY,
    }


@pytest.mark.parametrize(
    ("code", "status", "reason", "title"),
    [
        ("-1", S.INFO_RECEIVED, None, "ثبت شده در فروشگاه (تحت بررسی )(API)"),
        ("0", S.INFO_RECEIVED, None, "ثبت شده در فروشگاه (تحت بررسی)"),
        ("1", S.INFO_RECEIVED, None, "آماده به پرینت (مطابق پستی)"),
        ("2", S.INFO_RECEIVED, None, "آماده به ارسال"),
        ("3", S.EXCEPTION, R.OTHER, "اشتباه در اعلام آماده به ارسال"),
        ("4", S.EXCEPTION, R.OTHER, "عدم حضور فروشگاه"),
        ("5", S.IN_TRANSIT, None, "قبول شد"),
        ("6", S.EXCEPTION, R.OTHER, "عدم قبول (غیر قابل توزیع در مبدا)"),
        ("7", S.DELIVERED, None, "توزیع شد"),
        ("8", S.AVAILABLE_FOR_PICKUP, None, "باجه معطل"),
        ("9", S.ATTEMPT_FAILED, None, "غیر قابل توزیع (غیر قابل توزیع در مقصد)"),
        ("10", S.RETURNING_TO_SENDER, None, "پیش برگشتی مرسوله"),
        ("11", S.RETURNING_TO_SENDER, None, "ثبت نهایی برگشتی"),
        ("12", S.IN_TRANSIT, None, "مرسوله مشارکتی"),
        ("13", S.IN_TRANSIT, None, "وارد شده به استان توزیع"),
        ("14", S.OUT_FOR_DELIVERY, None, "تحویل به نامه رسان"),
        ("15", S.ATTEMPT_FAILED, None, "مراجعه اول"),
        ("16", S.ATTEMPT_FAILED, None, "مراجعه دوم"),
        ("17", S.DELIVERED, None, "توزیع در صندوق پستی"),
        ("18", S.EXCEPTION, R.LOST, "بی ترتیبی (کسری مرسوله)"),
        ("50", S.INFO_RECEIVED, None, "در حال جمع\u200cآوری"),
        ("70", S.DELIVERED, None, "تایید شده مدیر مالی"),
        ("71", S.DELIVERED, None, "تسویه شده مدیر مالی"),
        ("72", S.DELIVERED, None, "تسویه شده با پست"),
        ("80", S.CANCELLED, None, "حذف شده"),
        ("81", S.EXCEPTION, R.HELD_BY_CARRIER, "بلاتکلیف"),
        ("82", S.IN_TRANSIT, None, "مانند قبول"),
        ("83", S.RETURNED_TO_SENDER, None, "تایید برگشتی"),
        ("100", S.INFO_RECEIVED, None, "منتظر استعلام"),
        ("-100", S.INFO_RECEIVED, None, "منتظر استعلام (API)"),
        ("101", S.INFO_RECEIVED, None, "در حال تغییر وضعیت"),
        ("102", S.RETURNED_TO_SENDER, None, "عودت داده شده"),
        ("103", S.INFO_RECEIVED, None, "پیش ثبت سفارش"),
        ("999", S.IN_TRANSIT, None, ""),  # not in the table: raw code kept, in transit
    ],
)
def test_status_table(code, status, reason, title):
    item = {"status": int(code), "barcode": BARCODE, "last_change_status": "2026-11-23T10:00:00"}
    [update] = mapping.parse_report({"returns": {"status": 200}, "entries": {"list": [item]}})
    assert update.events == (
        TrackingEvent(
            status, datetime(2026, 11, 23, 10, tzinfo=TEHRAN), code, title, reason, country="IR"
        ),
    )


def test_a_status_without_its_time_is_skipped_not_the_report():
    assert [u.tracking_number for u in mapping.parse_report(fixture("tapin", "status_report"))] == [
        BARCODE,
        "21242000512705555238",
        "21242000512705555245",
    ]


@responses.activate
def test_poll_looks_each_barcode_up_then_asks_one_report():
    responses.add(responses.POST, f"{API}/order/post/list", json=fixture("tapin", "order_list"))
    responses.add(
        responses.POST, f"{API}/order/post/list", json=fixture("tapin", "order_list_empty")
    )
    responses.add(
        responses.POST,
        f"{API}/order/post/get-status/report",
        json=fixture("tapin", "status_report"),
    )
    updates = carrier().track([BARCODE, "99999999999999999999"])
    assert updates == REPORT
    find, missing, report = responses.calls
    assert find.request.headers["Authorization"] == "jwt tok"
    assert sent(find) == {
        "shop_id": "7c45979e-926d-4a4f-8ade-ab5180f7daee",
        "count": 1,
        "page": 1,
        "barcode": BARCODE,
    }
    assert sent(missing)["barcode"] == "99999999999999999999"
    assert sent(report) == {"orders_id": [16013]}


@responses.activate
def test_cod_order_body_collects_exactly_the_amount_in_rial():
    responses.add(responses.POST, f"{API}/state/tree", json=fixture("tapin", "state_tree"))
    responses.add(responses.POST, f"{API}/order/post/register", json=fixture("tapin", "register"))
    carrier().create_label(COD)
    assert sent(responses.calls[1]) == {
        "register_type": 1,
        "shop_id": "7c45979e-926d-4a4f-8ade-ab5180f7daee",
        "address": "خیابان لاکانی، کوچه ۱۲, پلاک ۳",
        "city_code": 41,
        "province_code": 2,
        "description": None,
        "email": None,
        "employee_code": -1,
        "first_name": "پریسا",
        "last_name": "رحیمی",
        "mobile": "09121234567",
        "phone": None,
        "postal_code": "4133654321",
        "pay_type": 3,
        "order_type": 1,
        "box_id": 10,
        "package_weight": 0,
        "products": [
            {
                "count": 1,
                "discount": 0,
                "price": 45_000_000,
                "title": "SO-77",
                "weight": 1200,
                "product_id": None,
            }
        ],
        "manual_id": "SO-77",
    }


def test_prepaid_order_declares_its_value_and_pays_online():
    prepaid = ShipmentRequest(
        SHOP, CUSTOMER, [Parcel(800)], "vizheh", "SO-78", declared_value=Money(9_000_000, "IRR")
    )
    body = mapping.build_register_request(prepaid, "shop", 4, CODES, 2)
    assert (body["pay_type"], body["order_type"], body["register_type"], body["box_id"]) == (
        1,
        3,
        2,
        4,
    )
    assert body["products"][0]["price"] == 9_000_000


def test_cod_in_another_currency_is_not_supported():
    usd = ShipmentRequest(
        SHOP, CUSTOMER, [Parcel(800)], "pishtaz", cash_on_delivery=Money(100, "USD")
    )
    with pytest.raises(NotSupported, match="IRR"):
        mapping.build_register_request(usd, "shop", 10, CODES, 1)


@pytest.mark.parametrize(
    ("state", "city", "codes"),
    [("گیلان", "رشت", (2, 41)), ("2", "44", (2, 44)), ("گيلان", "بندر انزلی", (2, 44))],
)
def test_places_by_name_or_code(state, city, codes):
    tree = fixture("tapin", "state_tree")["entries"]
    assert mapping.place_codes(tree, Address("IR", city=city, state=state)) == codes


def test_a_place_tapin_does_not_know_is_rejected_with_what_to_fix():
    tree = fixture("tapin", "state_tree")["entries"]
    with pytest.raises(CarrierRejected, match="no city 'Shiraz'"):
        mapping.place_codes(tree, Address("IR", city="Shiraz", state="Fars"))


@responses.activate
@pytest.mark.parametrize(
    ("answer", "error", "code", "words"),
    [
        (
            "register_refused",
            CarrierRejected,
            "300",
            "فیلد های ارسالی معتبر نمیباشند.; postal_code: کد پستی وارد شده نامعتبر است",
        ),
        # Tapin's fault: the order may have been registered (ops check before a new one)
        ("error_system", CarrierOutcomeUnknown, "364", "خطای سیستمی"),
    ],
)
def test_a_registration_answered_with_an_error_carries_its_code_and_words(
    answer, error, code, words
):
    responses.add(responses.POST, f"{API}/order/post/register", json=fixture("tapin", answer))
    with pytest.raises(error) as caught:
        with_tree(carrier()).create_label(COD)
    assert (caught.value.carrier_code, caught.value.carrier_message) == (code, words)


@responses.activate
@pytest.mark.parametrize(
    ("answer", "error", "code", "retryable"),
    [
        ("error_session_expired", CarrierAuthError, "336", False),  # the token needs renewing
        ("error_system", CarrierUnavailable, "364", True),  # Tapin's fault: poll again later
        ("error", CarrierRejected, "300", False),  # the request's own fault
    ],
)
def test_a_poll_error_answer_is_the_error_its_code_names(answer, error, code, retryable):
    responses.add(responses.POST, f"{API}/order/post/list", json=fixture("tapin", answer))
    with pytest.raises(CarrierError) as caught:
        carrier().track([BARCODE])
    assert (type(caught.value), caught.value.carrier_code, caught.value.retryable) == (
        error,
        code,
        retryable,
    )


@responses.activate
def test_rates_for_every_service_when_none_is_asked():
    for _ in range(2):
        responses.add(
            responses.POST, f"{API}/order/post/check-price", json=fixture("tapin", "check_price")
        )
    any_service = ShipmentRequest(SHOP, CUSTOMER, [Parcel(1200)], "")
    quotes = with_tree(carrier()).rates(any_service)
    assert [(q.service, q.price, q.transit_days) for q in quotes] == [
        ("pishtaz", Money(1_449_700, "IRR"), 5),
        ("vizheh", Money(1_449_700, "IRR"), 1),
    ]
    assert [sent(c)["order_type"] for c in responses.calls] == [1, 3]
    assert "register_type" not in sent(responses.calls[0])


@responses.activate
def test_cancel_moves_the_order_to_deleted():
    responses.add(responses.POST, f"{API}/order/post/list", json=fixture("tapin", "order_list"))
    responses.add(
        responses.POST, f"{API}/order/post/change-status", json=fixture("tapin", "change_status")
    )
    carrier().cancel(BARCODE)
    assert sent(responses.calls[1]) == {
        "shop_id": "7c45979e-926d-4a4f-8ade-ab5180f7daee",
        "order_id": 16013,
        "status": 80,
    }


@responses.activate
def test_cancel_of_an_unknown_barcode_is_rejected():
    responses.add(
        responses.POST, f"{API}/order/post/list", json=fixture("tapin", "order_list_empty")
    )
    with pytest.raises(CarrierRejected, match="no order"):
        carrier().cancel(BARCODE)


def test_times_without_offset_are_tehran_time():
    assert mapping.tehran("2026-11-23T10:07:09").utcoffset().total_seconds() == 3.5 * 3600
