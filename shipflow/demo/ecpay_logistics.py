"""A simulated ECPay logistics service, on the sandbox carrier's principle: a local endpoint
answering the calls our ECPay adapter makes in the shapes of ECPay's logistics API, and pushing
status notifications signed with CheckMacValue (the adapter's own function) to ServerReplyURL.

Served as a blueprint (the demo mounts it under `/demo/ecpay`; point the account's base URL
there). Shapes follow ECPay's 物流整合API技術文件 (developers.ecpay.com.tw): Express/Create
answers `1|field=value&...` (p=22414 stores, p=22507 home delivery), QueryLogisticsTradeInfo/V5
a signed form (p=22521), the print endpoints an HTML document, store returns
`RtnMerchantTradeNo|RtnOrderNo` (p=22460/22465/22470) and ReturnHome `1|...` (p=22512), the
store changes UpdateStoreInfo (p=22485, C2C) and UpdateShipmentInfo (p=22480, B2C) `1|OK`; the
store map (Express/map, p=22409) is a page of a few stores whose choice posts CVSStoreID,
CVSStoreName, CVSAddress, CVSTelephone, CVSOutSide, LogisticsSubType and ExtraData back to
the map request's ServerReplyURL; pushes carry the fields of p=22526 with UpdateStatusDate in
Taipei time.

Each parcel follows a journey on the simulator's clock: to the logistics centre, to the store
(held seven days) and picked up; or, for some, not collected and sent back to the logistics
centre and the sender; moved to another store, it arrives there a day later and is picked up.
Home deliveries (T-cat) go out for delivery and are delivered.
"""

from __future__ import annotations

import html
import itertools
import logging
import random
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import requests
from flask import Blueprint, Response, abort, request

from carriers.ecpay import units
from carriers.ecpay.mapping import MAC, TAIPEI, TIME_FORMAT, mac_matches, signed
from shipflow.clock import Clock

log = logging.getLogger(__name__)

Deliver = Callable[[str, dict[str, str]], None]

# (RtnCode, RtnMsg, hours after the previous step) per network: ECPay's status code list.
SEVEN_ELEVEN_TO_STORE = (("2030", "物流中心驗收成功", 20), ("2073", "商品配達買家取貨門市", 26))
SEVEN_ELEVEN_PICKED_UP = ("2067", "消費者成功取件")
SEVEN_ELEVEN_UNCOLLECTED = (
    ("2074", "消費者七天未取，商品離開買家取貨門市", 7 * 24 + 2),
    ("2078", "買家未取貨退回物流中心-驗收成功", 30),
)
FAMILYMART_TO_STORE = (("3024", "貨件已至物流中心", 20), ("3018", "到店尚未取貨，簡訊通知取件", 26))
FAMILYMART_PICKED_UP = ("3022", "買家已到店取貨")
FAMILYMART_UNCOLLECTED = (
    ("3020", "貨件未取退回物流中心", 7 * 24 + 2),
    ("3023", "賣家已取買家未取貨", 48),
)
# After a store change: at the new store (7-ELEVEN's arrival code; FamilyMart's 商品已轉換店).
SEVEN_ELEVEN_NEW_STORE = ("2073", "商品配達買家取貨門市")
FAMILYMART_NEW_STORE = ("3029", "商品已轉換店（送達指定更換之取件店舖）")
NEW_STORE_HOURS = 24
TCAT_HOME = (("3001", "轉運中(即集貨)", 18), ("3006", "配送中", 14), ("3003", "配完", 5))
ACCEPTED = ("300", "訂單處理中(已收到訂單資料)")
UNCOLLECTED_SHARE = 0.2
# Hours from the store's arrival text message to the pickup: most within days, a few late
# enough for the reminders before the seven-day deadline.
PICKUP_HOURS = (4, 150)


@dataclass(frozen=True, slots=True)
class Store:
    id: str
    name: str
    address: str
    phone: str


# A few stores of each chain (the map lists them; their numbers are invented).
STORES = {
    "7-ELEVEN": (
        Store("131386", "建盛門市", "台北市中正區重慶南路一段122號", "02-23896700"),
        Store("991182", "信義門市", "台北市信義區信義路五段7號", "02-27581234"),
        Store("170743", "公館門市", "台北市中正區羅斯福路四段52號", "02-23671122"),
    ),
    "FamilyMart": (
        Store("006598", "全家台北車站店", "台北市中正區忠孝西路一段49號", "02-23118807"),
        Store("013420", "全家大安和平店", "台北市大安區和平東路二段96號", "02-27051660"),
    ),
    "Hi-Life": (Store("2748", "萊爾富松山店", "台北市松山區八德路四段692號", "02-27600015"),),
    "OK mart": (Store("1101", "OK超商中山店", "台北市中山區南京東路二段100號", "02-25310021"),),
}


def journey(sub: str, pickup_after: int | None) -> tuple[tuple[str, str, int], ...]:
    """The statuses a parcel of subtype `sub` goes through after it is accepted: picked up
    `pickup_after` hours after it reached the store, or never (None)."""
    network = units.NETWORKS.get(sub, "")
    if not network:
        return TCAT_HOME
    seven = network == "7-ELEVEN"
    to_store = SEVEN_ELEVEN_TO_STORE if seven else FAMILYMART_TO_STORE
    if pickup_after is None:
        return to_store + (SEVEN_ELEVEN_UNCOLLECTED if seven else FAMILYMART_UNCOLLECTED)
    code, message = SEVEN_ELEVEN_PICKED_UP if seven else FAMILYMART_PICKED_UP
    return (*to_store, (code, message, pickup_after))


@dataclass
class Parcel:
    """One logistics order: the fields ECPay answers and pushes, and its journey so far."""

    fields: dict[str, str]
    reply_url: str
    created: datetime
    steps: tuple[tuple[str, str, int], ...]
    sent: int = 0
    extra: dict[str, str] = field(default_factory=dict)

    def due(self, now: datetime) -> list[tuple[str, str, datetime]]:
        """Steps whose time has come and that are not pushed yet, with their times."""
        when, found = self.created, []
        for index, (code, message, hours) in enumerate(self.steps):
            when += timedelta(hours=hours)
            if when > now:
                break
            if index >= self.sent:
                found.append((code, message, when))
        return found

    def reroute(self, now: datetime, steps: tuple[tuple[str, str, int], ...]) -> None:
        """Replace the steps not pushed yet: the first comes `steps[0]` hours from now."""
        last = self.created + timedelta(hours=sum(h for _, _, h in self.steps[: self.sent]))
        (code, message, hours), *rest = steps
        waited = int((now - last) / timedelta(hours=1))
        self.steps = (*self.steps[: self.sent], (code, message, waited + hours), *rest)

    def status(self, now: datetime) -> str:
        done = len(self.due(now)) + self.sent
        return self.steps[done - 1][0] if done else self.fields["RtnCode"]


def http_deliver(url: str, fields: dict[str, str]) -> None:
    """ECPay posts a form and expects exactly `1|OK`, else it sends the push again later."""
    answer = requests.post(url, data=fields, timeout=10)
    answer.raise_for_status()
    if answer.text.strip() != "1|OK":
        raise ValueError(f"the receiver answered {answer.text[:50]!r}, not 1|OK")


class SimulatedECPay:
    """One merchant's view of ECPay logistics: orders in memory, keyed by AllPayLogisticsID."""

    def __init__(
        self,
        merchant_id: str,
        hash_key: str,
        hash_iv: str,
        clock: Clock,
        deliver: Deliver = http_deliver,
        seed: int = 7,
        push_url: str = "",
        uncollected_share: float = UNCOLLECTED_SHARE,
        pickup_hours: tuple[int, int] = PICKUP_HOURS,
    ) -> None:
        self.merchant_id = merchant_id
        self.hash_key = hash_key
        self.hash_iv = hash_iv
        self.clock = clock
        self.deliver = deliver
        self.push_url = push_url  # overrides ServerReplyURL (the demo's own webhook URL)
        self.random = random.Random(seed)
        self.uncollected_share = uncollected_share
        self.pickup_hours = pickup_hours
        self.parcels: dict[str, Parcel] = {}
        self.numbers = itertools.count(1718546)
        self.lock = threading.Lock()

    def signed(self, fields: dict[str, str]) -> dict[str, str]:
        return signed(fields, self.hash_key, self.hash_iv)

    def _form(self) -> dict[str, str]:
        """The posted form without its CheckMacValue; ECPay's `0|...` answer (HTTP 200) when
        the form is another merchant's or its CheckMacValue is not ours."""
        fields = request.form.to_dict()
        if fields.get("MerchantID") != self.merchant_id:
            abort(Response("0|MerchantID Error", 200, mimetype="text/html"))
        if not mac_matches(fields, self.hash_key, self.hash_iv):
            abort(Response("0|CheckMacValue Error", 200, mimetype="text/html"))
        return {k: v for k, v in fields.items() if k != MAC}

    # -- the API -----------------------------------------------------------------------

    def create(self, params: dict[str, str]) -> str:
        sub = params.get("LogisticsSubType", "")
        if sub not in units.STATUS_BY_SUBTYPE:
            return "0|LogisticsSubType Error"
        store = units.NETWORKS.get(sub)
        if store and not params.get("ReceiverStoreID"):
            return "0|ReceiverStoreID is required"
        now = self.clock.now()
        with self.lock:
            number = str(next(self.numbers))
        fields = {
            "MerchantID": self.merchant_id,
            "MerchantTradeNo": params.get("MerchantTradeNo", ""),
            "RtnCode": ACCEPTED[0],
            "RtnMsg": ACCEPTED[1],
            "AllPayLogisticsID": number,
            "LogisticsType": params.get("LogisticsType", ""),
            "LogisticsSubType": sub,
            "GoodsAmount": params.get("GoodsAmount", ""),
            "UpdateStatusDate": now.astimezone(TAIPEI).strftime(TIME_FORMAT),
            "ReceiverName": params.get("ReceiverName", ""),
            "ReceiverPhone": params.get("ReceiverPhone", ""),
            "ReceiverCellPhone": params.get("ReceiverCellPhone", ""),
            "ReceiverEmail": params.get("ReceiverEmail", ""),
            "ReceiverAddress": params.get("ReceiverAddress", ""),
            "CVSPaymentNo": f"C{number[-7:]:0>8}" if store else "",
            "CVSValidationNo": f"{int(number) % 10000:04d}" if sub == "UNIMARTC2C" else "",
            "BookingNote": "" if store else f"9{number:0>11}",
        }
        collected = self.random.random() >= self.uncollected_share
        pickup_after = self.random.randint(*self.pickup_hours) if collected else None
        self.parcels[number] = Parcel(
            fields,
            params.get("ServerReplyURL", ""),
            now,
            journey(sub, pickup_after),
            extra={
                "GoodsName": params.get("GoodsName", ""),
                "CollectionAmount": params.get("CollectionAmount", "0"),
            },
        )
        return "1|" + _encode(self.signed(fields))

    def query(self, number: str) -> str:
        parcel = self.parcels.get(number)
        if parcel is None:
            return ""  # ECPay answers an empty body for an order it does not know
        fields, extra = parcel.fields, parcel.extra
        collection = extra["CollectionAmount"] or "0"
        answer = {
            "MerchantID": self.merchant_id,
            "MerchantTradeNo": fields["MerchantTradeNo"],
            "AllPayLogisticsID": number,
            "GoodsAmount": fields["GoodsAmount"],
            "LogisticsType": f"{fields['LogisticsType']}_{fields['LogisticsSubType']}",
            "HandlingCharge": "60" if fields["LogisticsType"] == "CVS" else "130",
            "CollectionChargeFee": "0",
            "TradeDate": parcel.created.astimezone(TAIPEI).strftime(TIME_FORMAT),
            "LogisticsStatus": parcel.status(self.clock.now()),
            "GoodsName": extra["GoodsName"],
            "ShipmentNo": fields["CVSPaymentNo"] or fields["BookingNote"],
            "BookingNote": fields["BookingNote"],
            "CVSPaymentNo": fields["CVSPaymentNo"],
            "CVSValidationNo": fields["CVSValidationNo"],
            "CollectionAmount": collection,
            "CollectionAllocateAmount": collection,
        }
        return _encode(self.signed(answer))

    def document(self, number: str) -> str:
        parcel = self.parcels.get(number)
        if parcel is None:
            return "0|AllPayLogisticsID Error"
        fields = parcel.fields
        lines = "".join(
            f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
            for k, v in fields.items()
            if v
        )
        return f"<html><body><h1>託運單 {number}</h1><table>{lines}</table></body></html>"

    def change_store(self, path: str, params: dict[str, str]) -> str:
        """UpdateStoreInfo / UpdateShipmentInfo: the parcel goes to the new store of its chain
        and is picked up there; `0|...` for an order, a path or a store that does not fit."""
        parcel = self.parcels.get(params.get("AllPayLogisticsID", ""))
        if parcel is None:
            return "0|AllPayLogisticsID Error"
        sub = parcel.fields["LogisticsSubType"]
        if units.STORE_CHANGE_PATHS.get(sub) != path:
            return f"0|{sub} 不支援此門市異動"
        if path == units.UPDATE_STORE_INFO and params.get("StoreType") != units.PICKUP_STORE_TYPE:
            return "0|StoreType Error"
        if sub in units.SHIPMENT_DATE_NEEDED and not params.get("ShipmentDate"):
            return "0|ShipmentDate Error"
        network = units.NETWORKS[sub]
        store_id = params.get("ReceiverStoreID", "")
        if store_id not in {s.id for s in STORES[network]}:
            return "0|ReceiverStoreID Error"
        seven = network == "7-ELEVEN"
        code, message = SEVEN_ELEVEN_NEW_STORE if seven else FAMILYMART_NEW_STORE
        picked = SEVEN_ELEVEN_PICKED_UP if seven else FAMILYMART_PICKED_UP
        with self.lock:
            parcel.extra["ReceiverStoreID"] = store_id
            parcel.reroute(
                self.clock.now(),
                ((code, message, NEW_STORE_HOURS), (*picked, self.pickup_hours[0])),
            )
        return "1|OK"

    def store_return(self, params: dict[str, str]) -> str:
        with self.lock:
            number = next(self.numbers)
        return f"R{number}|{number % 10**10:010d}"

    def home_return(self, params: dict[str, str]) -> str:
        with self.lock:
            number = str(next(self.numbers))
        answer = {"RtnMerchantTradeNo": f"R{number}", "AllPayLogisticsID": number, "RtnCode": "1"}
        return "1|" + _encode(answer)

    # -- pushes ------------------------------------------------------------------------

    def pushes(self) -> Iterator[tuple[str, str, dict[str, str]]]:
        """(AllPayLogisticsID, URL, signed form) of every push due now, in order per parcel."""
        now = self.clock.now()
        for number, parcel in list(self.parcels.items()):
            url = self.push_url or parcel.reply_url
            for code, message, when in parcel.due(now):
                fields = parcel.fields | {
                    "RtnCode": code,
                    "RtnMsg": message,
                    "UpdateStatusDate": when.astimezone(TAIPEI).strftime(TIME_FORMAT),
                }
                yield number, url, self.signed(fields)

    def run_once(self) -> int:
        """Send what is due; a failed push is sent again on the next run, later ones wait."""
        sent, failed = 0, set()
        for number, url, fields in self.pushes():
            if number in failed or not url:
                continue
            try:
                self.deliver(url, fields)
            except Exception as exc:  # any receiver failure: ECPay pushes again later
                log.warning("simulated ecpay push to %s failed: %s", url, exc)
                failed.add(number)
                continue
            self.parcels[number].sent += 1
            sent += 1
        return sent

    # -- HTTP --------------------------------------------------------------------------

    def blueprint(self, name: str = "ecpay_logistics") -> Blueprint:
        bp = Blueprint(name, __name__)

        def text(body: str) -> Response:
            return Response(body, 200, mimetype="text/html")

        @bp.post("/Express/Create")
        def create():
            return text(self.create(self._form()))

        @bp.post("/Helper/QueryLogisticsTradeInfo/V5")
        def query():
            return text(self.query(self._form().get("AllPayLogisticsID", "")))

        def print_document():
            return text(self.document(self._form().get("AllPayLogisticsID", "")))

        for path in (units.PRINT_TRADE_DOCUMENT, *units.PRINT_C2C_PATHS.values()):
            bp.add_url_rule(
                path, f"print{path.replace('/', '_')}", print_document, methods=["POST"]
            )

        def store_return():
            return text(self.store_return(self._form()))

        for sub, path in units.RETURN_PATHS.items():
            handler = (
                (lambda: text(self.home_return(self._form()))) if sub == "TCAT" else store_return
            )
            bp.add_url_rule(path, f"return_{sub}", handler, methods=["POST"])

        @bp.post("/Express/CancelC2COrder")
        def cancel():
            number = self._form().get("AllPayLogisticsID", "")
            if self.parcels.pop(number, None) is None:
                return text("0|AllPayLogisticsID Error")
            return text("1|OK")

        def change_store(path: str) -> Callable[[], Response]:
            return lambda: text(self.change_store(path, self._form()))

        for path in (units.UPDATE_STORE_INFO, units.UPDATE_SHIPMENT_INFO):
            bp.add_url_rule(
                path, f"store_change{path.replace('/', '_')}", change_store(path), methods=["POST"]
            )

        @bp.route("/Express/map", methods=["GET", "POST"])
        def store_map():
            return Response(map_page(request.values.to_dict()), 200, mimetype="text/html")

        return bp


def map_page(params: dict[str, str]) -> str:
    """The store map: one button per store of the requested chain, each a form that posts
    the documented callback fields to the map request's ServerReplyURL."""
    sub = params.get("LogisticsSubType", "")
    network = units.NETWORKS.get(sub)
    reply_url = params.get("ServerReplyURL", "")
    if network is None or not reply_url:
        return "<p>LogisticsSubType 或 ServerReplyURL 錯誤</p>"
    forms = []
    for store in STORES[network]:
        fields = {
            "MerchantID": params.get("MerchantID", ""),
            "MerchantTradeNo": params.get("MerchantTradeNo", ""),
            "LogisticsSubType": sub,
            "CVSStoreID": store.id,
            "CVSStoreName": store.name,
            "CVSAddress": store.address,
            "CVSTelephone": store.phone,
            "CVSOutSide": "0",
            "ExtraData": params.get("ExtraData", ""),
        }
        hidden = "".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
            for k, v in fields.items()
        )
        forms.append(
            f'<form method="post" action="{html.escape(reply_url)}">{hidden}'
            f"<button>{html.escape(store.name)}</button> {html.escape(store.address)}</form>"
        )
    return f"<html><body><h1>{html.escape(network)} 門市地圖</h1>{''.join(forms)}</body></html>"


def _encode(fields: dict[str, str]) -> str:
    """ECPay's answers list `key=value` pairs joined by `&`, values not URL-encoded."""
    return "&".join(f"{k}={v}" for k, v in fields.items())
