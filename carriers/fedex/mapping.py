"""Pure functions between FedEx's JSON (Track, Rate, Ship APIs and tracking webhooks) and
shipflow objects. No I/O.

FedEx reports per-number errors inside a 200 answer (trackResults[].error, e.g.
TRACKING.TRACKINGNUMBER.NOTFOUND): such numbers are left out of the result, never returned
as empty updates. Event times are ISO-8601, normally with the scan's local offset; one sent
without it is read in the scan location's zone. A poll carries up to 30 numbers, so a scan
(or a number) that cannot be read is skipped and kept, never allowed to sink the others.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import UTC, date, datetime, tzinfo
from typing import Any

from carriers import convert
from carriers.base import CarrierResponseError, Label, RateQuote, ShipmentRequest
from carriers.fedex import units
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

CARRIER = "fedex"


def error_parser(body: Any) -> tuple[str, str]:
    """{"transactionId", "errors": [{"code", "message"}]} -> (code, message)."""
    errors = body.get("errors") if isinstance(body, dict) else None
    if not errors:
        return "", str(body)[:500]
    return str(errors[0].get("code", "")), "; ".join(e.get("message", "") for e in errors)


def _unreadable(what: str, exc: Exception) -> CarrierResponseError:
    return CarrierResponseError(f"fedex {what} unreadable: {exc!r}", carrier=CARRIER)


# -- tracking -----------------------------------------------------------------------------


def build_track_request(tracking_numbers: Sequence[str]) -> dict:
    return {
        "includeDetailedScans": True,
        "trackingInfo": [{"trackingNumberInfo": {"trackingNumber": n}} for n in tracking_numbers],
    }


_EXCEPTIONAL = frozenset({Status.ATTEMPT_FAILED, Status.EXCEPTION})


def classify(event_type: str, exception_code: str, text: str) -> tuple[Status, Reason | None]:
    """The event type's status (what the text says for a type the table lacks); on an
    exception event, a known exception code adds the reason (and may change the status), an
    unknown one leaves both to the text. Codes on other events (a delivery) change nothing."""
    if event_type in units.STATUS_BY_EVENT:
        status, reason = units.STATUS_BY_EVENT[event_type]
    else:
        status, reason = from_text(text) or lookup(CARRIER, units.STATUS_BY_EVENT, event_type, text)
    if status not in _EXCEPTIONAL:
        return status, reason
    if exception_code in units.EXCEPTIONS:
        override, reason = units.EXCEPTIONS[exception_code]
        return override or status, reason
    return from_text(text) or (status, reason)


def _event_code(scan: dict) -> str:
    """eventType is the finer code; derivedStatusCode stands in when FedEx sends a type
    the table lacks (so only codes unknown both ways are reported as unknown)."""
    kind, derived = scan.get("eventType") or "", scan.get("derivedStatusCode") or ""
    if kind in units.STATUS_BY_EVENT or derived not in units.STATUS_BY_EVENT:
        return kind or derived
    return derived


def _event(scan: dict, occurred_at: datetime | None = None) -> TrackingEvent:
    """A scan event, timed by its `date` unless `occurred_at` is given."""
    kind = scan.get("eventType") or scan.get("derivedStatusCode") or ""
    exception = scan.get("exceptionCode") or ""
    text = " - ".join(
        t
        for t in (
            scan.get("eventDescription") or scan.get("description"),
            scan.get("exceptionDescription"),
        )
        if t
    )
    status, reason = classify(_event_code(scan), exception, text)
    place = scan.get("scanLocation") or {}
    city, state = place.get("city") or "", place.get("stateOrProvinceCode") or ""
    postal, country = place.get("postalCode") or "", place.get("countryCode") or ""
    if occurred_at is None:
        occurred_at = convert.parse_timestamp(scan["date"], (country, state, postal))
    return convert.located_event(
        status,
        reason,
        occurred_at,
        f"{kind}:{exception}" if exception else kind,
        text,
        (city, state, postal, country),
    )


def _latest_status_event(result: dict) -> list[TrackingEvent]:
    """Without detailed scans (label only, or scans withheld), latestStatusDetail is the one
    event, dated by the newest actual date FedEx gives; none without such a date."""
    latest = result.get("latestStatusDetail") or {}
    place = latest.get("scanLocation") or {}
    zone = convert.local_zone(
        (
            place.get("countryCode") or "",
            place.get("stateOrProvinceCode") or "",
            place.get("postalCode") or "",
        )
    )
    stamps = [
        stamp
        for s in convert.objects(result.get("dateAndTimes"))
        if (s.get("type") or "").startswith("ACTUAL_")
        and (stamp := _optional_time("actual date", s.get("dateTime"), zone))
    ]
    if not latest.get("code") or not stamps:
        return []
    scan = {
        "eventType": latest["code"],
        "derivedStatusCode": latest.get("derivedCode", ""),
        "description": latest.get("description", ""),
        "scanLocation": latest.get("scanLocation"),
    }
    for detail in convert.objects(latest.get("ancillaryDetails")):
        scan.setdefault("exceptionCode", detail.get("reason", ""))
        scan.setdefault("exceptionDescription", detail.get("reasonDescription", ""))
    return [_event(scan, max(stamps))]


def _optional_time(what: str, text: Any, zone: tzinfo) -> datetime | None:
    """A time of the result beside its scans (a date it reports, the estimate): absent or in
    a form the Track API does not document, it costs only itself, never the number."""

    def aware(value: str) -> datetime:
        moment = datetime.fromisoformat(value)
        return moment if moment.tzinfo else moment.replace(tzinfo=zone)

    return convert.read_optional(CARRIER, what, text, aware)


def _estimated_delivery(result: dict, zone: tzinfo) -> datetime | None:
    window = (result.get("estimatedDeliveryTimeWindow") or {}).get("window") or {}
    estimates = [
        s["dateTime"]
        for s in convert.objects(result.get("dateAndTimes"))
        if s.get("type") == "ESTIMATED_DELIVERY" and s.get("dateTime")
    ]
    estimate = window.get("ends") or next(iter(estimates), None)
    return _optional_time("estimated delivery", estimate, zone)


def parse_track_result(result: dict) -> TrackingUpdate:
    scans = result.get("scanEvents") or []
    events, unreadable = convert.read_each(CARRIER, "scan event", scans, _event)
    events = sorted(events, key=lambda e: e.occurred_at)
    if not events:
        events = _latest_status_event(result)
    zone = events[-1].occurred_at.tzinfo if events else UTC
    delivery = result.get("deliveryDetails") or {}
    signed_by = delivery.get("receivedByName") or delivery.get("signedByName", "")
    service = (result.get("serviceDetail") or {}).get("type", "")
    return TrackingUpdate(
        carrier=CARRIER,
        tracking_number=result["trackingNumberInfo"]["trackingNumber"],
        events=tuple(events),
        estimated_delivery=_estimated_delivery(result, zone),  # type: ignore[arg-type]
        service=service_name(service) if service else "",
        proof_of_delivery=ProofOfDelivery(signed_by=signed_by) if signed_by else None,
        unreadable=unreadable,
    )


def _track_results(body: Any) -> list[dict]:
    """trackResults from a Track API answer, a webhook carrying one, or a list of them."""
    if isinstance(body, list):
        return [r for item in body for r in _track_results(item)]
    if "output" in body:
        return [
            r
            for c in convert.objects(body["output"]["completeTrackResults"])
            for r in convert.objects(c.get("trackResults"))
        ]
    if "trackResults" in body:
        return convert.objects(body["trackResults"])
    return [body]


def parse_track_response(body: Any) -> list[TrackingUpdate]:
    """Every number FedEx found; one whose result cannot be read is skipped (and kept), the
    others are returned."""
    try:
        results = [r for r in _track_results(body) if not r.get("error")]
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise _unreadable("track response", exc) from exc
    return convert.read_each(CARRIER, "track result", results, parse_track_result)[0]


# -- rating and shipping ------------------------------------------------------------------


def service_type(service: str) -> str:
    return units.SERVICE_TYPES.get(service, service)


def service_name(code: str) -> str:
    return units.SERVICES[code][0] if code in units.SERVICES else code


def _address(address: Address) -> dict:
    return {
        "streetLines": [line for line in (address.line1, address.line2) if line],
        "city": address.city,
        "stateOrProvinceCode": address.state,
        "postalCode": address.postal_code,
        "countryCode": address.country,
        "residential": address.residential,
    }


def _party(address: Address) -> dict:
    return {
        "contact": {
            "personName": address.name,
            "companyName": address.company,
            "phoneNumber": address.phone,
            "emailAddress": address.email,
        },
        "address": _address(address),
    }


def _line_items(request: ShipmentRequest) -> list[dict]:
    weight_unit, length_unit = (
        ("LB", "IN") if convert.imperial(request.shipper.country) else ("KG", "CM")
    )
    items = []
    for parcel in request.parcels:
        item: dict[str, Any] = {
            "weight": {"units": weight_unit, "value": float(convert.weight(parcel, weight_unit))}
        }
        if convert.has_dimensions(parcel):
            item["dimensions"] = {
                "length": round(float(convert.length(parcel.length_mm, length_unit))),
                "width": round(float(convert.length(parcel.width_mm, length_unit))),
                "height": round(float(convert.length(parcel.height_mm, length_unit))),
                "units": length_unit,
            }
        items.append(item)
    return items


def build_rate_request(request: ShipmentRequest, account_number: str) -> dict:
    shipment: dict[str, Any] = {
        "shipper": {"address": _address(request.shipper)},
        "recipient": {"address": _address(request.recipient)},
        "pickupType": "USE_SCHEDULED_PICKUP",
        "rateRequestType": ["ACCOUNT", "LIST"],
        "requestedPackageLineItems": _line_items(request),
    }
    if request.service:
        shipment["serviceType"] = service_type(request.service)
    if request.ship_date:
        shipment["shipDateStamp"] = request.ship_date.isoformat()
    return {"accountNumber": {"value": account_number}, "requestedShipment": shipment}


def _rated_price(details: list[dict]) -> Money:
    """The account (negotiated) rate when FedEx returns one, else the list rate."""
    chosen = next((d for d in details if d.get("rateType") == "ACCOUNT"), details[0])
    currency = chosen.get("currency") or chosen["shipmentRateDetail"]["currency"]
    return convert.money(chosen["totalNetCharge"], currency)


_NUMBER_WORDS = "ONE TWO THREE FOUR FIVE SIX SEVEN EIGHT NINE TEN ELEVEN TWELVE"
_TRANSIT_WORDS = {word: n for n, word in enumerate(_NUMBER_WORDS.split(), start=1)}


def _transit(reply: dict) -> tuple[int | None, date | None]:
    """FedEx spells transit time out ("THREE_DAYS"); commit.dateDetail has the date."""
    commit = reply.get("commit") or {}
    word = (commit.get("transitDays") or {}).get("minimumTransitTime") or (
        reply.get("operationalDetail") or {}
    ).get("transitTime", "")
    days = _TRANSIT_WORDS.get(word.split("_")[0]) if word else None
    day_format = (commit.get("dateDetail") or {}).get("dayFormat")
    return days, datetime.fromisoformat(day_format).date() if day_format else None


def _quote(reply: dict) -> RateQuote:
    days, arrival = _transit(reply)
    return RateQuote(
        carrier=CARRIER,
        service=service_name(reply["serviceType"]),
        price=_rated_price(reply["ratedShipmentDetails"]),
        transit_days=days,
        estimated_delivery=arrival,
    )


def parse_rate_response(body: dict) -> list[RateQuote]:
    """Every rated service; one that cannot be read is skipped, the others quoted."""
    try:
        replies = convert.objects(body["output"]["rateReplyDetails"])
    except (KeyError, TypeError) as exc:
        raise _unreadable("rate response", exc) from exc
    return convert.read_each(CARRIER, "rate", replies, _quote)[0]


def build_ship_request(request: ShipmentRequest, account_number: str, label_format: str) -> dict:
    shipment: dict[str, Any] = {
        "shipper": _party(request.shipper),
        "recipients": [_party(request.recipient)],
        "serviceType": service_type(request.service),
        "packagingType": "YOUR_PACKAGING",
        "pickupType": "USE_SCHEDULED_PICKUP",
        "shippingChargesPayment": {"paymentType": "SENDER"},
        "labelSpecification": {
            "imageType": label_format,
            "labelStockType": units.LABEL_STOCK[label_format],
        },
        "requestedPackageLineItems": _line_items(request),
    }
    if request.ship_date:
        shipment["shipDatestamp"] = request.ship_date.isoformat()
    if request.reference:
        for item in shipment["requestedPackageLineItems"]:
            item["customerReferences"] = [
                {"customerReferenceType": "CUSTOMER_REFERENCE", "value": request.reference[:40]}
            ]
    if request.is_return:
        shipment["shipmentSpecialServices"] = {
            "specialServiceTypes": ["RETURN_SHIPMENT"],
            "returnShipmentDetail": {"returnType": "PRINT_RETURN_LABEL"},
        }
    if request.signature_required:
        for item in shipment["requestedPackageLineItems"]:
            item["packageSpecialServices"] = {
                "specialServiceTypes": ["SIGNATURE_OPTION"],
                "signatureOptionType": "DIRECT",
            }
    return {
        "labelResponseOptions": "LABEL",
        "accountNumber": {"value": account_number},
        "requestedShipment": shipment,
    }


def _label_price(rates: list) -> Money:
    return convert.money(rates[0]["totalNetCharge"], rates[0]["currency"])


def parse_ship_response(body: dict, service: str) -> Label:
    try:
        shipment = body["output"]["transactionShipments"][0]
        piece = shipment["pieceResponses"][0]
        document = next(
            d for d in piece["packageDocuments"] if d.get("contentType", "LABEL") == "LABEL"
        )
        rating = (shipment.get("completedShipmentDetail") or {}).get("shipmentRating") or {}
        price = convert.read_optional(
            CARRIER, "label price", rating.get("shipmentRateDetails"), _label_price
        )
        return Label(
            carrier=CARRIER,
            service=service,
            tracking_number=piece["trackingNumber"],
            label_format=document["docType"],
            label_data=base64.b64decode(document["encodedLabel"], validate=True),
            price=price,
            carrier_shipment_id=shipment["masterTrackingNumber"],
        )
    except (*convert.SHAPE_ERRORS, StopIteration) as exc:
        raise _unreadable("ship response", exc) from exc


def build_cancel_request(tracking_number: str, account_number: str) -> dict:
    return {
        "accountNumber": {"value": account_number},
        "trackingNumber": tracking_number,
        "deletionControl": "DELETE_ALL_PACKAGES",
    }


def cancel_succeeded(body: dict) -> bool:
    try:
        return bool(body["output"]["cancelledShipment"])
    except (KeyError, TypeError) as exc:
        raise _unreadable("cancel response", exc) from exc
