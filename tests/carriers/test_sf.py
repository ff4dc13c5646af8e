"""SF Express adapter against payloads shaped like the 丰桥 standard API (see each fixture)."""

from __future__ import annotations

import json
from datetime import datetime
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

import pytest

from carriers.base import (
    Capability,
    CarrierAccount,
    CarrierAuthError,
    CarrierRateLimited,
    CarrierRejected,
    Label,
    TrackingQuery,
    WebhookRequest,
    WebhookSignatureError,
)
from carriers.registry import get_carrier_class
from carriers.sf import SFCarrier
from carriers.sf.mapping import msg_digest, route_event
from shipflow.domain import Address, Money, Reason, Status, TrackingEvent, TrackingUpdate
from tests.carriers.carrier_contract import Contract, Operation, fixture
from tests.carriers.shipments import shipment

URL = "https://bspgw.sf-express.com/std/service"
NUMBER = "SF1301234567890"
CST = ZoneInfo("Asia/Shanghai")

SHENZHEN = Address(
    "CN", "518000", "深圳市", "广东省", "宝安区福永街道1号", name="仓库", phone="0755-12345678"
)
BEIJING = Address(
    "CN", "100000", "北京市", "北京市", "朝阳区建国路88号", name="王小明", phone="138 0013 5678"
)
REQUEST = shipment(SHENZHEN, BEIJING, service="standard", reference="NW-1042")


def at(city: str, when: datetime, code: str, text: str, status: Status) -> TrackingEvent:
    return TrackingEvent(status, when, code, text, None, city, city, "", "", "CN")


ROUTES = TrackingUpdate(
    carrier="sf",
    tracking_number=NUMBER,
    events=(
        at(
            "深圳市",
            datetime(2024, 11, 18, 17, 2, 11, tzinfo=CST),
            "50",
            "顺丰速运 已收取快件",
            Status.IN_TRANSIT,
        ),
        at(
            "深圳市",
            datetime(2024, 11, 18, 21, 40, 5, tzinfo=CST),
            "30",
            "快件在【深圳宝安中转场】已装车,准备发往 【北京顺义集散中心】",
            Status.IN_TRANSIT,
        ),
        at(
            "北京市",
            datetime(2024, 11, 19, 9, 12, 44, tzinfo=CST),
            "31",
            "快件到达 【北京顺义集散中心】",
            Status.IN_TRANSIT,
        ),
        at(
            "北京市",
            datetime(2024, 11, 19, 14, 3, 27, tzinfo=CST),
            "44",
            "快件交给张三，正在派送途中（联系电话：13800000000）",
            Status.OUT_FOR_DELIVERY,
        ),
        # an opCode outside the table: raw code and text kept, read as in transit
        at(
            "北京市",
            datetime(2024, 11, 19, 16, 45, tzinfo=CST),
            "9999",
            "快件已放置在丰巢智能柜，取件码已发送",
            Status.IN_TRANSIT,
        ),
        at(
            "北京市",
            datetime(2024, 11, 19, 18, 30, 2, tzinfo=CST),
            "80",
            "已签收,感谢使用顺丰,期待再次为您服务",
            Status.DELIVERED,
        ),
    ),
)
LABEL = Label(
    carrier="sf",
    service="standard",
    tracking_number=NUMBER,
    label_format="PDF",
    label_data=b"",
    carrier_shipment_id="NW-1042",
)


def make_carrier(**credentials: str) -> SFCarrier:
    account = CarrierAccount(
        "sf",
        "sf-test",
        {
            "partner_id": "NWTEST",
            "check_word": "fjcg5PGKaNpPSHFAZ4QsCOkV71R3zVci",
            "monthly_card": "7551234567",
            "push_token": "t0k3n",
            **credentials,
        },
        sandbox=False,
        rate_limit_per_second=1000,
    )
    return SFCarrier(account)


CONTRACT = Contract(
    carrier="sf", make=make_carrier, error_message="必传参数不可为空", error_status=200
)
OPERATIONS = [
    Operation(
        "create_label",
        "POST",
        URL,
        "create_order",
        lambda c: c.create_label(REQUEST),
        LABEL,
        buys=True,
    ),
    Operation(
        "track", "POST", URL, "routes", lambda c: c.track([NUMBER, "SF1309999999990"]), [ROUTES]
    ),
    Operation("cancel", "POST", URL, "cancel", lambda c: c.cancel("NW-1042"), None, buys=True),
]


test_operation_contract = CONTRACT.test_for(OPERATIONS)


def sent_forms(mocked) -> list[dict[str, str]]:
    return [{k: v[0] for k, v in parse_qs(c.request.body).items()} for c in mocked.calls]


def test_registered_with_its_capabilities():
    assert get_carrier_class("sf") is SFCarrier
    assert SFCarrier.capabilities == {
        Capability.LABELS,
        Capability.CANCEL,
        Capability.TRACKING_POLL,
        Capability.WEBHOOKS,
    }


def test_msg_digest_is_the_documented_example():
    """The 丰桥 signature spec's own example: msgData, timestamp 12312334453453, that check
    word -> "IIKJtuLVzoFTu4kHI8M8vA==" (also computed with jq @uri | md5sum | base64)."""
    data = '{"language":"zh-CN","orderId":"QIAO-20200618-004"}'
    assert msg_digest(data, "12312334453453", "fjcg5PGKaNpPSHFAZ4QsCOkV71R3zVci") == (
        "IIKJtuLVzoFTu4kHI8M8vA=="
    )


def test_msg_digest_encodes_spaces_and_tildes_as_javas_urlencoder():
    # by hand: "a b~1k" URL-encoded is "a+b%7E1k"; then md5sum | xxd -r -p | base64
    assert msg_digest("a b~", "1", "k") == "iLAqvFR6S73lNsFUsXDJpA=="


def test_order_is_sent_as_the_documented_form(mocked):
    mocked.post(URL, json=fixture("sf", "create_order"))
    make_carrier().create_label(REQUEST)
    [form] = sent_forms(mocked)
    assert form["partnerID"] == "NWTEST" and form["serviceCode"] == "EXP_RECE_CREATE_ORDER"
    assert len(form["requestID"]) == 36 and form["timestamp"].isdigit()
    assert form["msgDigest"] == msg_digest(
        form["msgData"], form["timestamp"], "fjcg5PGKaNpPSHFAZ4QsCOkV71R3zVci"
    )
    assert json.loads(form["msgData"]) == {
        "language": "zh-CN",
        "orderId": "NW-1042",
        "monthlyCard": "7551234567",
        "payMethod": 1,
        "expressTypeId": 2,
        "parcelQty": 1,
        "totalWeight": 1.0,
        "isReturnRoutelabel": 1,
        "cargoDetails": [{"name": "NW-1042", "count": 1}],
        "contactInfoList": [
            {
                "contactType": 1,
                "contact": "仓库",
                "mobile": "0755-12345678",
                "country": "CN",
                "province": "广东省",
                "city": "深圳市",
                "address": "宝安区福永街道1号",
                "postCode": "518000",
            },
            {
                "contactType": 2,
                "contact": "王小明",
                "mobile": "138 0013 5678",
                "country": "CN",
                "province": "北京市",
                "city": "北京市",
                "address": "朝阳区建国路88号",
                "postCode": "100000",
            },
        ],
    }


def test_cash_on_delivery_travels_as_service_in02(mocked):
    mocked.post(URL, json=fixture("sf", "create_order"))
    make_carrier().create_label(
        shipment(SHENZHEN, BEIJING, reference="NW-1042", cash_on_delivery=Money(12950, "CNY"))
    )
    order = json.loads(sent_forms(mocked)[0]["msgData"])
    assert order["serviceList"] == [{"name": "IN02", "value": "129.50", "value1": "7551234567"}]


def test_cancel_sends_deal_type_2(mocked):
    mocked.post(URL, json=fixture("sf", "cancel"))
    make_carrier().cancel("NW-1042")
    [form] = sent_forms(mocked)
    assert form["serviceCode"] == "EXP_RECE_UPDATE_ORDER"
    assert json.loads(form["msgData"]) == {"orderId": "NW-1042", "dealType": 2}


def test_route_query_carries_the_phones_last_four_digits_one_query_per_phone(mocked):
    mocked.post(URL, json=fixture("sf", "routes"))
    mocked.post(URL, json=fixture("sf", "routes"))
    queries = [
        TrackingQuery(NUMBER, "5678"),
        TrackingQuery("SF1309999999990", "1234"),
        TrackingQuery("SF1308888888880", "5678"),
    ]
    make_carrier().track_queries(queries)
    sent = [json.loads(f["msgData"]) for f in sent_forms(mocked)]
    assert sent == [
        {
            "language": "zh-CN",
            "trackingType": 1,
            "trackingNumber": [NUMBER, "SF1308888888880"],
            "methodType": 1,
            "checkPhoneNo": "5678",
        },
        {
            "language": "zh-CN",
            "trackingType": 1,
            "trackingNumber": ["SF1309999999990"],
            "methodType": 1,
            "checkPhoneNo": "1234",
        },
    ]


def test_a_route_answer_entry_that_cannot_be_read_costs_only_its_waybill(mocked):
    """A query asks for up to ten waybills: one entry without its mailNo (or a null) is
    skipped, the others' routes are kept."""
    answer = fixture("sf", "routes")
    data = json.loads(answer["apiResultData"])
    stray = {
        "routes": [{"acceptTime": "2024-11-19 08:00:00", "opCode": "31", "remark": "快件到达"}]
    }
    data["msgData"]["routeResps"] = [stray, None, *data["msgData"]["routeResps"]]
    answer["apiResultData"] = json.dumps(data, ensure_ascii=False)
    mocked.post(URL, json=answer)
    assert make_carrier().track([NUMBER, "SF1309999999990", "SF1308888888880"]) == [ROUTES]


def test_business_error_is_rejected_with_sfs_message(mocked):
    mocked.post(URL, json=fixture("sf", "duplicate_order"))
    with pytest.raises(CarrierRejected) as caught:
        make_carrier().create_label(REQUEST)
    assert (caught.value.carrier_code, caught.value.carrier_message) == ("8016", "重复下单")
    assert "重复下单" in str(caught.value)


def test_platform_rate_limit_is_rate_limited(mocked):
    mocked.post(URL, json=fixture("sf", "rate_limited"))
    with pytest.raises(CarrierRateLimited) as caught:
        make_carrier().track([NUMBER])
    assert caught.value.carrier_code == "A1005" and caught.value.retryable


def test_bad_digital_signature_is_an_auth_error(mocked):
    mocked.post(
        URL,
        json={
            "apiErrorMsg": "数字签名无效",
            "apiResponseID": "1",
            "apiResultCode": "A1006",
            "apiResultData": None,
        },
    )
    with pytest.raises(CarrierAuthError, match="数字签名无效"):
        make_carrier().track([NUMBER])


S, R = Status, Reason


@pytest.mark.parametrize(
    ("code", "status", "reason"),
    [
        ("50", S.IN_TRANSIT, None),
        ("54", S.IN_TRANSIT, None),
        ("607", S.IN_TRANSIT, None),
        ("30", S.IN_TRANSIT, None),
        ("31", S.IN_TRANSIT, None),
        ("36", S.IN_TRANSIT, None),
        ("105", S.IN_TRANSIT, None),
        ("106", S.IN_TRANSIT, None),
        ("77", S.IN_TRANSIT, R.CARRIER_DELAY),
        ("631", S.IN_TRANSIT, None),
        ("44", S.OUT_FOR_DELIVERY, None),
        ("204", S.OUT_FOR_DELIVERY, None),
        ("125", S.AVAILABLE_FOR_PICKUP, None),
        ("130", S.AVAILABLE_FOR_PICKUP, None),
        ("70", S.ATTEMPT_FAILED, None),
        ("33", S.ATTEMPT_FAILED, None),
        ("34", S.EXCEPTION, R.HELD_BY_CARRIER),
        ("80", S.DELIVERED, None),
        ("8000", S.DELIVERED, None),
        ("99", S.RETURNING_TO_SENDER, None),
        ("648", S.RETURNING_TO_SENDER, None),
        ("12345", S.IN_TRANSIT, None),  # not in the table: kept raw
    ],
)
def test_op_code(code, status, reason):
    event = route_event({"opCode": code, "acceptTime": "2024-11-19 08:00:00", "remark": "备注"})
    assert (event.raw_code, event.status, event.reason, event.raw_text) == (
        code,
        status,
        reason,
        "备注",
    )
    assert event.occurred_at == datetime(2024, 11, 19, 8, tzinfo=CST)


def push(url: str = "https://shipflow.example/webhooks/sf/acct_1?token=t0k3n") -> WebhookRequest:
    body = json.dumps(fixture("sf", "route_push"), ensure_ascii=False).encode()
    return WebhookRequest(headers={"Content-Type": "application/json"}, body=body, url=url)


@pytest.mark.parametrize(
    "url",
    [
        "https://shipflow.example/webhooks/sf/acct_1?token=wrong",
        "https://shipflow.example/webhooks/sf/acct_1",
        "https://shipflow.example/webhooks/sf/acct_1?token=",
    ],
)
def test_push_without_our_token_is_refused(url):
    with pytest.raises(WebhookSignatureError):
        make_carrier().verify_webhook(push(url))


def test_push_refused_when_we_set_no_token():
    with pytest.raises(WebhookSignatureError):
        make_carrier(push_token="").verify_webhook(push("https://x/webhooks/sf/a?token="))


def test_push_is_verified_parsed_by_waybill_and_answered_as_documented():
    carrier = make_carrier()
    carrier.verify_webhook(push())
    delivered, returning = carrier.parse_webhook(push())
    assert delivered == TrackingUpdate(
        "sf",
        NUMBER,
        (
            at(
                "北京市",
                datetime(2024, 11, 19, 14, 3, 27, tzinfo=CST),
                "44",
                "快件交给张三，正在派送途中",
                S.OUT_FOR_DELIVERY,
            ),
            at(
                "北京市",
                datetime(2024, 11, 19, 18, 30, 2, tzinfo=CST),
                "80",
                "已签收,感谢使用顺丰",
                S.DELIVERED,
            ),
        ),
    )
    # the unreadable time sinks only its own event
    assert returning.tracking_number == "SF1307777777770"
    assert returning.events == (
        at(
            "上海市",
            datetime(2024, 11, 20, 10, tzinfo=CST),
            "99",
            "应客户要求，快件正在退回中",
            S.RETURNING_TO_SENDER,
        ),
    )
    assert [json.loads(u.raw)["acceptTime"] for u in returning.unreadable] == ["not a time"]
    reply = carrier.webhook_reply
    assert reply is not None and reply.status == 200
    assert json.loads(reply.body) == {"return_code": "0000", "return_msg": "成功"}
