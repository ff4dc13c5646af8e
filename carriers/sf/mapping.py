"""Pure SF Express payload <-> shipflow translations (丰桥 standard API: EXP_RECE_CREATE_ORDER,
EXP_RECE_SEARCH_ROUTES, EXP_RECE_UPDATE_ORDER and the route push). SF writes times in China
time without an offset; they are read as Asia/Shanghai."""

from __future__ import annotations

import base64
import hashlib
import json
import urllib.parse
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from carriers.base import (
    CarrierAuthError,
    CarrierError,
    CarrierOutcomeUnknown,
    CarrierRateLimited,
    CarrierRejected,
    CarrierResponseError,
    CarrierUnavailable,
    Label,
    ShipmentRequest,
)
from carriers.convert import read_each
from carriers.sf import units
from carriers.units import lookup
from shipflow.domain import Address, TrackingEvent, TrackingUpdate

CARRIER = "sf"
CHINA = ZoneInfo("Asia/Shanghai")


def msg_digest(msg_data: str, timestamp: str, check_word: str) -> str:
    """base64(md5(urlencode(msgData + timestamp + checkWord))), as the 丰桥 signature spec
    says, URL-encoded the way Java's URLEncoder does (" " -> "+", "~" -> "%7E", "*" kept)."""
    text = urllib.parse.quote_plus(msg_data + timestamp + check_word, safe="*")
    text = text.replace("~", "%7E")
    return base64.b64encode(hashlib.md5(text.encode()).digest()).decode()


def _failure(error: type[CarrierError], code: str, message: str) -> CarrierError:
    return error(
        f"sf refused the request: {code} {message}".strip(),
        carrier=CARRIER,
        status_code=200,  # SF answers every call with HTTP 200 and says the rest in the body
        carrier_code=code,
        carrier_message=message,
    )


def result_data(body: Any, *, buys: bool = False) -> Any:
    """The business `msgData` of an answer, or the error SF's codes say it is."""
    try:
        code = body["apiResultCode"]
        message = body.get("apiErrorMsg") or ""
    except (TypeError, KeyError) as exc:
        raise CarrierResponseError("sf answer has no apiResultCode", carrier=CARRIER) from exc
    if code == units.RATE_LIMITED:
        raise _failure(CarrierRateLimited, code, message)
    if code in units.UNAVAILABLE_CODES:
        failure = _failure(CarrierOutcomeUnknown if buys else CarrierUnavailable, code, message)
        failure.retryable = not buys
        raise failure
    if code in units.AUTH_CODES:
        raise _failure(CarrierAuthError, code, message)
    if code != units.OK:
        raise _failure(CarrierRejected, code, message)
    try:
        result = json.loads(body["apiResultData"])
    except (KeyError, TypeError, ValueError) as exc:
        error = CarrierOutcomeUnknown if buys else CarrierResponseError
        raise error("sf apiResultData is not JSON", carrier=CARRIER) from exc
    if not result.get("success"):
        raise _failure(
            CarrierRejected, str(result.get("errorCode") or ""), result.get("errorMsg") or ""
        )
    return result.get("msgData")


def _contact(address: Address, contact_type: int) -> dict[str, Any]:
    """A contactInfoList entry; contactType 1 is the sender, 2 the recipient."""
    contact: dict[str, Any] = {
        "contactType": contact_type,
        "contact": address.name,
        "mobile": address.phone,
        "country": address.country,
        "province": address.state,
        "city": address.city,
        "address": " ".join(p for p in (address.line1, address.line2) if p),
        "postCode": address.postal_code,
    }
    if address.company:
        contact["company"] = address.company
    return contact


def build_order(request: ShipmentRequest, order_id: str, monthly_card: str) -> dict[str, Any]:
    grams = sum(p.weight_g for p in request.parcels)
    order: dict[str, Any] = {
        "language": "zh-CN",
        "orderId": order_id,
        "monthlyCard": monthly_card,
        "payMethod": 1,  # 寄方付 (the sender pays, on the monthly card)
        "expressTypeId": units.EXPRESS_TYPES.get(request.service, 2),
        "parcelQty": len(request.parcels),
        "totalWeight": round(grams / 1000, 3),
        "isReturnRoutelabel": 1,
        "cargoDetails": [{"name": request.reference or order_id, "count": 1}],
        "contactInfoList": [_contact(request.shipper, 1), _contact(request.recipient, 2)],
    }
    if request.cash_on_delivery is not None:
        amount = request.cash_on_delivery.amount / 100
        order["serviceList"] = [{"name": "IN02", "value": f"{amount:.2f}", "value1": monthly_card}]
    return order


def parse_order(msg_data: dict, service: str) -> Label:
    """The waybill of type 1 (母单, the main parcel) is the tracking number."""
    waybills = msg_data["waybillNoInfoList"]
    main = next((w for w in waybills if w.get("waybillType") == 1), waybills[0])
    return Label(
        carrier=CARRIER,
        service=service,
        tracking_number=main["waybillNo"],
        label_format="PDF",
        label_data=b"",  # printed through SF's cloud print service, not this order call
        carrier_shipment_id=msg_data["orderId"],
    )


def build_route_query(numbers: Sequence[str], phone_last4: str) -> dict[str, Any]:
    query: dict[str, Any] = {
        "language": "zh-CN",
        "trackingType": 1,  # by SF waybill number
        "trackingNumber": list(numbers),
        "methodType": 1,  # every route, not just the latest
    }
    if phone_last4:
        query["checkPhoneNo"] = phone_last4
    return query


def build_cancel(order_id: str) -> dict[str, Any]:
    return {"orderId": order_id, "dealType": 2}  # 2: 取消


def china_time(text: str) -> datetime:
    """ "2024-11-20 16:56:54", China time."""
    return datetime.fromisoformat(text.strip()).replace(tzinfo=CHINA)


def route_event(route: dict) -> TrackingEvent:
    code = str(route["opCode"])
    text = route.get("remark") or ""
    status, reason = lookup(CARRIER, units.OP_CODES, code, text)
    city = route.get("acceptAddress") or ""
    return TrackingEvent(
        status=status,
        occurred_at=china_time(route["acceptTime"]),
        raw_code=code,
        raw_text=text,
        reason=reason,
        location=city,
        city=city,
        country="CN",
    )


def _update(number: str, routes: list) -> TrackingUpdate:
    events, unreadable = read_each(CARRIER, "route", routes, route_event)
    return TrackingUpdate(CARRIER, number, tuple(events), unreadable=unreadable)


def _waybill_update(resp: dict) -> TrackingUpdate | None:
    """A `routeResps` entry: its waybill's routes, None when SF has none for it."""
    return _update(resp["mailNo"], resp["routes"]) if resp.get("routes") else None


def tracking_updates(msg_data: dict) -> list[TrackingUpdate]:
    """One update per waybill SF has routes for; a waybill without routes is left out, and
    an entry that cannot be read is skipped (logged and counted), not the query's others."""
    updates, _ = read_each(CARRIER, "waybill", msg_data["routeResps"], _waybill_update)
    return [update for update in updates if update is not None]


def _numbered(route: dict) -> tuple[str, dict]:
    return route["mailno"], route


def push_updates(body: dict) -> list[TrackingUpdate]:
    """The route push ({"Body": {"WaybillRoute": [...]}}), which mixes waybills; a route
    without its waybill number is skipped (logged and counted), not the whole push."""
    numbered, _ = read_each(CARRIER, "route", body["Body"]["WaybillRoute"], _numbered)
    by_number: dict[str, list] = defaultdict(list)
    for number, route in numbered:
        by_number[number].append(route)
    return [_update(number, routes) for number, routes in by_number.items()]
