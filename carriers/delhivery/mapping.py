"""Pure functions between Delhivery's B2C API payloads and shipflow objects. No I/O.

Delhivery writes times in India Standard Time without an offset ("2024-09-21T14:31:48.752"):
they are read as Asia/Kolkata. Several calls answer HTTP 200 with a refusal in the body
(`{"success": false, "rmk": ...}`, `packages[].remarks`, `{"status": false, ...}`): those are
`CarrierRejected` with Delhivery's own words. A poll carries up to 50 waybills, so a scan (or a
waybill) that cannot be read is skipped and kept, never allowed to sink the others.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from carriers import convert
from carriers.base import (
    CarrierRejected,
    CarrierResponseError,
    FailedDeliveryAction,
    FailedDeliveryInstruction,
    NotSupported,
    PickupConfirmation,
    PickupRequest,
    ShipmentRequest,
    one_parcel,
)
from carriers.delhivery import units
from carriers.texts import from_text
from carriers.units import lookup
from shipflow.domain import Address, Reason, Status, TrackingEvent, TrackingUpdate

CARRIER = "delhivery"
IST = ZoneInfo("Asia/Kolkata")
_LOCATION = re.compile(r"^(?P<facility>.*?)\s*\((?P<state>[^()]*)\)\s*$")


def _words(body: Any) -> list[str]:
    """Every message Delhivery put in an error or refusal body, in its order."""
    if not isinstance(body, dict):
        return [str(body)[:500]] if body else []
    found: list[str] = []
    for key in ("rmk", "remark", "remarks", "error", "detail", "message", "Error"):
        value = body.get(key)
        if isinstance(value, dict):
            found.extend(_words(value))
        elif isinstance(value, list):
            found.extend(str(v) for v in value if v)
        elif value and not isinstance(value, bool):
            found.append(str(value))
    for package in convert.objects(body.get("packages")):
        found.extend(str(r) for r in (package.get("remarks") or []) if r)
    return found


def error_parser(body: Any) -> tuple[str, str]:
    """Delhivery's error bodies have no code, only words: ("", "their words")."""
    return "", "; ".join(dict.fromkeys(_words(body))) or str(body)[:500]


def _refused(what: str, body: Any) -> CarrierRejected:
    _, words = error_parser(body)
    return CarrierRejected(
        f"delhivery refused the {what}: {words}", carrier=CARRIER, carrier_message=words
    )


def ist(text: str) -> datetime:
    """A Delhivery time; one without an offset (all of them, as documented) is IST."""
    moment = datetime.fromisoformat(text.strip())
    return moment if moment.tzinfo else moment.replace(tzinfo=IST)


# -- tracking ---------------------------------------------------------------------------


def classify(
    status_type: str, status: str, nsl_code: str, instructions: str
) -> tuple[Status, Reason | None]:
    """The scan's (StatusType, Status) decide; a failed-attempt NSL code on an undelivered
    scan makes it a failed attempt; the instructions name the reason where the code does not
    (a COD refusal above all)."""
    if status_type == "UD" and nsl_code in units.FAILED_ATTEMPT_CODES:
        found: tuple[Status, Reason | None] = (
            Status.ATTEMPT_FAILED,
            units.ATTEMPT_REASONS.get(nsl_code),
        )
    elif f"{status_type}:{status}" in units.STATUS_BY_TYPE:
        found = units.STATUS_BY_TYPE[f"{status_type}:{status}"]
    else:
        key = f"{status_type}:{status}"
        default = units.TYPE_DEFAULTS.get(status_type, Status.IN_TRANSIT)
        found = from_text(instructions) or lookup(
            CARRIER, units.STATUS_BY_TYPE, key, instructions, default
        )
    state, reason = found
    if state in (Status.ATTEMPT_FAILED, Status.RETURNING_TO_SENDER):
        if units.COD_REFUSAL.search(instructions):
            reason = Reason.COD_REFUSED
        elif reason is None:
            reason = (from_text(instructions) or (state, None))[1]
    return state, reason


def _place(location: str) -> tuple[str, str]:
    """("Amritsar_VerkaBypss_I (Punjab)") -> ("Amritsar", "Punjab"): city and state."""
    found = _LOCATION.match(location)
    facility, state = (found["facility"], found["state"]) if found else (location, "")
    return facility.split("_")[0].strip(), state.strip()


def _event(
    status_type: str, status: str, nsl_code: str, instructions: str, at: str, location: str
) -> TrackingEvent:
    state, reason = classify(status_type, status, nsl_code, instructions)
    city, region = _place(location)
    return TrackingEvent(
        status=state,
        occurred_at=ist(at),
        raw_code=":".join(p for p in (status_type, status, nsl_code) if p),
        raw_text=" - ".join(t for t in (status, instructions) if t),
        reason=reason,
        location=location,
        city=city,
        state=region,
        country="IN",
    )


def _scan_event(scan: dict) -> TrackingEvent:
    detail = scan["ScanDetail"]
    return _event(
        detail["ScanType"],
        detail["Scan"],
        detail.get("StatusCode") or "",
        detail.get("Instructions") or "",
        detail.get("StatusDateTime") or detail["ScanDateTime"],
        detail.get("ScannedLocation") or "",
    )


def _status_event(shipment: dict) -> TrackingEvent:
    """The shipment's current status as one event (a push carries only this)."""
    current = shipment["Status"]
    return _event(
        current["StatusType"],
        current["Status"],
        current.get("StatusCode") or shipment.get("NSLCode") or "",
        current.get("Instructions") or "",
        current["StatusDateTime"],
        current.get("StatusLocation") or "",
    )


def _estimate(shipment: dict) -> datetime | None:
    """Delhivery's own estimate: the current expected date, else the one promised; one
    written in a form we cannot read costs only itself, not the waybill's scans."""
    text = shipment.get("ExpectedDeliveryDate") or shipment.get("PromisedDeliveryDate")
    return convert.read_optional(CARRIER, "estimated delivery", text, ist)


def parse_shipment(shipment: dict) -> TrackingUpdate:
    scans = shipment.get("Scans") or []
    if scans:
        events, unreadable = convert.read_each(CARRIER, "scan", scans, _scan_event)
    else:
        events, unreadable = [_status_event(shipment)], ()
    return TrackingUpdate(
        carrier=CARRIER,
        tracking_number=str(shipment["AWB"]),
        events=tuple(sorted(events, key=lambda e: e.occurred_at)),
        estimated_delivery=_estimate(shipment),
        unreadable=unreadable,
    )


def parse_track_response(body: Any) -> list[TrackingUpdate]:
    """Every waybill Delhivery knows; unknown ones are absent from ShipmentData (or the whole
    answer is `{"Error": ...}` when it knows none)."""
    if not isinstance(body, dict):
        raise CarrierResponseError("delhivery tracking answer is not an object", carrier=CARRIER)
    shipments = [_shipment(item) for item in body.get("ShipmentData") or []]
    return convert.read_each(CARRIER, "shipment", shipments, parse_shipment)[0]


def _shipment(item: Any) -> Any:
    """A `{"Shipment": {...}}` wrapper's content; anything else is left to `parse_shipment`
    to skip."""
    return item.get("Shipment") if isinstance(item, dict) else item


def parse_push(body: Any) -> list[TrackingUpdate]:
    """A scan push: `{"Shipment": {"Status": {...}, "NSLCode", "AWB", ...}}`, or a list."""
    items = body if isinstance(body, list) else [body]
    shipments = [_shipment(item) for item in items]
    return convert.read_each(CARRIER, "push", shipments, parse_shipment)[0]


# -- shipments --------------------------------------------------------------------------


def _rupees(amount: int) -> float:
    return float(Decimal(amount) / 100)


def _payment(request: ShipmentRequest) -> dict[str, Any]:
    if request.is_return:
        return {"payment_mode": "Pickup"}
    cod = request.cash_on_delivery
    if cod is None:
        return {"payment_mode": "Prepaid"}
    if cod.currency != "INR":
        raise NotSupported(
            f"delhivery collects cash on delivery in INR, not {cod.currency}", carrier=CARRIER
        )
    return {"payment_mode": "COD", "cod_amount": _rupees(cod.amount)}


def _street(address: Address) -> str:
    return ", ".join(p for p in (address.line1, address.line2) if p)


def build_create_request(request: ShipmentRequest, pickup_location: str) -> dict[str, str]:
    """The form of POST /api/cmu/create.json: `format=json&data=<JSON>`. A return is a
    reverse pickup from the customer (the request's shipper) to our warehouse."""
    parcel = one_parcel(request, CARRIER)
    if request.service not in units.SERVICES:
        raise NotSupported(f"delhivery has no service {request.service!r}", carrier=CARRIER)
    customer = request.shipper if request.is_return else request.recipient
    shipment: dict[str, Any] = {
        "name": customer.name,
        "add": _street(customer),
        "pin": customer.postal_code,
        "city": customer.city,
        "state": customer.state,
        "country": "India",
        "phone": customer.phone,
        "order": request.reference,
        **_payment(request),
        "weight": parcel.weight_g,  # grams
        "shipping_mode": units.SERVICES[request.service][0],
    }
    if request.declared_value is not None:
        shipment["total_amount"] = _rupees(request.declared_value.amount)
    if convert.has_dimensions(parcel):
        for side, mm in (
            ("length", parcel.length_mm),
            ("width", parcel.width_mm),
            ("height", parcel.height_mm),
        ):
            shipment[f"shipment_{side}"] = float(convert.length(mm, "CM"))
    data = {"shipments": [shipment], "pickup_location": {"name": pickup_location}}
    return {"format": "json", "data": json.dumps(data, ensure_ascii=False)}


def created_waybill(body: Any) -> str:
    """The waybill of a successful create; a refusal (HTTP 200 as often as 4xx) raises."""
    if not isinstance(body, dict):
        raise CarrierResponseError("delhivery create answer is not an object", carrier=CARRIER)
    packages = convert.objects(body.get("packages"))
    if not body.get("success") or not packages or packages[0].get("status") != "Success":
        raise _refused("shipment", body)
    waybill = packages[0].get("waybill")
    if not waybill:
        raise CarrierResponseError("delhivery created a package without a waybill", carrier=CARRIER)
    return str(waybill)


def packing_slip_link(body: Any, waybill: str) -> str:
    """The PDF link of GET /api/p/packing_slip?wbns=<waybill>&pdf=true."""
    try:
        package = next(p for p in body["packages"] if str(p.get("wbn")) == waybill)
        return str(package["pdf_download_link"])
    except (KeyError, TypeError, StopIteration) as exc:
        raise CarrierResponseError(
            f"delhivery packing slip for {waybill} unreadable: {exc!r}", carrier=CARRIER
        ) from exc


def build_cancel_request(waybill: str) -> dict[str, str]:
    return {"waybill": waybill, "cancellation": "true"}


def check_cancelled(body: Any, waybill: str) -> None:
    if not (isinstance(body, dict) and body.get("status") in (True, "true", "True")):
        raise _refused(f"cancellation of {waybill}", body)


# -- pickups ----------------------------------------------------------------------------


def build_pickup_request(request: PickupRequest, pickup_location: str) -> dict[str, Any]:
    """POST /fm/request/new/: the registered warehouse, the date and the time it is ready."""
    hours, minutes = request.ready_at.split(":")[:2]
    return {
        "pickup_location": pickup_location,
        "pickup_date": request.pickup_date.isoformat(),
        "pickup_time": f"{int(hours):02d}:{int(minutes):02d}:00",
        "expected_package_count": request.parcel_count,
    }


def parse_pickup_response(body: Any, request: PickupRequest) -> PickupConfirmation:
    if not isinstance(body, dict) or not body.get("pickup_id"):
        raise _refused("pickup request", body)
    return PickupConfirmation(CARRIER, str(body["pickup_id"]), request.pickup_date)


# -- failed deliveries (NDR API) ----------------------------------------------------------


def _ndr_actions(instruction: FailedDeliveryInstruction) -> list[dict[str, Any]]:
    waybill, action = instruction.tracking_number, instruction.action
    if action is FailedDeliveryAction.REATTEMPT and instruction.reattempt_on:
        deferred = {"deferred_date": instruction.reattempt_on.isoformat()}
        return [{"waybill": waybill, "act": "DEFER_DLV", "action_data": deferred}]
    if action is FailedDeliveryAction.REATTEMPT:
        return [{"waybill": waybill, "act": "RE-ATTEMPT"}]
    if action is FailedDeliveryAction.UPDATE_ADDRESS and instruction.address is not None:
        new = instruction.address
        details = {"name": new.name, "phone": new.phone, "add": _full_address(new)}
        return [
            {
                "waybill": waybill,
                "act": "EDIT_DETAILS",
                "action_data": {k: v for k, v in details.items() if v},
            },
            {"waybill": waybill, "act": "RE-ATTEMPT"},
        ]
    raise NotSupported(f"delhivery's NDR API has no action for {action}", carrier=CARRIER)


def _full_address(address: Address) -> str:
    """EDIT_DETAILS takes one address line; the PIN code itself cannot be changed."""
    return ", ".join(
        p for p in (address.line1, address.line2, address.city, address.postal_code) if p
    )


def build_ndr_request(instruction: FailedDeliveryInstruction) -> dict[str, Any]:
    """POST /api/p/update: RE-ATTEMPT; a chosen day is DEFER_DLV (up to 6 days after the
    first pending date); a corrected address is EDIT_DETAILS followed by RE-ATTEMPT."""
    return {"data": _ndr_actions(instruction)}


def ndr_request_id(body: Any) -> str:
    """The NDR API is asynchronous: it always answers with a UPL request id."""
    request_id = body.get("request_id") if isinstance(body, dict) else None
    if not request_id:
        raise _refused("failed-delivery instruction", body)
    return str(request_id)
