"""Pure Kuaidi100 payload <-> shipflow translations: the real-time query (query.do), the
subscription (poll) and its push. Both send the parcel's `from` and `to` and, when `to` is
known, ask resultv2=8 so the answer carries Kuaidi100's predicted arrival (`arrivalTime`),
kept as the carrier's estimate.
Times come in China time without an offset ("2024-11-20 16:56:54"; the predicted arrival
"2024-11-22 18", to the hour) and are read as Asia/Shanghai."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from carriers.base import (
    CarrierAuthError,
    CarrierRateLimited,
    CarrierRejected,
    CarrierUnavailable,
    TrackingQuery,
)
from carriers.convert import read_each, read_optional
from carriers.kuaidi100 import units
from carriers.units import lookup
from shipflow.domain import Address, Status, TrackingEvent, TrackingUpdate

CARRIER = "kuaidi100"
CHINA = ZoneInfo("Asia/Shanghai")
ACK = {"result": True, "returnCode": "200", "message": "成功"}


def sign(*parts: str) -> str:
    """MD5 of the concatenated parts, upper-case hex: query.do signs param + key + customer,
    the push param + salt."""
    return hashlib.md5("".join(parts).encode()).hexdigest().upper()


def compact(document: dict) -> str:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


def query_param(company: str, query: TrackingQuery) -> dict[str, str]:
    places = route(query)
    param = {"com": company, "num": query.tracking_number, **places}
    if query.phone_last4:
        param["phone"] = query.phone_last4
    return {**param, "resultv2": result_level(places)}


def subscription(
    company: str, query: TrackingQuery, key: str, callback_url: str, salt: str
) -> dict[str, Any]:
    places = route(query)
    parameters = {"callbackurl": callback_url, "salt": salt, "resultv2": result_level(places)}
    if query.phone_last4:
        parameters["phone"] = query.phone_last4
    number = query.tracking_number
    return {"company": company, "number": number, **places, "key": key, "parameters": parameters}


def route(query: TrackingQuery) -> dict[str, str]:
    """`from` (the warehouse) and `to` (the ship-to), each left out when we cannot say it."""
    places = {"from": region(query.origin), "to": region(query.destination)}
    return {name: text for name, text in places.items() if text}


def region(address: Address | None) -> str:
    """A mainland address as the 省市区 text Kuaidi100 asks for: the province (our `state`)
    then the city, a municipality said once ("北京市"). Our addresses keep no district field,
    and the street stays with us; outside the mainland there is no such text."""
    if address is None or address.country.upper() != "CN":
        return ""
    parts = (part.strip() for part in (address.state, address.city))
    return "".join(dict.fromkeys(part for part in parts if part))


def result_level(places: dict[str, str]) -> str:
    """resultv2: the predicted arrival (8) is only given, and `to` is then required, when the
    destination is known; else the sub-states and cities (4)."""
    return units.RESULTV2_ARRIVAL if "to" in places else units.RESULTV2_STATES


def raise_for_failure(body: dict, busy_codes: frozenset[str] = units.BUSY_CODES) -> None:
    """A failed call answers {"result": false, "returnCode": ..., "message": ...}; the
    codes of a passing fault on Kuaidi100's side differ by call (`busy_codes`)."""
    if body.get("result") is not False:
        return
    code, message = str(body.get("returnCode") or ""), body.get("message") or ""
    details: dict[str, Any] = dict(
        carrier=CARRIER, status_code=200, carrier_code=code, carrier_message=message
    )
    text = f"kuaidi100 refused the request: {code} {message}"
    if code == units.QUOTA_EXHAUSTED:
        raise CarrierRateLimited(text, retry_after=units.QUOTA_RETRY_SECONDS, **details)
    if code in units.AUTH_CODES:
        raise CarrierAuthError(text, **details)
    if code in busy_codes:
        raise CarrierUnavailable(text, retryable=True, **details)
    raise CarrierRejected(text, **details)


def china_time(text: str) -> datetime:
    text = text.strip()
    if len(text) == len("2024-11-22 18"):  # the predicted arrival, to the hour
        text += ":00"
    return datetime.fromisoformat(text).replace(tzinfo=CHINA)


def state_code(item: dict) -> str:
    """The event's sub-state code, else the code of the state its words name."""
    code = item.get("statusCode")
    if code not in (None, ""):
        return str(code)
    words = item.get("status") or ""
    return units.STATE_NAMES.get(words, words)


def tracking_event(item: dict) -> TrackingEvent:
    code = state_code(item)
    text = item.get("context") or ""
    # A sub-state the table does not know yet reads as the state it belongs to.
    parent, _ = units.STATES.get(units.parent_state(code), (Status.IN_TRANSIT, None))
    status, reason = lookup(CARRIER, units.STATES, code, text, parent)
    area = item.get("areaName") or item.get("location") or ""
    return TrackingEvent(
        status=status,
        occurred_at=china_time(item.get("ftime") or item["time"]),
        raw_code=code,
        raw_text=text,
        reason=reason,
        location=area,
        city=area.split(",")[-1],
        country="CN",
    )


def tracking_update(result: dict) -> TrackingUpdate:
    """A query answer, or a push's `lastResult`: events newest first, `arrivalTime` the
    carrier's predicted arrival (kept as the carrier's estimate, beside ours). It comes only
    with resultv2=8 and a destination, and not for every courier: absent, there is none."""
    events, unreadable = read_each(CARRIER, "event", result.get("data") or [], tracking_event)
    return TrackingUpdate(
        carrier=CARRIER,
        tracking_number=result["nu"],
        events=tuple(events),
        estimated_delivery=read_optional(
            CARRIER, "estimated delivery", result.get("arrivalTime"), china_time
        ),
        extra={"courier": units.COURIERS.get(result.get("com") or "", result.get("com") or "")},
        unreadable=unreadable,
    )


def push_updates(param: dict) -> list[TrackingUpdate]:
    """A push: `status` polling/shutdown/abort/updateall; an abort (no record for days, a
    changed company) carries no events worth keeping."""
    last = param.get("lastResult") or {}
    if not last.get("data"):
        return []
    return [tracking_update(last)]
