"""The sandbox carrier's wire format and its mapping to shipflow's model. Polls and webhooks
carry the same event objects, so one parser serves both paths (and dedupe keys agree)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from carriers.convert import objects, parse_timestamp, read_each, read_optional, reading
from carriers.sandbox.network import RawEvent
from carriers.sandbox.places import Store
from carriers.sandbox.proof import proof_payload
from carriers.sandbox.units import CARRIER, status_of
from shipflow.domain import (
    Address,
    PickupPoint,
    ProofOfDelivery,
    TrackingEvent,
    TrackingUpdate,
)

# --- raw events -> wire ------------------------------------------------------------------------


def store_payload(store: Store) -> dict[str, Any]:
    return {
        "id": store.id,
        "name": store.name,
        "network": store.network,
        "address": {
            "line1": store.line1,
            "city": store.city,
            "state": store.state,
            "postal_code": store.postal_code,
            "country": "US",
        },
        "hours": store.hours,
    }


def event_payload(event: RawEvent, tracking_number: str) -> dict[str, Any]:
    """A delivery scan carries its proof of delivery when the carrier has one."""
    place = event.place
    held = (
        {"pickup_point": store_payload(event.store), "pickup_deadline": event.deadline.isoformat()}
        if event.store and event.deadline
        else {}
    )
    proof = proof_payload(tracking_number) if event.code == "DL" else None
    return {
        "code": event.code,
        "reason": event.reason,
        "description": event.text,
        "occurred_at": event.at.isoformat(),
        "location": {
            "facility": event.facility,
            "city": place.city,
            "state": place.state,
            "postal_code": place.postal_code,
            "country": place.country,
            "lat": round(place.lat, 4),
            "lng": round(place.lng, 4),
        },
        **held,
        **({"proof_of_delivery": proof} if proof else {}),
    }


def tracking_payload(
    tracking_number: str, service: str, estimated: datetime, events: Iterable[RawEvent]
) -> dict[str, Any]:
    """The body of `GET /v1/tracking/<number>`: events so far, oldest first."""
    return {
        "tracking_number": tracking_number,
        "service": service,
        "estimated_delivery": estimated.isoformat(),
        "events": [event_payload(e, tracking_number) for e in events],
    }


def webhook_body(
    tracking_number: str, service: str, estimated: datetime, event: RawEvent, sent_at: datetime
) -> bytes:
    """One event per delivery; its id is stable, so receivers can drop duplicates."""
    key = f"{tracking_number}|{event.code}|{event.at.isoformat()}"
    payload = {
        "id": "evt_" + hashlib.sha256(key.encode()).hexdigest()[:24],
        "type": "tracking.event",
        "created": int(sent_at.timestamp()),
        "data": {
            "tracking_number": tracking_number,
            "service": service,
            "estimated_delivery": estimated.isoformat(),
            "event": event_payload(event, tracking_number),
        },
    }
    return json.dumps(payload, separators=(",", ":")).encode()


# --- wire -> shipflow --------------------------------------------------------------------------


def _text(payload: Mapping[str, Any], key: str) -> str:
    """An optional text field: absent or null is blank."""
    return payload.get(key) or ""


def tracking_event(payload: Mapping[str, Any]) -> TrackingEvent:
    location = payload.get("location") or {}
    description = _text(payload, "description")
    status, reason = status_of(payload["code"], _text(payload, "reason"), description)
    place = (_text(location, "country"), _text(location, "state"), _text(location, "postal_code"))
    return TrackingEvent(
        status=status,
        occurred_at=parse_timestamp(payload["occurred_at"], place),
        raw_code=payload["code"],
        raw_text=description,
        reason=reason,
        location=_text(location, "facility"),
        city=_text(location, "city"),
        state=place[1],
        postal_code=place[2],
        country=place[0],
    )


def pickup_point(payload: Mapping[str, Any]) -> PickupPoint:
    address = payload.get("address") or {}
    return PickupPoint(
        id=payload["id"],
        name=_text(payload, "name"),
        network=_text(payload, "network"),
        address=Address(
            country=_text(address, "country"),
            postal_code=_text(address, "postal_code"),
            city=_text(address, "city"),
            state=_text(address, "state"),
            line1=_text(address, "line1"),
        ),
        hours=_text(payload, "hours"),
    )


def proof_of_delivery(payload: Mapping[str, Any]) -> ProofOfDelivery:
    return ProofOfDelivery(
        signed_by=_text(payload, "signed_by"),
        left_at=_text(payload, "left_at"),
        photo=_text(payload, "photo"),
    )


def tracking_update(
    payload: Mapping[str, Any], events: Iterable[Mapping[str, Any]]
) -> TrackingUpdate:
    """An event that cannot be read is skipped and kept, as for every real carrier, and an
    optional part (the estimate, the store, the proof) that cannot be read costs only itself.
    The latest hold at a pickup point names the store and the deadline."""
    events = list(events)
    read, unreadable = read_each(CARRIER, "event", events, tracking_event)
    scans = objects(events)
    held = next((e for e in reversed(scans) if e.get("pickup_point")), {})
    proof = next((e["proof_of_delivery"] for e in scans if e.get("proof_of_delivery")), None)
    return TrackingUpdate(
        carrier=CARRIER,
        tracking_number=payload["tracking_number"],
        events=tuple(read),
        estimated_delivery=_moment("estimated delivery", payload.get("estimated_delivery")),
        service=_text(payload, "service"),
        pickup_point=read_optional(CARRIER, "pickup point", held.get("pickup_point"), pickup_point),
        pickup_deadline=_moment("pickup deadline", held.get("pickup_deadline")),
        proof_of_delivery=read_optional(CARRIER, "proof of delivery", proof, proof_of_delivery),
        unreadable=unreadable,
    )


def _moment(what: str, value: Any) -> datetime | None:
    return read_optional(CARRIER, what, value, datetime.fromisoformat)


def parse_tracking(payload: Mapping[str, Any]) -> TrackingUpdate:
    with reading(CARRIER, "tracking payload"):
        return tracking_update(payload, payload["events"])


def parse_webhook_body(body: bytes) -> list[TrackingUpdate]:
    with reading(CARRIER, "webhook"):
        data = json.loads(body)["data"]
        return [tracking_update(data, [data["event"]])]
