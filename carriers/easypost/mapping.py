"""Pure EasyPost payload <-> shipflow translations: Trackers, Events, Shipments, Rates."""

from __future__ import annotations

import hashlib
import hmac
import json
import unicodedata
from datetime import date
from typing import Any

from carriers.base import CarrierRejected, Label, RateQuote, ShipmentRequest, WebhookRequest
from carriers.convert import (
    grams_to_ounces,
    mm_to_inches,
    money,
    objects,
    parse_timestamp,
    read_each,
    read_optional,
)
from carriers.easypost.units import STATUS_DETAILS, STATUSES
from carriers.texts import from_text
from carriers.units import lookup
from shipflow.domain import (
    Address,
    Money,
    ProofOfDelivery,
    Reason,
    Status,
    TrackingEvent,
    TrackingUpdate,
)
from shipflow.signatures import same_secret

CARRIER = "easypost"
SIGNATURE_HEADER = "X-Hmac-Signature"
SIGNATURE_PREFIX = "hmac-sha256-hex="
TRACKER_EVENTS = ("tracker.created", "tracker.updated")
# Generic statuses a status_detail may refine (a "failure" that is a refusal, ...).
REFINABLE = frozenset({Status.IN_TRANSIT, Status.EXCEPTION})


def error_message(body: Any) -> tuple[str, str]:
    """(code, message) of an EasyPost error body, field errors appended."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return "", str(body)[:500]
    fields = [f"{e.get('field', '')}: {e.get('message', '')}" for e in error.get("errors") or []]
    message = "; ".join(m for m in [error.get("message", ""), *fields] if m)
    return str(error.get("code", "")), message


# ---- tracking -------------------------------------------------------------------------


def classify(status: str, detail: str, text: str = "") -> tuple[Status, Reason | None]:
    """The status, refined by its detail; a status outside EasyPost's list is read from the
    text, and a reason neither gives comes from the text too."""
    if status in STATUSES:
        base, base_reason = STATUSES[status]
    else:
        base, base_reason = from_text(text) or lookup(CARRIER, STATUSES, status, text)
    implied, reason = lookup(CARRIER, STATUS_DETAILS, detail or "unknown", text, default=base)
    if base in REFINABLE and implied is not Status.IN_TRANSIT:
        base = implied
    reason = reason or base_reason
    if reason is None and base is not Status.IN_TRANSIT:
        said = from_text(text)
        reason = said[1] if said else None
    return base, reason


def tracking_event(raw: dict) -> TrackingEvent:
    """A TrackingDetail; one without its `status` is read from its detail and message, like
    a status outside EasyPost's list."""
    status, detail = raw.get("status") or "", raw.get("status_detail") or ""
    text = raw.get("message") or raw.get("description") or ""
    normalized, reason = classify(status, detail, text)
    where = raw.get("tracking_location") or {}
    city, state = where.get("city") or "", where.get("state") or ""
    postal_code, country = where.get("zip") or "", where.get("country") or ""
    return TrackingEvent(
        status=normalized,
        occurred_at=parse_timestamp(raw["datetime"], (country, state, postal_code)),
        raw_code="/".join(code for code in (status, detail) if code),
        raw_text=text,
        reason=reason,
        location=", ".join(p for p in (city, f"{state} {postal_code}".strip(), country) if p),
        city=city,
        state=state,
        postal_code=postal_code,
        country=country,
    )


def tracking_update(tracker: dict) -> TrackingUpdate | None:
    """None for a tracker the carrier has reported nothing on yet."""
    details = tracker.get("tracking_details") or []
    if not details:
        return None
    signer = tracker.get("signed_by") or ""
    carrier_detail = tracker.get("carrier_detail") or {}
    events, unreadable = read_each(CARRIER, "tracking detail", details, tracking_event)
    return TrackingUpdate(
        carrier=CARRIER,
        tracking_number=tracker["tracking_code"],
        events=tuple(events),
        estimated_delivery=read_optional(
            CARRIER, "estimated delivery", tracker.get("est_delivery_date"), parse_timestamp
        ),
        service=carrier_detail.get("service") or "",
        proof_of_delivery=ProofOfDelivery(signed_by=signer) if signer else None,
        extra={"tracker_id": tracker["id"], "underlying_carrier": tracker.get("carrier") or ""},
        unreadable=unreadable,
    )


# ---- webhooks -------------------------------------------------------------------------


def signature_valid(request: WebhookRequest, secret: str) -> bool:
    headers = {k.lower(): v for k, v in request.headers.items()}
    given = headers.get(SIGNATURE_HEADER.lower(), "")
    if not secret or not given.startswith(SIGNATURE_PREFIX):
        return False
    key = unicodedata.normalize("NFKD", secret).encode()
    expected = hmac.new(key, request.body, hashlib.sha256).hexdigest()
    return same_secret(given[len(SIGNATURE_PREFIX) :], expected)


def webhook_updates(body: bytes) -> list[TrackingUpdate]:
    event = json.loads(body)
    if event["object"] != "Event" or event["description"] not in TRACKER_EVENTS:
        return []
    update = tracking_update(event["result"])
    return [update] if update else []


# ---- shipments ------------------------------------------------------------------------


def _address(address: Address) -> dict:
    fields = {
        "name": address.name,
        "company": address.company,
        "street1": address.line1,
        "street2": address.line2,
        "city": address.city,
        "state": address.state,
        "zip": address.postal_code,
        "country": address.country,
        "phone": address.phone,
        "email": address.email,
    }
    return {key: value for key, value in fields.items() if value} | {
        "residential": address.residential
    }


def shipment_request(request: ShipmentRequest) -> dict:
    """A return's request runs customer -> warehouse; EasyPost wants the outbound addresses
    with `is_return` and swaps them itself."""
    if len(request.parcels) != 1:
        raise CarrierRejected("easypost shipments carry one parcel each", carrier=CARRIER)
    parcel = request.parcels[0]
    sender, receiver = request.shipper, request.recipient
    if request.is_return:
        sender, receiver = receiver, sender
    shipment: dict[str, Any] = {
        "from_address": _address(sender),
        "to_address": _address(receiver),
        "parcel": {
            "weight": grams_to_ounces(parcel.weight_g),
            **{
                side: mm_to_inches(mm)
                for side, mm in (
                    ("length", parcel.length_mm),
                    ("width", parcel.width_mm),
                    ("height", parcel.height_mm),
                )
                if mm
            },
        },
        "is_return": request.is_return,
        "options": {"label_format": "PDF"},
    }
    if request.reference:
        shipment["reference"] = request.reference
    if request.signature_required:
        shipment["options"]["delivery_confirmation"] = "SIGNATURE"
    return {"shipment": shipment}


def service_name(rate: dict) -> str:
    """EasyPost services are per underlying carrier: "USPS/Priority", "UPS/Ground"."""
    return f"{rate['carrier']}/{rate['service']}"


def _quote(rate: dict) -> RateQuote:
    return RateQuote(
        carrier=CARRIER,
        service=service_name(rate),
        price=_rate_price(rate),
        transit_days=rate.get("delivery_days") or rate.get("est_delivery_days"),
        estimated_delivery=date.fromisoformat(rate["delivery_date"][:10])
        if rate.get("delivery_date")
        else None,
    )


def _rate_price(rate: dict) -> Money:
    return money(rate["rate"], rate["currency"])


def rate_quotes(shipment: dict) -> list[RateQuote]:
    """Every rate offered; one that cannot be read is skipped, the others quoted."""
    return read_each(CARRIER, "rate", objects(shipment["rates"]), _quote)[0]


def rate_id(shipment: dict, service: str) -> str:
    for rate in shipment["rates"]:
        if service_name(rate) == service:
            return rate["id"]
    offered = ", ".join(service_name(r) for r in shipment["rates"]) or "none"
    raise CarrierRejected(
        f"easypost offers no rate for {service!r} on this shipment (offered: {offered})",
        carrier=CARRIER,
    )


def label_url(shipment: dict) -> str:
    postage = shipment["postage_label"]
    return postage.get("label_pdf_url") or postage["label_url"]


def label(shipment: dict, label_data: bytes) -> Label:
    postage, rate = shipment["postage_label"], shipment["selected_rate"]
    file_type = "PDF" if postage.get("label_pdf_url") else postage.get("label_file_type", "")
    return Label(
        carrier=CARRIER,
        service=service_name(rate),
        tracking_number=shipment["tracking_code"],
        label_format=file_type.rpartition("/")[2].upper(),
        label_data=label_data,
        price=read_optional(CARRIER, "label price", rate, _rate_price),
        carrier_shipment_id=shipment["id"],
    )


def refund_accepted(shipment: dict) -> bool:
    return shipment.get("refund_status") in ("submitted", "refunded")
