"""Pure Kuaidi100 payload <-> shipflow translations: the real-time query (query.do), the
subscription (poll) and its push. Times come in China time without an offset ("2024-11-20
16:56:54"; the predicted arrival "2024-11-22 18", to the hour) and are read as Asia/Shanghai."""

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
)
from carriers.convert import read_each
from carriers.kuaidi100 import units
from carriers.units import lookup
from shipflow.domain import TrackingEvent, TrackingUpdate

CARRIER = "kuaidi100"
CHINA = ZoneInfo("Asia/Shanghai")
ACK = {"result": True, "returnCode": "200", "message": "成功"}


def sign(*parts: str) -> str:
    """MD5 of the concatenated parts, upper-case hex: query.do signs param + key + customer,
    the push param + salt."""
    return hashlib.md5("".join(parts).encode()).hexdigest().upper()


def compact(document: dict) -> str:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


def query_param(company: str, number: str, phone: str) -> dict[str, str]:
    param = {"com": company, "num": number, "resultv2": "4"}  # 4: sub-states and arrival time
    if phone:
        param["phone"] = phone
    return param


def subscription(
    company: str, number: str, key: str, callback_url: str, salt: str, phone: str
) -> dict[str, Any]:
    parameters = {"callbackurl": callback_url, "salt": salt, "resultv2": "4"}
    if phone:
        parameters["phone"] = phone
    return {"company": company, "number": number, "key": key, "parameters": parameters}


def raise_for_failure(body: dict) -> None:
    """A failed call answers {"result": false, "returnCode": ..., "message": ...}."""
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
    if code in units.BUSY_CODES:
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
    status, reason = lookup(CARRIER, units.STATES, code, text)
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
    carrier's predicted arrival (kept as the carrier's estimate, beside ours)."""
    events, unreadable = read_each(CARRIER, "event", result.get("data") or [], tracking_event)
    arrival = result.get("arrivalTime")
    return TrackingUpdate(
        carrier=CARRIER,
        tracking_number=result["nu"],
        events=tuple(events),
        estimated_delivery=china_time(arrival) if arrival else None,
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
