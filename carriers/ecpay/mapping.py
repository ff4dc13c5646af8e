"""Pure functions between ECPay's classic logistics API (form posts answered in
`1|key=value&...` or `0|message` text, pushes as form posts, all signed with CheckMacValue)
and shipflow objects. No I/O: the client sends what the builders return.

ECPay's times ("yyyy/MM/dd HH:mm:ss") carry no offset: they are Taipei time. Amounts are whole
New Taiwan dollars.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, quote_plus
from zoneinfo import ZoneInfo

from carriers import convert
from carriers.base import (
    CarrierOutcomeUnknown,
    CarrierRejected,
    CarrierResponseError,
    Label,
    ShipmentRequest,
)
from carriers.ecpay import units
from carriers.units import lookup
from shipflow.domain import (
    Address,
    Money,
    PickupPoint,
    Reason,
    Status,
    TrackingEvent,
    TrackingUpdate,
)
from shipflow.signatures import same_secret

CARRIER = "ecpay"
TAIPEI = ZoneInfo("Asia/Taipei")
TIME_FORMAT = "%Y/%m/%d %H:%M:%S"
MAC = "CheckMacValue"
# .NET's HttpUtility.UrlEncode, which the checksum is defined on ("URLENCODE轉換表, .NET編碼
# (ecpay)"), leaves these unencoded besides letters and digits; unlike Python it encodes "~".
DOTNET_SAFE = "-_.!*()"
CELL_PHONE = re.compile(r"09\d{8}")
# Names: Chinese 2~5 or English 4~10 characters, no digits, symbols or spaces (p=22414).
NAME_SYMBOLS = re.compile(r"[\d\s\^'`!@#%&*+\\\"<>|_\[\],，?]")


# -- CheckMacValue ------------------------------------------------------------------------


def check_mac_value(params: dict[str, str], hash_key: str, hash_iv: str) -> str:
    """ECPay's checksum (附錄 檢查碼機制, logistics p=7424): parameters but CheckMacValue sorted
    by name (A to Z, case-blind), between HashKey and HashIV, .NET URL-encoded, lower-cased,
    MD5 (the logistics API's hash), upper-cased."""
    pairs = sorted(((k, v) for k, v in params.items() if k != MAC), key=lambda kv: kv[0].lower())
    raw = "&".join([f"HashKey={hash_key}", *(f"{k}={v}" for k, v in pairs), f"HashIV={hash_iv}"])
    encoded = quote_plus(raw, safe=DOTNET_SAFE).replace("~", "%7e").lower()
    return hashlib.md5(encoded.encode()).hexdigest().upper()


def signed(params: dict[str, str], hash_key: str, hash_iv: str) -> dict[str, str]:
    return {**params, MAC: check_mac_value(params, hash_key, hash_iv)}


def mac_matches(params: dict[str, str], hash_key: str, hash_iv: str) -> bool:
    """Whether `params` carry the CheckMacValue our keys give them (constant time; compared
    as bytes, so that a forged value in other than ASCII is a mismatch, not a TypeError)."""
    given = params.get(MAC, "")
    if not given or not hash_key or not hash_iv:
        return False
    expected = check_mac_value(params, hash_key, hash_iv)
    return same_secret(given.upper(), expected)


def form(body: bytes | str) -> dict[str, str]:
    text = body.decode() if isinstance(body, bytes) else body
    return dict(parse_qsl(text, keep_blank_values=True))


def taipei_time(text: str) -> datetime:
    """ "yyyy/MM/dd HH:mm:ss" (ECPay's format, no offset) as an aware Taipei time."""
    return datetime.strptime(text.strip(), TIME_FORMAT).replace(tzinfo=TAIPEI)


# -- answers ------------------------------------------------------------------------------


def read_answer(body: bytes, *, buys: bool, status_code: int = 200) -> dict[str, str]:
    """`1|key=value&...` -> its fields; `0|message` (or any other code) -> CarrierRejected with
    ECPay's message; anything else cannot be read (and a purchase may have happened)."""
    text = body.decode("utf-8", errors="replace").strip()
    code, bar, rest = text.partition("|")
    if not bar or not code.isdigit():
        error = CarrierOutcomeUnknown if buys else CarrierResponseError
        raise error(
            f"{CARRIER} answered with something unreadable: {text[:200]!r}",
            carrier=CARRIER,
            status_code=status_code,
            carrier_message=text[:500],
        )
    if code != "1":
        raise CarrierRejected(
            f"{CARRIER} refused the request: {rest}",
            carrier=CARRIER,
            status_code=status_code,
            carrier_code=code,
            carrier_message=rest,
        )
    return form(rest) if "=" in rest else {"message": rest}


def error_parser(body: Any) -> tuple[str, str]:
    """An HTTP error's body: ECPay writes `0|message` there too."""
    code, _, message = str(body).partition("|")
    return (code, message) if message else ("", str(body)[:500])


# -- creating shipments -------------------------------------------------------------------


def _reject(message: str) -> CarrierRejected:
    return CarrierRejected(message, carrier=CARRIER)


def subtype(service: str) -> tuple[str, str]:
    """(LogisticsType, LogisticsSubType) of a service name ("unimartc2c", "TCAT", ...)."""
    try:
        return units.SERVICES[service.lower()]
    except KeyError:
        raise _reject(
            f"ecpay has no service {service!r}; use one of {', '.join(units.SERVICES)}"
        ) from None


def name(person: Address, role: str) -> str:
    """A sender or receiver name as ECPay takes it: 4~10 characters where a Chinese one
    counts two, no digits, symbols or spaces."""
    text = (person.name or person.company).strip()
    width = sum(2 if ord(c) > 0x2E7F else 1 for c in text)
    if NAME_SYMBOLS.search(text) or not 4 <= width <= 10:
        raise _reject(
            f"ecpay needs the {role} name as 2-5 Chinese or 4-10 English letters without "
            f"digits, spaces or symbols; got {text!r}"
        )
    return text


def phones(person: Address, prefix: str) -> dict[str, str]:
    """A mobile number (10 digits from 09) goes in ...CellPhone, any other in ...Phone."""
    digits = re.sub(r"[\s()-]", "", person.phone).removeprefix("+886")
    digits = "0" + digits if digits.startswith("9") and len(digits) == 9 else digits
    if not digits:
        return {}
    return {f"{prefix}CellPhone" if CELL_PHONE.fullmatch(digits) else f"{prefix}Phone": digits}


def dollars(amount: Money, what: str) -> str:
    if amount.currency != "TWD":
        raise _reject(f"ecpay takes {what} in TWD, not {amount.currency}")
    return str(round(amount.amount / 100))


def _specification(request: ShipmentRequest) -> str:
    parcel = request.parcels[0]
    size = parcel.length_mm + parcel.width_mm + parcel.height_mm
    return next((code for limit, code in units.SPECIFICATIONS if size <= limit), "0004")


def _address(address: Address) -> str:
    """A Taiwanese address is written from the city down."""
    return "".join(p for p in (address.state, address.city, address.line1, address.line2) if p)


def build_create(
    request: ShipmentRequest, merchant_id: str, now: datetime, reply_url: str, options: dict
) -> dict[str, str]:
    """Express/Create (p=22414 stores, p=22507 home delivery) for one parcel."""
    kind, sub = subtype(request.service)
    if request.declared_value is None:
        raise _reject("ecpay needs the goods amount: set the shipment's declared_value (TWD)")
    params = {
        "MerchantID": merchant_id,
        "MerchantTradeNo": re.sub(r"[^A-Za-z0-9]", "", request.reference)[:20],
        "MerchantTradeDate": now.astimezone(TAIPEI).strftime(TIME_FORMAT),
        "LogisticsType": kind,
        "LogisticsSubType": sub,
        "GoodsAmount": dollars(request.declared_value, "the goods amount"),
        "GoodsName": options.get("goods_name", "Goods"),
        "SenderName": name(request.shipper, "sender"),
        **phones(request.shipper, "Sender"),
        "ReceiverName": name(request.recipient, "receiver"),
        **phones(request.recipient, "Receiver"),
        "ServerReplyURL": reply_url,
    }
    if request.recipient.email:
        params["ReceiverEmail"] = request.recipient.email
    if request.cash_on_delivery is not None:
        if kind != "CVS":
            raise _reject("ecpay collects cash on delivery only at convenience stores")
        params |= {
            "IsCollection": "Y",
            "CollectionAmount": dollars(request.cash_on_delivery, "the collection amount"),
        }
    else:
        params["IsCollection"] = "N"
    return params | (_store(request, params) if kind == "CVS" else _home(request, sub, options))


def _store(request: ShipmentRequest, params: dict[str, str]) -> dict[str, str]:
    if request.pickup_point is None:
        raise _reject("ecpay store delivery needs the store the customer chose (pickup_point)")
    if "ReceiverCellPhone" not in params:
        raise _reject("ecpay store delivery needs the receiver's mobile number (09xxxxxxxx)")
    return {"ReceiverStoreID": request.pickup_point.id}


def _home(request: ShipmentRequest, sub: str, options: dict) -> dict[str, str]:
    shipper, recipient = request.shipper, request.recipient
    fields = {
        "SenderZipCode": shipper.postal_code,
        "SenderAddress": _address(shipper),
        "ReceiverZipCode": recipient.postal_code,
        "ReceiverAddress": _address(recipient),
    }
    if sub == "TCAT":
        temperature = options.get("temperature", "room")
        if temperature not in units.TEMPERATURES:
            raise _reject(f"ecpay temperature must be one of {', '.join(units.TEMPERATURES)}")
        fields |= {
            "Temperature": units.TEMPERATURES[temperature],
            "Specification": _specification(request),
            "ScheduledPickupTime": "4",  # any time
        }
    else:  # POST needs the weight, in kg with at most three decimals
        fields["GoodsWeight"] = f"{request.parcels[0].weight_g / 1000:.3f}"
    return fields


def shipment_number(fields: dict[str, str]) -> str:
    """The number the customer and the store know: the store shipment number (with 7-ELEVEN
    C2C's validation code) or the courier's consignment note."""
    return fields.get("BookingNote") or (
        fields.get("CVSPaymentNo", "") + fields.get("CVSValidationNo", "")
    )


def parse_create(fields: dict[str, str], service: str, document: bytes) -> Label:
    """The `1|...` answer of Express/Create. AllPayLogisticsID is the tracking number: every
    push and query is keyed by it and it exists at once (T-cat's BookingNote may come later)."""
    with convert.reading(CARRIER, "create answer"):
        return Label(
            carrier=CARRIER,
            service=service.lower(),
            tracking_number=fields["AllPayLogisticsID"],
            label_format="HTML",
            label_data=document,
            carrier_shipment_id=shipment_number(fields),
        )


# -- returns ------------------------------------------------------------------------------


def build_return(
    request: ShipmentRequest, merchant_id: str, reply_url: str
) -> tuple[str, dict[str, str]]:
    """(path, form) of a reverse-logistics order from the customer (`shipper`) back to us
    (`recipient`): a store drop-off for B2C store services, a T-cat pickup for home ones.
    No original AllPayLogisticsID is sent (it is optional): the form says everything."""
    _, sub = subtype(request.service)
    if sub not in units.RETURN_PATHS:
        raise _reject(f"ecpay offers no return orders for {sub}")
    if request.declared_value is None:
        raise _reject("ecpay needs the goods amount: set the return's declared_value (TWD)")
    params = {
        "MerchantID": merchant_id,
        "ServerReplyURL": reply_url,
        "GoodsAmount": dollars(request.declared_value, "the goods amount"),
        "SenderName": name(request.shipper, "return sender"),
    }
    mobile = phones(request.shipper, "Sender")
    if sub == "TCAT":
        return units.RETURN_PATHS[sub], params | mobile | _home(request, sub, {}) | {
            "LogisticsSubType": "TCAT",
            "ReceiverName": name(request.recipient, "return receiver"),
            **phones(request.recipient, "Receiver"),
        }
    if "SenderCellPhone" not in mobile:
        raise _reject("ecpay store returns need the sender's mobile number (09xxxxxxxx)")
    return units.RETURN_PATHS[sub], params | {
        "SenderPhone": mobile["SenderCellPhone"],  # the store returns' SenderPhone is a mobile
        "ServiceType": units.RETURN_SERVICE_TYPE,
    }


def parse_return(body: bytes, service: str) -> Label:
    """Store returns answer `RtnMerchantTradeNo|RtnOrderNo` (the RtnOrderNo is what the
    customer keys in at the store's kiosk: it is the return's "label"); ReturnHome answers
    `1|...` fields; `0|message` is a refusal."""
    text = body.decode("utf-8", errors="replace").strip()
    first, bar, rest = text.partition("|")
    if not bar or not first or first == "0":
        raise CarrierRejected(
            f"{CARRIER} refused the return: {rest or text}",
            carrier=CARRIER,
            carrier_message=rest or text,
        )
    if first != "1":
        return Label(CARRIER, service, first, "TEXT", rest.encode(), carrier_shipment_id=rest)
    fields = form(rest)
    number = fields.get("RtnMerchantTradeNo") or fields.get("AllPayLogisticsID", "")
    if not number:
        raise CarrierOutcomeUnknown(
            f"{CARRIER} accepted the return without its number: {text[:200]!r}", carrier=CARRIER
        )
    return Label(CARRIER, service, number, "HTML", b"", carrier_shipment_id=shipment_number(fields))


# -- tracking -----------------------------------------------------------------------------


def classify(sub: str, code: str, text: str) -> tuple[Status, Reason | None]:
    """A code read in its subtype's table (codes mean different things per network)."""
    table = units.STATUS_BY_SUBTYPE.get(sub.upper(), units.ANY_NETWORK)
    return lookup(CARRIER, table, code, text)


def _update(
    fields: dict[str, str], sub: str, code: str, text: str, when: datetime, *, timed: bool
) -> TrackingUpdate:
    """One event; `timed` when `when` is ECPay's own time of the status, which alone can
    date the store's holding period."""
    status, reason = classify(sub, code, text)
    event = TrackingEvent(
        status=status, occurred_at=when, raw_code=code, raw_text=text, reason=reason
    )
    waiting = timed and status == Status.AVAILABLE_FOR_PICKUP and sub.upper() in units.NETWORKS
    extra = {
        k: v for k, v in {"shipment_number": shipment_number(fields), "subtype": sub}.items() if v
    }
    return TrackingUpdate(
        carrier=CARRIER,
        tracking_number=fields.get("RtnMerchantTradeNo") or fields["AllPayLogisticsID"],
        events=(event,),
        service=sub.lower(),
        pickup_deadline=when + units.HOLDING_PERIOD if waiting else None,
        extra=extra,
    )


def parse_push(fields: dict[str, str]) -> TrackingUpdate:
    """A status push to ServerReplyURL (p=22526; return orders p=22531, which name no
    subtype and are keyed by RtnMerchantTradeNo). UpdateStatusDate is Taipei time."""
    with convert.reading(CARRIER, "status push"):
        return _update(
            fields,
            fields.get("LogisticsSubType", ""),
            fields["RtnCode"],
            fields.get("RtnMsg", ""),
            taipei_time(fields["UpdateStatusDate"]),
            timed=True,
        )


def build_query(merchant_id: str, logistics_id: str, now: datetime) -> dict[str, str]:
    """QueryLogisticsTradeInfo/V5 (p=22521): TimeStamp is valid for three minutes."""
    return {
        "MerchantID": merchant_id,
        "AllPayLogisticsID": logistics_id,
        "TimeStamp": str(int(now.timestamp())),
    }


def parse_query(fields: dict[str, str], now: datetime) -> TrackingUpdate:
    """The query answer. Its LogisticsType is "CVS_UNIMART", "HOME_TCAT"...; it carries the
    current LogisticsStatus but no time of it, so the event is dated when we asked (and a
    store's pickup deadline is left to the push, which dates the arrival)."""
    with convert.reading(CARRIER, "query answer"):
        _, _, sub = fields["LogisticsType"].partition("_")
        status_code = fields["LogisticsStatus"]
        return _update(fields, sub, status_code, "", now.astimezone(TAIPEI), timed=False)


# -- store map ----------------------------------------------------------------------------


def build_map_form(
    merchant_id: str,
    service: str,
    cash_on_delivery: bool,
    reply_url: str,
    extra_data: str = "",
    mobile: bool = False,
) -> dict[str, str]:
    """Express/map (p=22409): the fields of the form the customer's browser posts to ECPay.
    The map needs no CheckMacValue; ExtraData (at most 20 characters) comes back as sent."""
    kind, sub = subtype(service)
    if kind != "CVS":
        raise _reject(f"ecpay has a store map only for store services, not {service!r}")
    if len(extra_data) > 20:
        raise ValueError("ecpay ExtraData holds at most 20 characters")
    return {
        "MerchantID": merchant_id,
        "LogisticsType": kind,
        "LogisticsSubType": sub,
        "IsCollection": "Y" if cash_on_delivery else "N",
        "ServerReplyURL": reply_url,
        "ExtraData": extra_data,
        "Device": "1" if mobile else "0",
    }


def parse_map_reply(fields: dict[str, str]) -> PickupPoint:
    """The store the customer chose, as the map posts it back (CVSStoreID, CVSStoreName,
    CVSAddress, CVSTelephone, CVSOutSide, LogisticsSubType, ExtraData)."""
    with convert.reading(CARRIER, "store map reply"):
        store_id = fields["CVSStoreID"]
        if not store_id:
            raise ValueError("no CVSStoreID")
        return PickupPoint(
            id=store_id,
            name=fields.get("CVSStoreName", ""),
            network=units.NETWORKS.get(fields.get("LogisticsSubType", ""), ""),
            chain=fields.get("LogisticsSubType", ""),
            address=Address(
                country="TW",
                line1=fields.get("CVSAddress", ""),
                name=fields.get("CVSStoreName", ""),
                phone=fields.get("CVSTelephone", ""),
                residential=False,
            ),
        )


def build_store_change(
    order: dict[str, str], store_id: str, merchant_id: str, now: datetime
) -> tuple[str, dict[str, str]]:
    """(path, form) moving an order to another store of its chain, from its query answer
    (which names the subtype and the C2C CVSPaymentNo and CVSValidationNo)."""
    _, _, sub = order.get("LogisticsType", "").partition("_")
    path = units.STORE_CHANGE_PATHS.get(sub)
    number = order.get("AllPayLogisticsID", "")
    if path is None:
        chains = ", ".join(units.STORE_CHANGE_PATHS)
        raise _reject(f"ecpay changes the store only of {chains} orders; {number} is {sub!r}")
    params = {"MerchantID": merchant_id, "AllPayLogisticsID": number}
    if path == units.UPDATE_STORE_INFO:
        return path, params | {
            "CVSPaymentNo": order.get("CVSPaymentNo", ""),
            "CVSValidationNo": order.get("CVSValidationNo", ""),
            "StoreType": units.PICKUP_STORE_TYPE,
            "ReceiverStoreID": store_id,
        }
    params["ReceiverStoreID"] = store_id
    if sub in units.SHIPMENT_DATE_NEEDED:
        params["ShipmentDate"] = now.astimezone(TAIPEI).strftime(units.DATE_FORMAT)
    return path, params


def build_print(fields: dict[str, str], merchant_id: str) -> tuple[str, dict[str, str]]:
    """(path, form) of the print document of a created order, from its create answer."""
    sub = fields.get("LogisticsSubType", "")
    params = {"MerchantID": merchant_id, "AllPayLogisticsID": fields["AllPayLogisticsID"]}
    if sub not in units.PRINT_C2C_PATHS:
        return units.PRINT_TRADE_DOCUMENT, params
    params["CVSPaymentNo"] = fields.get("CVSPaymentNo", "")
    if sub == "UNIMARTC2C":
        params["CVSValidationNo"] = fields.get("CVSValidationNo", "")
    return units.PRINT_C2C_PATHS[sub], params
