"""SF Express code tables (丰桥 "路由操作码" opCode list of the route query and route push
services). An opCode outside the table keeps its raw code and text (`carriers.units.lookup`).

UNVERIFIED: SF publishes the opCode list only inside its developer portal (open.sf-express.com,
behind a login); no copy of it was found. Public route samples agree on 54 (收件), 30, 31, 36
and 80; one third-party list reads 130 as "已到达目的地网点，即将派件" (at the delivery outlet),
not a locker or station, which would make it in transit rather than ready for pickup. Kept
until the document says which."""

from __future__ import annotations

from shipflow.domain import Reason, Status

S, R = Status, Reason

OP_CODES: dict[str, tuple[Status, Reason | None]] = {
    "50": (S.IN_TRANSIT, None),  # 顺丰已收取快件 (picked up)
    "54": (S.IN_TRANSIT, None),  # 上门收件
    "607": (S.IN_TRANSIT, None),  # 代理收件
    "30": (S.IN_TRANSIT, None),  # 已装车, 准备发往
    "31": (S.IN_TRANSIT, None),  # 已到达
    "36": (S.IN_TRANSIT, None),  # 已发车
    "105": (S.IN_TRANSIT, None),  # 航班起飞
    "106": (S.IN_TRANSIT, None),  # 航班落地
    "77": (S.IN_TRANSIT, R.CARRIER_DELAY),  # 中转滞留
    "631": (S.IN_TRANSIT, None),  # 转寄, 新单号
    "44": (S.OUT_FOR_DELIVERY, None),  # 正在派送途中
    "204": (S.OUT_FOR_DELIVERY, None),  # 派件员已取件, 派送中
    "125": (S.AVAILABLE_FOR_PICKUP, None),  # 已到达自取点, 待客户自取
    "130": (S.AVAILABLE_FOR_PICKUP, None),  # 已投递至快递柜/驿站
    "70": (S.ATTEMPT_FAILED, None),  # 派送不成功
    "33": (S.ATTEMPT_FAILED, None),  # 派件异常
    "34": (S.EXCEPTION, R.HELD_BY_CARRIER),  # 滞留件
    "80": (S.DELIVERED, None),  # 已签收
    "8000": (S.DELIVERED, None),  # 已签收 (with proof of delivery)
    "99": (S.RETURNING_TO_SENDER, None),  # 应客户要求, 快件正在退回中
    "648": (S.RETURNING_TO_SENDER, None),  # 快件已退回 (a return waybill was made)
}

# apiResultCode of the platform (丰桥 "API平台公共返回码"); A1000 means "call went through",
# the business answer is in apiResultData.
OK = "A1000"
AUTH_CODES = frozenset({"A1003", "A1004", "A1006"})  # IP, permission, digital signature
RATE_LIMITED = "A1005"  # 30 calls a second and 3000 a day per service in the sandbox
UNAVAILABLE_CODES = frozenset({"A1009", "A1099"})  # the service behind the platform failed

# expressTypeId (丰桥 "产品类别表") of our service names.
EXPRESS_TYPES = {"express": 1, "standard": 2}  # 顺丰特快, 顺丰标快
