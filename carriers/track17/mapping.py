"""Pure 17TRACK v2.2 payload -> shipflow translations: the call envelope ({"code", "data"}),
`accepted` items (gettrackinfo and the TRACKING_UPDATED push) and per-number `rejected`
errors. An event without an offset in `time_iso` is read in its address's zone (else in its
domestic shipment's country's), the estimate at the recipient's address."""

from __future__ import annotations

from typing import Any

from carriers.base import (
    CarrierAuthError,
    CarrierError,
    CarrierRateLimited,
    CarrierRejected,
    CarrierUnavailable,
)
from carriers.convert import (
    domestic_country,
    objects,
    parse_timestamp,
    read_each,
    read_optional,
)
from carriers.texts import from_text
from carriers.track17 import units
from carriers.units import lookup
from shipflow.domain import Reason, Status, TrackingEvent, TrackingUpdate

CARRIER = "17track"


def error(code: int, message: str) -> CarrierError:
    """The error of a call's `code` or of one number in `rejected`."""
    details: dict[str, Any] = dict(
        carrier=CARRIER, status_code=200, carrier_code=str(code), carrier_message=message
    )
    text = f"17track refused: {code} {message}"
    if code == 429:
        return CarrierRateLimited(text, **details)
    if code in units.QUOTA_CODES:
        return CarrierRateLimited(text, retry_after=units.QUOTA_RETRY_SECONDS, **details)
    if code in units.AUTH_CODES:
        return CarrierAuthError(text, **details)
    if code in units.RETRY_LATER_CODES:
        return CarrierUnavailable(text, retryable=True, **details)
    return CarrierRejected(text, **details)


def envelope_data(body: dict) -> dict:
    """`data` of a call that went through (code 0); else its first error raised."""
    data = body.get("data") or {}
    if body["code"] != 0:
        first = (data.get("errors") or [{}])[0]
        raise error(int(first.get("code", body["code"])), first.get("message") or "")
    return data


def rejected(data: dict) -> dict[str, CarrierError]:
    """Each refused number's error; a number already registered is no refusal."""
    return {
        item["number"]: error(int(item["error"]["code"]), item["error"].get("message") or "")
        for item in data.get("rejected") or []
        if item["error"]["code"] != units.ALREADY_REGISTERED
    }


def classify(sub_status: str, stage: str, text: str) -> tuple[Status, Reason | None]:
    if sub_status:
        return lookup(CARRIER, units.SUB_STATUSES, sub_status, text)
    if stage:
        return lookup(CARRIER, units.STAGES, stage, text)
    return from_text(text) or (Status.IN_TRANSIT, None)


def _place(address: Any) -> tuple[str, str, str]:
    """(country, state, postal code) of a 17TRACK address, for the zone of a local time."""
    address = address or {}
    return (
        address.get("country") or "",
        address.get("state") or "",
        address.get("postal_code") or "",
    )


def tracking_event(raw: dict, home: str = "") -> TrackingEvent:
    """An event; a `time_iso` without an offset is read in its address's zone, else (no
    address) in the country a domestic shipment stays in."""
    sub_status, stage = raw.get("sub_status") or "", raw.get("stage") or ""
    text = raw.get("description") or ""
    status, reason = classify(sub_status, stage, text)
    country, state, postal = _place(raw.get("address"))
    return TrackingEvent(
        status=status,
        occurred_at=parse_timestamp(
            raw.get("time_iso") or raw["time_utc"], (country or home, state, postal)
        ),
        raw_code=sub_status or stage,
        raw_text=text,
        reason=reason,
        location=raw.get("location") or "",
        city=(raw.get("address") or {}).get("city") or "",
        state=state,
        postal_code=postal,
        country=country,
    )


def tracking_update(item: dict) -> TrackingUpdate:
    """One `accepted` item: every provider's events (a parcel may change hands), and
    17TRACK's estimated delivery window, whose end is kept as the carrier's estimate."""
    info = item.get("track_info") or {}
    providers = (info.get("tracking") or {}).get("providers") or []
    raw_events = [e for p in objects(providers) for e in p.get("events") or []]
    shipping = info.get("shipping_info") or {}
    recipient = _place(shipping.get("recipient_address"))
    home = domestic_country(_place(shipping.get("shipper_address"))[0], recipient[0])
    events, unreadable = read_each(
        CARRIER, "event", raw_events, lambda raw: tracking_event(raw, home)
    )
    window = (info.get("time_metrics") or {}).get("estimated_delivery_date") or {}
    estimate = window.get("to") or window.get("from")
    key = item.get("carrier")
    return TrackingUpdate(
        carrier=CARRIER,
        tracking_number=item["number"],
        events=tuple(events),
        estimated_delivery=read_optional(
            CARRIER,
            "estimated delivery",
            estimate,
            lambda text: parse_timestamp(text, recipient),
        ),
        extra={
            "carrier_key": key,
            "courier": units.CARRIERS.get(key, "") if isinstance(key, int) else "",
            "estimated_delivery_from": window.get("from"),
        },
        unreadable=unreadable,
    )


def tracking_updates(data: dict) -> list[TrackingUpdate]:
    """Every accepted number; one that cannot be read is skipped, the others kept."""
    return read_each(CARRIER, "number", data.get("accepted") or [], tracking_update)[0]


def push_updates(body: dict) -> list[TrackingUpdate]:
    """TRACKING_UPDATED carries one number; TRACKING_STOPPED only says tracking ended."""
    if body.get("event") != "TRACKING_UPDATED":
        return []
    return [tracking_update(body["data"])]
