"""Pure functions between Tapin's API payloads and shipflow objects. No I/O.

Every Tapin answer is `{"returns": {"status", "message"}, "entries": ...}`, HTTP 200 even when
it refuses: a `returns.status` other than 200/201 is `CarrierRejected` with Tapin's (Persian)
message and the fields it names. Amounts are integer Rial (IRR, no minor unit), weights grams.
Times come without an offset and are Iran Standard Time (Asia/Tehran). Provinces and cities
are Tapin's numeric codes: an address gives them as codes, or as names found in Tapin's
province tree (state/tree).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from carriers import convert
from carriers.base import (
    CarrierAuthError,
    CarrierError,
    CarrierOutcomeUnknown,
    CarrierRejected,
    CarrierResponseError,
    CarrierUnavailable,
    Label,
    NotSupported,
    RateQuote,
    ShipmentRequest,
)
from carriers.tapin import units
from carriers.units import lookup
from shipflow.domain import Address, Money, TrackingEvent, TrackingUpdate

CARRIER = "tapin"
TEHRAN = ZoneInfo("Asia/Tehran")
_ARABIC = str.maketrans({"ي": "ی", "ى": "ی", "ك": "ک", "\u200c": " "})


def error_parser(body: Any) -> tuple[str, str]:
    """(returns.status, its message and the message of each field `entries` names)."""
    if not isinstance(body, dict):
        return "", str(body)[:500]
    returns = body.get("returns") or {}
    words = [str(returns.get("message") or "")]
    entries = body.get("entries")
    if isinstance(entries, dict):
        for field, messages in entries.items():
            if isinstance(messages, list) and messages and isinstance(messages[0], str):
                words.append(f"{field}: {messages[0]}")
    return str(returns.get("status", "")), "; ".join(w for w in words if w)


def entries(body: Any, what: str, *, buys: bool = False) -> Any:
    """The `entries` of an answer Tapin accepted. A refusal raises `CarrierRejected`; a
    token Tapin no longer takes `CarrierAuthError`; a fault on its side `CarrierUnavailable`,
    or `CarrierOutcomeUnknown` when the call `buys` (registers or deletes an order)."""
    if not isinstance(body, dict) or not isinstance(body.get("returns"), dict):
        raise CarrierResponseError(f"tapin {what} answer has no returns", carrier=CARRIER)
    status = body["returns"].get("status")
    if status in units.OK:
        return body.get("entries")
    code, message = error_parser(body)
    error: type[CarrierError] = CarrierRejected
    if status in units.AUTH_CODES:
        error = CarrierAuthError
    elif status in units.FAULT_CODES:
        error = CarrierOutcomeUnknown if buys else CarrierUnavailable
    raise error(
        f"tapin answered the {what} with {code}: {message}",
        carrier=CARRIER,
        carrier_code=code,
        carrier_message=message,
        retryable=error is CarrierUnavailable,
    )


def tehran(text: str) -> datetime:
    moment = datetime.fromisoformat(text.strip())
    return moment if moment.tzinfo else moment.replace(tzinfo=TEHRAN)


# -- places -------------------------------------------------------------------------------


def _plain(name: str) -> str:
    """A place name as Tapin's tree spells it: Arabic yeh/kaf as Persian, single spaces."""
    return re.sub(r"\s+", " ", name.translate(_ARABIC)).strip()


def place_codes(tree: list[dict], address: Address) -> tuple[int, int]:
    """(province_code, city_code) of the address: its state and city as codes, or as names
    of Tapin's province tree."""
    try:
        province = next(
            p for p in tree if _plain(address.state) in (str(p["code"]), _plain(p["title"]))
        )
        city = next(
            c
            for c in province["cities"]
            if _plain(address.city) in (str(c["code"]), _plain(c["title"]))
        )
    except StopIteration:
        raise CarrierRejected(
            f"tapin knows no city {address.city!r} in province {address.state!r}; give the "
            "address Tapin's province and city (name or code, see its state/tree)",
            carrier=CARRIER,
        ) from None
    return int(province["code"]), int(city["code"])


# -- orders -------------------------------------------------------------------------------


def _rials(money: Money | None, what: str) -> int:
    if money is None:
        return 0
    if money.currency != "IRR":
        raise NotSupported(
            f"tapin takes {what} in IRR (Rial), not {money.currency}", carrier=CARRIER
        )
    return money.amount


def _order(request: ShipmentRequest, shop_id: str, box_id: int, codes: tuple[int, int]) -> dict:
    """The fields check-price and register share."""
    if len(request.parcels) != 1:
        raise NotSupported("tapin orders are one parcel each", carrier=CARRIER)
    if request.service not in units.SERVICES:
        raise NotSupported(f"tapin has no service {request.service!r}", carrier=CARRIER)
    if request.is_return:
        raise NotSupported("tapin registers no return orders", carrier=CARRIER)
    to, parcel = request.recipient, request.parcels[0]
    first, _, last = to.name.strip().partition(" ")
    cod = request.cash_on_delivery
    value = _rials(cod, "cash on delivery") if cod else _rials(request.declared_value, "values")
    province, city = codes
    return {
        "shop_id": shop_id,
        "address": ", ".join(p for p in (to.line1, to.line2) if p),
        "city_code": city,
        "province_code": province,
        "description": None,
        "email": to.email or None,
        "employee_code": -1,
        "first_name": first,
        "last_name": last or first,
        "mobile": to.phone,
        "phone": None,
        "postal_code": to.postal_code,
        # COD here is "ارسال رایگان": the postman collects the goods' value, the shop pays
        # the postage, so exactly the amount asked for is collected.
        "pay_type": units.PAY_GOODS_ON_DELIVERY if cod else units.PAY_ONLINE,
        "order_type": units.SERVICES[request.service][0],
        "box_id": box_id,
        "package_weight": 0,  # the parcel's weight is given whole, on its one product
        "products": [
            {
                "count": 1,
                "discount": 0,
                "price": value,
                "title": request.reference or "parcel",
                "weight": parcel.weight_g,
                "product_id": None,
            }
        ],
    }


def build_price_request(
    request: ShipmentRequest, shop_id: str, box_id: int, codes: tuple[int, int]
) -> dict:
    return _order(request, shop_id, box_id, codes)


def build_register_request(
    request: ShipmentRequest,
    shop_id: str,
    box_id: int,
    codes: tuple[int, int],
    register_type: int,
) -> dict:
    """`manual_id` is our reference: Tapin answers a second register with the same one with
    the order it already has, never a second order."""
    return {
        "register_type": register_type,
        **_order(request, shop_id, box_id, codes),
        "manual_id": request.reference,
    }


def parse_price(body: Any, service: str) -> RateQuote:
    found = entries(body, "price inquiry")
    with convert.reading(CARRIER, "price answer"):
        return RateQuote(
            carrier=CARRIER,
            service=service,
            price=Money(int(found["total_price"]), "IRR"),
            transit_days=units.SERVICES[service][2],
        )


def parse_register(body: Any, service: str) -> Label:
    """The order's post barcode is its tracking number; Tapin prints the label in its panel
    (its label call is documented without the format it answers in)."""
    found = entries(body, "order", buys=True)
    barcode = str((found or {}).get("barcode") or "")
    if not barcode:
        raise CarrierRejected(
            "tapin registered the order without a post barcode; register it as ready to "
            "print (register_type 1) or ready to send (2)",
            carrier=CARRIER,
        )
    return Label(
        carrier=CARRIER,
        service=service,
        tracking_number=barcode,
        label_format="PDF",
        label_data=b"",
        carrier_shipment_id=str(found.get("order_id") or ""),  # cancel finds it by barcode
    )


# -- status -------------------------------------------------------------------------------


def build_find_request(shop_id: str, barcode: str) -> dict:
    return {"shop_id": shop_id, "count": 1, "page": 1, "barcode": barcode}


def order_id_of(body: Any, barcode: str) -> int | None:
    """The order with this post barcode in a page of order/post/list, None if none."""
    found = entries(body, "order search") or {}
    return next(
        (int(o["order_id"]) for o in found.get("list") or [] if str(o.get("barcode")) == barcode),
        None,
    )


def _update(item: dict) -> TrackingUpdate:
    code = str(item["status"])
    status, reason = lookup(CARRIER, units.STATUS_TABLE, code)
    event = TrackingEvent(
        status=status,
        occurred_at=tehran(item["last_change_status"]),
        raw_code=code,
        raw_text=units.TITLES.get(code, ""),  # Tapin's own (Persian) words
        reason=reason,
        country="IR",
    )
    return TrackingUpdate(carrier=CARRIER, tracking_number=str(item["barcode"]), events=(event,))


def parse_report(body: Any) -> list[TrackingUpdate]:
    """get-status/report: each order's current status and when it last changed."""
    found = entries(body, "status report") or {}
    return convert.read_each(CARRIER, "order status", found.get("list") or [], _update)[0]


CANCELLED = 80  # "حذف شده": the status a shop may move an unsent order to


def build_cancel_request(shop_id: str, order_id: int) -> dict:
    return {"shop_id": shop_id, "order_id": order_id, "status": CANCELLED}
