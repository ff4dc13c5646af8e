"""Kuaidi100 code tables (api.kuaidi100.com "实时快递查询接口" and "订阅推送接口": `state`, and with
resultv2=4 or 8 the sub-states each event's `statusCode` carries). A code outside the table keeps
its raw code and text (`carriers.units.lookup`).

STATES was checked row by row against the table "运单快递状态(state)说明" (物流状态值, 高级物流状态值,
含义) of Kuaidi100's 实时快递单号查询技术文档 (api.kuaidi100.com/document/5f0ffb5ebc8da837cbd8aefc,
the same table in its API site apifox.com/apidoc/project-514987/api-8562559): every code and
name agrees; 203 拒收 is "收件人发起拒收快递,待发货方确认" (a refusal waiting for the sender's word,
not yet a return), so it reads as an exception. The sub-states 10-13 (清关) sit beside 8.
14 拒签 sits under 4 退签 and is "收件人拒绝签收，且寄件人签收了" (the sender has signed for the
refused parcel): back with the sender, not on its way."""

from __future__ import annotations

from shipflow.domain import Reason, Status

S, R = Status, Reason

STATES: dict[str, tuple[Status, Reason | None]] = {
    "0": (S.IN_TRANSIT, None),  # 在途
    "1001": (S.IN_TRANSIT, None),  # 到达派件城市
    "1002": (S.IN_TRANSIT, None),  # 干线
    "1003": (S.IN_TRANSIT, None),  # 转递
    "1": (S.IN_TRANSIT, None),  # 揽收
    "101": (S.INFO_RECEIVED, None),  # 已下单
    "102": (S.INFO_RECEIVED, None),  # 待揽收
    "103": (S.IN_TRANSIT, None),  # 已揽收
    "2": (S.EXCEPTION, None),  # 疑难
    "201": (S.EXCEPTION, R.CARRIER_DELAY),  # 超时未签收
    "202": (S.EXCEPTION, R.CARRIER_DELAY),  # 超时未更新
    "203": (S.EXCEPTION, R.REFUSED),  # 拒收: the sender is asked to confirm the refusal
    "204": (S.ATTEMPT_FAILED, None),  # 派件异常
    "205": (S.EXCEPTION, R.NOT_COLLECTED),  # 柜或驿站超时未取
    "206": (S.ATTEMPT_FAILED, R.CUSTOMER_UNAVAILABLE),  # 无法联系
    "207": (S.EXCEPTION, R.ADDRESS_INCORRECT),  # 超区
    "208": (S.EXCEPTION, R.HELD_BY_CARRIER),  # 滞留
    "209": (S.EXCEPTION, R.DAMAGED),  # 破损
    "210": (S.CANCELLED, None),  # 销单
    "3": (S.DELIVERED, None),  # 签收
    "301": (S.DELIVERED, None),  # 本人签收
    "302": (S.DELIVERED, None),  # 派件异常后签收
    "303": (S.DELIVERED, None),  # 代签
    "304": (S.DELIVERED, None),  # 投柜或站签收
    "4": (S.RETURNED_TO_SENDER, None),  # 退签
    "401": (S.CANCELLED, None),  # 已销单
    "5": (S.OUT_FOR_DELIVERY, None),  # 派件
    "501": (S.AVAILABLE_FOR_PICKUP, None),  # 投柜或驿站
    "6": (S.RETURNING_TO_SENDER, None),  # 退回
    "7": (S.IN_TRANSIT, None),  # 转投 (handed to another carrier)
    "8": (S.IN_TRANSIT, None),  # 清关
    "10": (S.IN_TRANSIT, None),  # 待清关
    "11": (S.IN_TRANSIT, None),  # 清关中
    "12": (S.IN_TRANSIT, None),  # 已清关
    "13": (S.EXCEPTION, R.CUSTOMS_HOLD),  # 清关异常
    "14": (S.RETURNED_TO_SENDER, R.REFUSED),  # 拒签: refused, and signed for by the sender
}


def parent_state(code: str) -> str:
    """The state a sub-state belongs to in the document's table: 1001-1003 to 0 (在途), the
    others to their first digit (101 to 1, 201 to 2, 304 to 3, ...); a state is its own."""
    if len(code) == 4 and code.startswith("100"):
        return "0"
    return code[0] if len(code) == 3 else code


# An event without `statusCode` (resultv2 below 4) names its state in words.
STATE_NAMES = {
    "在途": "0",
    "揽收": "1",
    "疑难": "2",
    "签收": "3",
    "退签": "4",
    "派件": "5",
    "退回": "6",
    "转投": "7",
    "转单": "7",
    "清关": "8",
    "待清关": "10",
    "清关中": "11",
    "已清关": "12",
    "清关异常": "13",
    "拒签": "14",
}

# Our courier names (the courier codes of `carriers.detect`, also accepted as the account's
# `company`) -> Kuaidi100 company codes (its "快递公司编码" list), and back for updates.
COMPANIES = {
    "sf_express": "shunfeng",
    "yto": "yuantong",
    "zto": "zhongtong",
    "sto": "shentong",
    "yunda": "yunda",
    "jd": "jd",
    "ems": "ems",
    "china_post": "youzhengguonei",
}
COURIERS = {company: courier for courier, company in COMPANIES.items()}
# A UPU S10 number ending "CN": EMS when its service letter is E, else China Post's.
S10_COMPANIES = {"E": "ems"}
S10_DEFAULT_COMPANY = "youzhengguoji"

# resultv2 of query.do and of the subscription: 4 adds each event's sub-state (`statusCode`)
# and the cities (`routeInfo`); 8 adds to that the predicted arrival (`arrivalTime`,
# `totalTime`, `remainTime`) and route (`predictedRoute`), and needs `to`.
RESULTV2_STATES = "4"
RESULTV2_ARRIVAL = "8"

# returnCode of failed calls (query.do and poll). A query with no result is not an error.
NO_RESULT = "500"
ALREADY_SUBSCRIBED = "501"  # poll: POLL:重复订阅
AUTH_CODES = frozenset({"503", "600"})  # signature wrong, not a subscriber (key wrong)
QUOTA_EXHAUSTED = "601"  # POLL:KEY已过期 / 余额不足: the paid-for queries are used up
QUOTA_RETRY_SECONDS = 3600.0
BUSY_CODES = frozenset({"501", "502"})  # query.do: server error, server busy
# poll: 500 服务器错误, "a passing fault on Kuaidi100's side" (for query.do, 500 is no result).
SUBSCRIBE_BUSY_CODES = frozenset({"500"})
