"""Pure USPS v3 payload <-> shipflow translations (Tracking v3, Domestic Prices v3, Labels v3)."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any

from carriers.base import CarrierRejected, Label, RateQuote, ShipmentRequest
from carriers.convert import (
    grams_to_pounds,
    mm_to_inches,
    money,
    parse_timestamp,
    read_each,
    read_optional,
    utc_offset,
)
from carriers.texts import from_text
from carriers.units import lookup
from carriers.usps.units import EVENT_CODES, MAIL_CLASSES
from shipflow.domain import (
    Address,
    ProofOfDelivery,
    Reason,
    Status,
    TrackingEvent,
    TrackingUpdate,
)

CARRIER = "usps"


def error_message(body: Any) -> tuple[str, str]:
    """(code, message) of a USPS error body, or of an OAuth error from the token endpoint."""
    if not isinstance(body, dict):
        return "", str(body)[:500]
    error = body.get("error")
    if isinstance(error, str):  # OAuth: {"error": "invalid_client", "error_description": ...}
        return error, body.get("error_description", "")
    if not isinstance(error, dict):
        return "", str(body)[:500]
    details = [e.get("detail") or e.get("title") for e in error.get("errors") or []]
    message = "; ".join(m for m in [error.get("message"), *details] if m)
    return str(error.get("code", "")), message


def mail_class(service: str) -> str:
    try:
        return MAIL_CLASSES[service]
    except KeyError:
        raise CarrierRejected(
            f"usps has no service {service!r}; known: {', '.join(MAIL_CLASSES)}", carrier=CARRIER
        ) from None


# ---- tracking -------------------------------------------------------------------------


def _event_time(raw: dict, place: tuple[str, str, str]) -> datetime:
    """Local time with its GMT offset (what the customer saw), else the GMT timestamp, else
    the local time read in the scan location's zone."""
    local, offset = raw.get("eventTimestamp"), raw.get("GMTOffset")
    if local and offset:
        return datetime.fromisoformat(local).replace(tzinfo=utc_offset(offset))
    if raw.get("GMTTimestamp"):
        return parse_timestamp(raw["GMTTimestamp"])
    return parse_timestamp(raw["eventTimestamp"], place)


def classify(code: str, text: str) -> tuple[Status, Reason | None]:
    """The event code's row; a code outside the table, or none (Tracking 3.0 requires no
    `eventCode`), is read from its text."""
    if code in EVENT_CODES:
        return EVENT_CODES[code]
    return from_text(text) or lookup(CARRIER, EVENT_CODES, code, text)


def tracking_event(raw: dict) -> TrackingEvent:
    code, text = raw.get("eventCode") or "", raw.get("eventType") or ""
    status, reason = classify(code, text)
    city, state = raw.get("eventCity") or "", raw.get("eventState") or ""
    postal_code, country = raw.get("eventZIP") or "", raw.get("eventCountry") or ""
    place = ", ".join(p for p in (city, f"{state} {postal_code}".strip()) if p)
    return TrackingEvent(
        status=status,
        occurred_at=_event_time(raw, (country or "US", state, postal_code)),
        raw_code=code,
        raw_text=text,
        reason=reason,
        location=", ".join(p for p in (place, country) if p),
        city=city,
        state=state,
        postal_code=postal_code,
        country=country or "US",
    )


def _destination(payload: dict) -> tuple[str, str, str]:
    """Where the item goes (`destinationCountryCode`, blank for domestic mail, `destinationState`,
    `destinationZIP`): the zone its expected delivery time is meant in."""
    return (
        payload.get("destinationCountryCode") or "US",
        payload.get("destinationState") or "",
        payload.get("destinationZIP") or "",
    )


def tracking_update(payload: dict) -> TrackingUpdate | None:
    """None when USPS knows the number but has no event yet."""
    raw_events = payload.get("trackingEvents") or []
    if not raw_events:
        return None
    signer = next((e["name"] for e in raw_events if isinstance(e, dict) and e.get("name")), "")
    events, unreadable = read_each(CARRIER, "tracking event", raw_events, tracking_event)
    return TrackingUpdate(
        carrier=CARRIER,
        tracking_number=payload["trackingNumber"],
        events=tuple(events),
        estimated_delivery=read_optional(
            CARRIER,
            "estimated delivery",
            payload.get("expectedDeliveryTimeStamp"),
            lambda text: parse_timestamp(text, _destination(payload)),
        ),
        service=payload.get("mailClass") or "",
        proof_of_delivery=ProofOfDelivery(signed_by=signer) if signer else None,
        extra={"status_category": payload.get("statusCategory", "")},
        unreadable=unreadable,
    )


# ---- requests -------------------------------------------------------------------------


def _package(request: ShipmentRequest) -> dict:
    if len(request.parcels) != 1:
        raise CarrierRejected("usps labels and prices are per single parcel", carrier=CARRIER)
    parcel = request.parcels[0]
    package = {
        "mailClass": mail_class(request.service),
        "rateIndicator": "SP",
        "weightUOM": "lb",
        "weight": grams_to_pounds(parcel.weight_g),
        "dimensionsUOM": "in",
        "length": mm_to_inches(parcel.length_mm),
        "width": mm_to_inches(parcel.width_mm),
        "height": mm_to_inches(parcel.height_mm),
        "processingCategory": "MACHINABLE",
        "destinationEntryFacilityType": "NONE",
    }
    if request.ship_date:
        package["mailingDate"] = request.ship_date.isoformat()
    return package


def _address(address: Address) -> dict:
    first, _, last = address.name.partition(" ")
    fields = {
        "firstName": first,
        "lastName": last,
        "firm": address.company,
        "streetAddress": address.line1,
        "secondaryAddress": address.line2,
        "city": address.city,
        "state": address.state,
        "ZIPCode": address.postal_code[:5],
        "phone": address.phone,
        "email": address.email,
    }
    return {key: value for key, value in fields.items() if value}


def price_request(request: ShipmentRequest, price_type: str) -> dict:
    package = _package(request)
    return {
        "originZIPCode": request.shipper.postal_code[:5],
        "destinationZIPCode": request.recipient.postal_code[:5],
        "priceType": price_type,
        **{k: v for k, v in package.items() if k not in ("weightUOM", "dimensionsUOM")},
    }


def label_request(request: ShipmentRequest) -> dict:
    """Outbound and return labels alike: `shipper` sends, `recipient` receives the parcel."""
    package = _package(request)
    if request.declared_value:
        package["packageOptions"] = {"packageValue": request.declared_value.amount / 100}
    if request.signature_required:
        package["extraServices"] = [921]  # Signature Confirmation
    image = {"imageType": "PDF", "labelType": "4X6LABEL", "receiptOption": "NONE"}
    body = {"imageInfo": image, "packageDescription": package}
    body["toAddress"] = _address(request.recipient)
    body["fromAddress"] = _address(request.shipper)
    if request.reference:
        package["customerReference"] = [{"referenceNumber": request.reference}]
    return body


# ---- responses ------------------------------------------------------------------------


def rate_quote(service: str, payload: dict) -> RateQuote:
    return RateQuote(carrier=CARRIER, service=service, price=money(payload["totalBasePrice"]))


def multipart_parts(body: bytes) -> list[tuple[dict[str, str], bytes]]:
    """The parts of a multipart body. USPS labels answer `multipart/mixed`; the body's first
    line is the boundary, so the parts can be read from the bytes alone."""
    text = body.replace(b"\r\n", b"\n").strip()
    boundary = text.split(b"\n", 1)[0]
    if not boundary.startswith(b"--"):
        raise ValueError("not a multipart body")
    parts = []
    for chunk in text.split(boundary)[1:]:
        chunk = chunk.strip(b"\n")
        if not chunk or chunk == b"--":
            continue
        head, _, content = chunk.partition(b"\n\n")
        headers = {}
        for line in head.decode().splitlines():
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        parts.append((headers, content.strip()))
    return parts


def _part_name(headers: dict[str, str]) -> str:
    disposition = headers.get("content-disposition", "")
    for item in disposition.split(";"):
        key, _, value = item.strip().partition("=")
        if key == "name":
            return value.strip('"')
    return headers.get("file name", "")


def label(service: str, body: bytes) -> Label:
    """A label from the multipart answer: JSON metadata plus the base64 label image."""
    metadata: dict | None = None
    image: bytes | None = None
    for headers, content in multipart_parts(body):
        if "json" in headers.get("content-type", "").lower():
            metadata = json.loads(content)
        elif image is None and "receipt" not in _part_name(headers).lower():
            image = base64.b64decode(content)
    if metadata is None or image is None:
        raise ValueError("label metadata or image missing")
    metadata = metadata.get("labelMetadata") or metadata.get("returnLabelMetadata") or metadata
    postage = metadata.get("postage")
    return Label(
        carrier=CARRIER,
        service=service,
        tracking_number=metadata["trackingNumber"],
        label_format="PDF",
        label_data=image,
        price=money(postage) if postage is not None else None,
        carrier_shipment_id=metadata["trackingNumber"],
    )
