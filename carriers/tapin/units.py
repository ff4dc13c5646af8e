"""Tapin code tables, from Tapin's official API documentation ("مستندات رسمی تاپین",
api.tapin.ir/api/v2/public, page "راهنمای سفارشات" / OrderGuide): the order status table
(وضعیت سفارش), the payment types (نوع پرداخت), the order types (نوع سفارش) and the
register types (نوع ثبت سفارش); the answer codes from "کد خطاها".

Checked row by row against the OrderGuide page's tables as published in the documentation's
source (github.com/AshkanFr/SATapindoc, src/Orders/OrderGuide/README.md): the 35 status codes
and titles, pay_type 0-3, order_type 1 and 3 with their SLAs, register_type 0-2 all agree.

Tapin reports one current status per order, no scan history; the Persian title of its status
is kept as the event's raw text. A code outside the table keeps its raw code and maps to in
transit (counted and logged).
"""

from __future__ import annotations

from shipflow.domain import Reason, ServiceLevel, Status

S, R = Status, Reason

# status -> (our status, reason, Tapin's title).
STATUSES: dict[str, tuple[Status, Reason | None, str]] = {
    "-1": (S.INFO_RECEIVED, None, "ثبت شده در فروشگاه (تحت بررسی )(API)"),
    "0": (S.INFO_RECEIVED, None, "ثبت شده در فروشگاه (تحت بررسی)"),
    "1": (S.INFO_RECEIVED, None, "آماده به پرینت (مطابق پستی)"),
    "2": (S.INFO_RECEIVED, None, "آماده به ارسال"),
    "3": (S.EXCEPTION, R.OTHER, "اشتباه در اعلام آماده به ارسال"),  # wrongly declared ready
    "4": (S.EXCEPTION, R.OTHER, "عدم حضور فروشگاه"),  # the shop was absent at collection
    "5": (S.IN_TRANSIT, None, "قبول شد"),  # accepted by the post office
    "6": (S.EXCEPTION, R.OTHER, "عدم قبول (غیر قابل توزیع در مبدا)"),  # refused at origin
    "7": (S.DELIVERED, None, "توزیع شد"),
    "8": (S.AVAILABLE_FOR_PICKUP, None, "باجه معطل"),  # waiting at the post office counter
    "9": (S.ATTEMPT_FAILED, None, "غیر قابل توزیع (غیر قابل توزیع در مقصد)"),
    "10": (S.RETURNING_TO_SENDER, None, "پیش برگشتی مرسوله"),
    "11": (S.RETURNING_TO_SENDER, None, "ثبت نهایی برگشتی"),
    "12": (S.IN_TRANSIT, None, "مرسوله مشارکتی"),  # carried with a partner
    "13": (S.IN_TRANSIT, None, "وارد شده به استان توزیع"),  # in the destination province
    "14": (S.OUT_FOR_DELIVERY, None, "تحویل به نامه رسان"),  # handed to the postman
    "15": (S.ATTEMPT_FAILED, None, "مراجعه اول"),  # first delivery visit, nobody took it
    "16": (S.ATTEMPT_FAILED, None, "مراجعه دوم"),  # second visit
    "17": (S.DELIVERED, None, "توزیع در صندوق پستی"),  # into the PO box
    "18": (S.EXCEPTION, R.LOST, "بی ترتیبی (کسری مرسوله)"),  # irregularity: parcel missing
    "50": (S.INFO_RECEIVED, None, "در حال جمع\u200cآوری"),  # being collected
    "70": (S.DELIVERED, None, "تایید شده مدیر مالی"),  # delivered, then settled
    "71": (S.DELIVERED, None, "تسویه شده مدیر مالی"),
    "72": (S.DELIVERED, None, "تسویه شده با پست"),
    "80": (S.CANCELLED, None, "حذف شده"),
    "81": (S.EXCEPTION, R.HELD_BY_CARRIER, "بلاتکلیف"),  # undetermined
    "82": (S.IN_TRANSIT, None, "مانند قبول"),  # as accepted
    "83": (S.RETURNED_TO_SENDER, None, "تایید برگشتی"),
    "100": (S.INFO_RECEIVED, None, "منتظر استعلام"),  # awaiting the post's inquiry
    "-100": (S.INFO_RECEIVED, None, "منتظر استعلام (API)"),
    "101": (S.INFO_RECEIVED, None, "در حال تغییر وضعیت"),  # changing status
    "102": (S.RETURNED_TO_SENDER, None, "عودت داده شده"),
    "103": (S.INFO_RECEIVED, None, "پیش ثبت سفارش"),  # pre-registered
}
STATUS_TABLE = {code: (status, reason) for code, (status, reason, _) in STATUSES.items()}
TITLES = {code: title for code, (_, _, title) in STATUSES.items()}

# pay_type: 0 COD (goods and postage collected), 1 online (the shop pays postage), 2 postage
# collected (پس کرایه), 3 free shipping (only the goods' value collected, the shop pays postage).
PAY_ONLINE = 1
PAY_GOODS_ON_DELIVERY = 3

# service -> (order_type, level, transit days per the guide's SLA).
SERVICES: dict[str, tuple[int, ServiceLevel, int]] = {
    "pishtaz": (1, ServiceLevel.STANDARD, 5),  # countrywide, 3 to 5 days
    "vizheh": (3, ServiceLevel.EXPRESS, 1),  # province capital to capital, 24 hours
}

OK = frozenset({200, 201})  # returns.status of a successful call
# returns.status ("کد خطاها") that are no refusal of the request itself: the token unknown
# (332), the session expired (336), no permission (337, 351); a fault on Tapin's side "to
# report to its technical team" (301, 350) and a system error (364).
AUTH_CODES = frozenset({332, 336, 337, 351})
FAULT_CODES = frozenset({301, 350, 364})
REPORT_BATCH = 200  # orders per get-status/report call
