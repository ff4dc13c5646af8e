"""Pure DHL Unified Tracking payload -> shipflow translations. An event DHL sends without an
offset is read in its location's zone (else its domestic shipment's); an event that cannot
be read is skipped and kept (`carriers.convert.read_each`)."""

from __future__ import annotations

from typing import Any

from carriers.convert import domestic_country, parse_timestamp, read_each, read_optional
from carriers.dhl.units import STATUS_CODES
from carriers.texts import from_text
from carriers.units import lookup
from shipflow.domain import ProofOfDelivery, Reason, Status, TrackingEvent, TrackingUpdate

CARRIER = "dhl"


def error_message(body: Any) -> tuple[str, str]:
    """(title, detail) of an RFC 7807 problem body."""
    if not isinstance(body, dict):
        return "", str(body)[:500]
    return str(body.get("title", "")), str(body.get("detail") or body.get("title") or body)


def classify(status_code: str, text: str) -> tuple[Status, Reason | None]:
    """The statusCode's status, refined by what the event text says."""
    status, reason = lookup(CARRIER, STATUS_CODES, status_code, text)
    said = from_text(text)
    if said is None:
        return status, reason
    if status is Status.DELIVERED and said[0] is not Status.RETURNED_TO_SENDER:
        return status, reason  # "delivered" is certain; texts only qualify others
    return said


def _place(place: Any) -> tuple[str, str, str]:
    """(country code, "", postal code) of a DHL place (an event's, the origin, the
    destination), for the zone of a time written without an offset."""
    address = (place or {}).get("address") or {}
    return address.get("countryCode") or "", "", address.get("postalCode") or ""


def tracking_event(raw: dict, home: str = "") -> TrackingEvent:
    """An event; one without an offset is read in its location's zone, else (no location, as
    DHL sends a parcel's first events) in its domestic shipment's country's zone."""
    code = raw.get("statusCode") or "unknown"
    parts = (raw.get("status"), raw.get("description"), raw.get("remark"))
    text = " - ".join(p for p in parts if p)
    status, reason = classify(code, text)
    address = (raw.get("location") or {}).get("address") or {}
    city = address.get("addressLocality") or ""
    postal_code = address.get("postalCode") or ""
    country = address.get("countryCode") or ""
    return TrackingEvent(
        status=status,
        occurred_at=parse_timestamp(raw["timestamp"], (country or home, "", postal_code)),
        raw_code=code,
        raw_text=text,
        reason=reason,
        location=", ".join(p for p in (f"{postal_code} {city}".strip(), country) if p),
        city=city,
        postal_code=postal_code,
        country=country,
    )


def _estimate(shipment: dict) -> Any:
    """`estimatedTimeOfDelivery`, else the end of `estimatedDeliveryTimeFrame` (DHL gives only
    the window for many parcels)."""
    window = shipment.get("estimatedDeliveryTimeFrame") or {}
    return shipment.get("estimatedTimeOfDelivery") or window.get("estimatedThrough")


def tracking_update(shipment: dict) -> TrackingUpdate:
    raw_events = shipment.get("events") or [shipment["status"]]
    pod = (shipment.get("details") or {}).get("proofOfDelivery") or {}
    signer = (pod.get("signed") or {}).get("name") or ""
    photo = pod.get("signatureUrl") or pod.get("documentUrl") or ""
    home = domestic_country(
        _place(shipment.get("origin"))[0], _place(shipment.get("destination"))[0]
    )
    events, unreadable = read_each(
        CARRIER, "event", raw_events, lambda raw: tracking_event(raw, home)
    )
    return TrackingUpdate(
        carrier=CARRIER,
        tracking_number=str(shipment["id"]),  # Express ids come as JSON numbers
        events=tuple(events),
        estimated_delivery=read_optional(
            CARRIER,
            "estimated delivery",
            _estimate(shipment),
            lambda text: parse_timestamp(text, _place(shipment.get("destination"))),
        ),
        service=shipment.get("service") or "",
        proof_of_delivery=ProofOfDelivery(signer, photo) if signer or photo else None,
        unreadable=unreadable,
    )


def tracking_updates(payload: dict) -> list[TrackingUpdate]:
    """Every shipment DHL found; one that cannot be read is skipped, the others kept."""
    return read_each(CARRIER, "shipment", payload["shipments"], tracking_update)[0]
