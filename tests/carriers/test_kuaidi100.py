"""Kuaidi100 adapter against payloads shaped like its query and subscription APIs (see each
fixture)."""

from __future__ import annotations

import json
from datetime import datetime
from urllib.parse import parse_qs, urlencode
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
from carriers.kuaidi100 import Kuaidi100Carrier
from carriers.kuaidi100.mapping import china_time, region, sign, tracking_event
from carriers.registry import get_carrier_class
from shipflow.domain import Address, Reason, Status, TrackingEvent, TrackingUpdate
from tests.carriers.carrier_contract import Contract, Operation, fixture

QUERY_URL = "https://poll.kuaidi100.com/poll/query.do"
POLL_URL = "https://poll.kuaidi100.com/poll"
NUMBER = "73100012345678"
CST = ZoneInfo("Asia/Shanghai")
S, R = Status, Reason
SHENZHEN_WAREHOUSE = Address("CN", "518000", city="深圳市", state="广东省")
BEIJING_HOME = Address(
    "CN",
    "100020",
    city="北京市",
    state="北京市",
    line1="建国路88号",
    name="李四",
    phone="13800000001",
)
ROUTED = TrackingQuery(NUMBER, "5678", origin=SHENZHEN_WAREHOUSE, destination=BEIJING_HOME)


def event(status, when, code, text, area, reason=None) -> TrackingEvent:
    return TrackingEvent(status, when, code, text, reason, area, area.split(",")[-1], "", "", "CN")


IN_DELIVERY = TrackingUpdate(
    carrier="kuaidi100",
    tracking_number=NUMBER,
    events=(
        event(
            S.OUT_FOR_DELIVERY,
            datetime(2024, 11, 20, 8, 10, 3, tzinfo=CST),
            "5",
            "【北京市】【朝阳建国路】的李四（13800000001）正在第1次派件, 请保持电话畅通",
            "北京,朝阳区",
        ),
        event(
            S.IN_TRANSIT,
            datetime(2024, 11, 19, 22, 41, 17, tzinfo=CST),
            "1001",
            "【北京市】快件已到达【北京转运中心】",
            "北京",
        ),
        event(
            S.IN_TRANSIT,
            datetime(2024, 11, 18, 20, 2, 55, tzinfo=CST),
            "1002",
            "【深圳市】快件离开【深圳中心】已发往【北京中心】",
            "广东,深圳市",
        ),
        # no statusCode: the state's words ("揽收") name it
        event(
            S.IN_TRANSIT,
            datetime(2024, 11, 18, 16, 30, tzinfo=CST),
            "1",
            "【深圳市】【深圳宝安】的王五已揽收",
            "广东,深圳市,宝安区",
        ),
    ),
    estimated_delivery=datetime(2024, 11, 20, 18, tzinfo=CST),
    extra={"courier": "zto"},
)


def make_carrier(**credentials: str) -> Kuaidi100Carrier:
    account = CarrierAccount(
        "kuaidi100",
        "kd-test",
        {"key": "KEY1", "customer": "CUST1", "salt": "s4lt", "company": "zhongtong", **credentials},
        rate_limit_per_second=1000,
    )
    return Kuaidi100Carrier(account)


CONTRACT = Contract(
    carrier="kuaidi100", make=make_carrier, error_message="找不到对应公司", error_status=200
)
OPERATIONS = [
    Operation(
        "track", "POST", QUERY_URL, "query_result", lambda c: c.track([NUMBER]), [IN_DELIVERY]
    )
]


test_operation_contract = CONTRACT.test_for(OPERATIONS)


def forms(mocked) -> list[dict[str, str]]:
    return [{k: v[0] for k, v in parse_qs(c.request.body).items()} for c in mocked.calls]


def test_registered_tracking_only():
    assert get_carrier_class("kuaidi100") is Kuaidi100Carrier
    assert Kuaidi100Carrier.capabilities == {
        Capability.TRACKING_POLL,
        Capability.WEBHOOKS,
        Capability.PUSH_SUBSCRIPTIONS,
    }
    assert not Kuaidi100Carrier.capabilities & {Capability.LABELS, Capability.RATES}


def test_query_is_signed_md5_of_param_key_customer_upper_case(mocked):
    mocked.post(QUERY_URL, json=fixture("kuaidi100", "query_result"))
    make_carrier().track([NUMBER])
    # printf '%s' '{"com":"zhongtong","num":"73100012345678","resultv2":"4"}KEY1CUST1' | md5sum
    assert forms(mocked) == [
        {
            "customer": "CUST1",
            "sign": "C988D30529E761D6001FE4BCA334B2EE",
            "param": '{"com":"zhongtong","num":"73100012345678","resultv2":"4"}',
        }
    ]


def test_query_with_the_route_asks_for_the_predicted_arrival(mocked):
    """resultv2=8 returns arrivalTime and needs `to`; `from` helps; both as 省市区 text, the
    street and the name staying with us."""
    mocked.post(QUERY_URL, json=fixture("kuaidi100", "query_result"))
    make_carrier().track_queries([ROUTED])
    # printf '%s' '{"com":"zhongtong","num":"73100012345678","from":"广东省深圳市","to":"北京市",
    #   "phone":"5678","resultv2":"8"}KEY1CUST1' | md5sum  (one line)
    assert forms(mocked) == [
        {
            "customer": "CUST1",
            "sign": "9671C53AC992D984ECD67718A99D1FF7",
            "param": '{"com":"zhongtong","num":"73100012345678","from":"广东省深圳市",'
            '"to":"北京市","phone":"5678","resultv2":"8"}',
        }
    ]


def test_query_without_a_destination_asks_no_prediction(mocked):
    mocked.post(QUERY_URL, json=fixture("kuaidi100", "query_result_no_estimate"))
    make_carrier().track_queries([TrackingQuery(NUMBER, origin=SHENZHEN_WAREHOUSE)])
    assert json.loads(forms(mocked)[0]["param"]) == {
        "com": "zhongtong",
        "num": NUMBER,
        "from": "广东省深圳市",
        "resultv2": "4",
    }


def test_an_answer_without_a_predicted_arrival_has_no_carrier_estimate(mocked):
    mocked.post(QUERY_URL, json=fixture("kuaidi100", "query_result_no_estimate"))
    [update] = make_carrier().track_queries([ROUTED])
    assert update.estimated_delivery is None
    assert update.events == IN_DELIVERY.events


@pytest.mark.parametrize(
    ("address", "text"),
    [
        (Address("CN", "518000", city="深圳市", state="广东省"), "广东省深圳市"),
        (Address("CN", "100020", city="北京市", state="北京市"), "北京市"),  # a municipality
        (Address("cn", "200000", city="上海市"), "上海市"),  # no province given
        (Address("CN", "", city=" 杭州市 ", state="浙江省 "), "浙江省杭州市"),
        (Address("TW", "114", city="台北市", state="內湖區"), ""),  # not the mainland
        (Address("US", "08817", city="Edison", state="NJ"), ""),
        (None, ""),
    ],
)
def test_region_text(address, text):
    assert region(address) == text


@pytest.mark.parametrize(
    ("text", "when"),
    [
        ("2024-11-22 18", datetime(2024, 11, 22, 18, tzinfo=CST)),  # arrivalTime, to the hour
        ("2024-11-20 16:56:54", datetime(2024, 11, 20, 16, 56, 54, tzinfo=CST)),
    ],
)
def test_china_time_without_offset_is_read_as_shanghai(text, when):
    assert china_time(text) == when
    assert china_time(text).utcoffset().total_seconds() == 8 * 3600


def test_query_sends_the_phones_last_digits(mocked):
    mocked.post(QUERY_URL, json=fixture("kuaidi100", "query_result"))
    make_carrier().track_queries([TrackingQuery(NUMBER, "5678")])
    assert json.loads(forms(mocked)[0]["param"])["phone"] == "5678"


def test_number_without_result_is_left_out(mocked):
    mocked.post(QUERY_URL, json=fixture("kuaidi100", "no_result"))
    assert make_carrier().track([NUMBER]) == []


def test_quota_used_up_backs_off(mocked):
    mocked.post(QUERY_URL, json=fixture("kuaidi100", "quota"))
    with pytest.raises(CarrierRateLimited) as caught:
        make_carrier().track([NUMBER])
    assert (caught.value.carrier_code, caught.value.retry_after) == ("601", 3600.0)
    assert caught.value.carrier_message == "POLL:KEY已过期"


def test_bad_sign_is_an_auth_error(mocked):
    mocked.post(QUERY_URL, json=fixture("kuaidi100", "sign_failed"))
    with pytest.raises(CarrierAuthError, match="验证签名失败"):
        make_carrier().track([NUMBER])


def test_subscribe_sends_the_documented_param_and_keeps_each_numbers_refusal(mocked):
    mocked.post(POLL_URL, json=fixture("kuaidi100", "subscribe_ok"))
    mocked.post(POLL_URL, json=fixture("kuaidi100", "subscribe_duplicate"))
    mocked.post(POLL_URL, json=fixture("kuaidi100", "subscribe_refused"))
    queries = [ROUTED, TrackingQuery("73100000000001"), TrackingQuery("X1")]
    refused = make_carrier().subscribe(
        queries, "https://shipflow.example/webhooks/kuaidi100/acct_1"
    )
    assert list(refused) == ["X1"]
    assert isinstance(refused["X1"], CarrierRejected) and refused["X1"].carrier_code == "700"
    first = forms(mocked)[0]
    assert first["schema"] == "json"
    assert json.loads(first["param"]) == {
        "company": "zhongtong",
        "number": NUMBER,
        "from": "广东省深圳市",
        "to": "北京市",
        "key": "KEY1",
        "parameters": {
            "callbackurl": "https://shipflow.example/webhooks/kuaidi100/acct_1",
            "salt": "s4lt",
            "resultv2": "8",
            "phone": "5678",
        },
    }
    assert json.loads(forms(mocked)[1]["param"])["parameters"] == {
        "callbackurl": "https://shipflow.example/webhooks/kuaidi100/acct_1",
        "salt": "s4lt",
        "resultv2": "4",  # no destination: no prediction to ask for
    }


def test_a_subscription_kuaidi100_fails_to_take_is_asked_again_not_refused(mocked):
    """poll's 500 is Kuaidi100's passing fault, not a refusal of the number (which would
    leave it to polling for good): the subscription job asks again at its next run."""
    mocked.post(POLL_URL, json=fixture("kuaidi100", "subscribe_server_error"))
    with pytest.raises(CarrierUnavailable) as caught:
        make_carrier().subscribe([ROUTED], "https://shipflow.example/webhooks/kuaidi100/acct_1")
    assert (caught.value.carrier_code, caught.value.carrier_message, caught.value.retryable) == (
        "500",
        "服务器错误",
        True,
    )


def pushed(param: str, signature: str) -> WebhookRequest:
    body = urlencode({"param": param, "sign": signature}).encode()
    return WebhookRequest(headers={"Content-Type": "application/x-www-form-urlencoded"}, body=body)


def test_push_sign_is_md5_of_param_and_salt_upper_case():
    # printf '%s' '{"status":"polling"}s4lt' | md5sum
    assert sign('{"status":"polling"}', "s4lt") == "F82772999FBD64E5C8095E8D9EB23B5E"
    make_carrier().verify_webhook(
        pushed('{"status":"polling"}', "F82772999FBD64E5C8095E8D9EB23B5E")
    )


@pytest.mark.parametrize(
    ("param", "signature", "salt"),
    [
        ('{"status":"polling"}', "F82772999FBD64E5C8095E8D9EB23B5F", "s4lt"),  # one digit off
        ('{"status":"shutdown"}', "F82772999FBD64E5C8095E8D9EB23B5E", "s4lt"),  # other param
        ('{"status":"polling"}', "", "s4lt"),  # unsigned
        ('{"status":"polling"}', "F82772999FBD64E5C8095E8D9EB23B5E", ""),  # we have no salt
    ],
)
def test_push_with_wrong_or_missing_sign_is_refused(param, signature, salt):
    with pytest.raises(WebhookSignatureError):
        make_carrier(salt=salt).verify_webhook(pushed(param, signature))


def test_push_is_parsed_answered_as_documented_and_one_bad_event_is_kept_aside():
    param = json.dumps(fixture("kuaidi100", "push_param"), ensure_ascii=False)
    carrier = make_carrier()
    request = pushed(param, sign(param, "s4lt"))
    carrier.verify_webhook(request)
    [update] = carrier.parse_webhook(request)
    assert update.events == (
        event(
            S.DELIVERED,
            datetime(2024, 11, 20, 11, 2, 40, tzinfo=CST),
            "304",
            "【北京市】已签收，签收人凭取货码签收",
            "北京,朝阳区",
        ),
        event(
            S.AVAILABLE_FOR_PICKUP,
            datetime(2024, 11, 20, 9, 30, 12, tzinfo=CST),
            "501",
            "【北京市】快件已放入【丰巢柜】，请凭取件码取件",
            "北京,朝阳区",
        ),
    )
    assert update.estimated_delivery == datetime(2024, 11, 20, 18, tzinfo=CST)
    assert [json.loads(u.raw)["ftime"] for u in update.unreadable] == ["yesterday"]
    reply = carrier.webhook_reply
    assert reply is not None and reply.status == 200
    assert json.loads(reply.body) == {"result": True, "returnCode": "200", "message": "成功"}


def test_abort_push_has_no_events():
    param = json.dumps(fixture("kuaidi100", "push_abort"), ensure_ascii=False)
    assert make_carrier().parse_webhook(pushed(param, sign(param, "s4lt"))) == []


@pytest.mark.parametrize(
    ("code", "status", "reason"),
    [
        ("0", S.IN_TRANSIT, None),
        ("1001", S.IN_TRANSIT, None),
        ("1002", S.IN_TRANSIT, None),
        ("1003", S.IN_TRANSIT, None),
        ("1", S.IN_TRANSIT, None),
        ("101", S.INFO_RECEIVED, None),
        ("102", S.INFO_RECEIVED, None),
        ("103", S.IN_TRANSIT, None),
        ("2", S.EXCEPTION, None),
        ("201", S.EXCEPTION, R.CARRIER_DELAY),
        ("202", S.EXCEPTION, R.CARRIER_DELAY),
        ("203", S.EXCEPTION, R.REFUSED),  # 待发货方确认: not yet a return
        ("204", S.ATTEMPT_FAILED, None),
        ("205", S.EXCEPTION, R.NOT_COLLECTED),
        ("206", S.ATTEMPT_FAILED, R.CUSTOMER_UNAVAILABLE),
        ("207", S.EXCEPTION, R.ADDRESS_INCORRECT),
        ("208", S.EXCEPTION, R.HELD_BY_CARRIER),
        ("209", S.EXCEPTION, R.DAMAGED),
        ("210", S.CANCELLED, None),
        ("3", S.DELIVERED, None),
        ("301", S.DELIVERED, None),
        ("302", S.DELIVERED, None),
        ("303", S.DELIVERED, None),
        ("304", S.DELIVERED, None),
        ("4", S.RETURNED_TO_SENDER, None),
        ("401", S.CANCELLED, None),
        ("5", S.OUT_FOR_DELIVERY, None),
        ("501", S.AVAILABLE_FOR_PICKUP, None),
        ("6", S.RETURNING_TO_SENDER, None),
        ("7", S.IN_TRANSIT, None),
        ("8", S.IN_TRANSIT, None),
        ("10", S.IN_TRANSIT, None),
        ("11", S.IN_TRANSIT, None),
        ("12", S.IN_TRANSIT, None),
        ("13", S.EXCEPTION, R.CUSTOMS_HOLD),
        ("14", S.RETURNED_TO_SENDER, R.REFUSED),
        ("999", S.IN_TRANSIT, None),  # not in the table: kept raw
        # Sub-states the table does not know yet read as the state they belong to:
        ("305", S.DELIVERED, None),  # under 3 签收
        ("211", S.EXCEPTION, None),  # under 2 疑难
        ("502", S.OUT_FOR_DELIVERY, None),  # under 5 派件
        ("1004", S.IN_TRANSIT, None),  # under 0 在途
    ],
)
def test_state(code, status, reason):
    item = {"ftime": "2024-11-20 08:00:00", "context": "文字", "statusCode": code}
    read = tracking_event(item)
    assert (read.raw_code, read.status, read.reason, read.raw_text) == (
        code,
        status,
        reason,
        "文字",
    )
    assert read.occurred_at == datetime(2024, 11, 20, 8, tzinfo=CST)


@pytest.mark.parametrize(
    ("words", "code", "status"),
    [
        ("在途", "0", S.IN_TRANSIT),
        ("揽收", "1", S.IN_TRANSIT),
        ("疑难", "2", S.EXCEPTION),
        ("签收", "3", S.DELIVERED),
        ("退签", "4", S.RETURNED_TO_SENDER),
        ("派件", "5", S.OUT_FOR_DELIVERY),
        ("退回", "6", S.RETURNING_TO_SENDER),
        ("转投", "7", S.IN_TRANSIT),
        ("转单", "7", S.IN_TRANSIT),
        ("清关", "8", S.IN_TRANSIT),
        ("待清关", "10", S.IN_TRANSIT),
        ("清关中", "11", S.IN_TRANSIT),
        ("已清关", "12", S.IN_TRANSIT),
        ("清关异常", "13", S.EXCEPTION),
        ("拒签", "14", S.RETURNED_TO_SENDER),
        ("未知状态", "未知状态", S.IN_TRANSIT),  # words outside the list kept raw
    ],
)
def test_state_words_without_status_code(words, code, status):
    read = tracking_event({"time": "2024-11-20 08:00:00", "context": "文字", "status": words})
    assert (read.raw_code, read.status) == (code, status)


@pytest.mark.parametrize(
    ("number", "configured", "company"),
    [
        ("SF1301234567890", "zhongtong", "shunfeng"),  # its format names SF
        ("YT5555508965056", "zhongtong", "yuantong"),
        ("EA123456785CN", "zhongtong", "ems"),  # S10, service letter E
        ("RR123456785CN", "zhongtong", "youzhengguoji"),  # S10, China Post
        ("73100012345678", "zto", "zhongtong"),  # no format fits: the account's, ours named
        ("73100012345678", "zhongtong", "zhongtong"),  # or Kuaidi100's own code
    ],
)
def test_company_of_a_number(number, configured, company):
    assert make_carrier(company=configured).company(number) == company
