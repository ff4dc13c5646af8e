"""Pure functions between UPS's JSON (Track, Track Alert, Rating, Shipping APIs) and shipflow
objects. No I/O: the client sends what the builders return and hands the parsers what UPS said.

UPS quirks handled here: a list of one is often sent as a bare object; times are local
(YYYYMMDD + HHMMSS, sometimes HH:MM:SS or with the leading zero dropped) with a separate,
optional offset ("-05:00" in Track, "-04.00" in Track Alert) or GMT date and time.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import replace
from datetime import UTC, date, datetime, tzinfo
from typing import Any

from carriers import convert
from carriers.base import CarrierResponseError, Label, RateQuote, ShipmentRequest
from carriers.texts import from_text
from carriers.units import lookup
from carriers.ups import units
from carriers.zones import zone_at
from shipflow.domain import (
    Address,
    ProofOfDelivery,
    Reason,
    Status,
    TrackingEvent,
    TrackingUpdate,
)

CARRIER = "ups"


def as_list(value: Any) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def error_parser(body: Any) -> tuple[str, str]:
    """{"response": {"errors": [{"code", "message"}]}} -> (code, message) of the first error."""
    errors = (
        as_list((body or {}).get("response", {}).get("errors")) if isinstance(body, dict) else []
    )
    if not errors:
        return "", str(body)[:500]
    return str(errors[0].get("code", "")), "; ".join(e.get("message", "") for e in errors)


# -- time ---------------------------------------------------------------------------------


def local_time(day: str, clock: str, zone: tzinfo) -> datetime:
    return datetime.combine(convert.compact_date(day), convert.clock_time(clock), tzinfo=zone)


def _when(
    local: tuple[str | None, str | None, str | None],
    gmt: tuple[str | None, str | None],
    place: convert.Place,
) -> datetime:
    """Local date and time with their offset; else the GMT date and time; else local date and
    time read in the scan location's zone (UPS's specs make every one of these optional)."""
    day, clock, offset = local
    if day and clock and offset:
        return local_time(day, clock, convert.utc_offset(offset))
    if gmt[0] and gmt[1]:
        return local_time(gmt[0], gmt[1], UTC)
    if day and clock:
        return local_time(day, clock, convert.local_zone(place))
    raise ValueError("activity has neither a local nor a GMT date and time")


# -- tracking -----------------------------------------------------------------------------


def classify(status_type: str, code: str, text: str) -> tuple[Status, Reason | None]:
    """The activity's "type:code" row if it has one; else its type's row, unless the type
    cannot decide (type X carries good news too): then what the text says, else in transit
    (an unknown code, counted)."""
    key = f"{status_type}:{code}"
    if key in units.STATUS_BY_CODE:
        return units.STATUS_BY_CODE[key]
    if status_type in units.STATUS_BY_TYPE:
        return units.STATUS_BY_TYPE[status_type]
    return from_text(text) or lookup(CARRIER, units.STATUS_BY_CODE, key, text)


def _place(address: dict) -> tuple[str, str, str, str]:
    """(city, state, postal code, country) of a Track or Track Alert location."""
    return (
        address.get("city") or "",
        address.get("stateProvince") or "",
        address.get("postalCode") or "",
        address.get("countryCode") or address.get("country") or "",
    )


def _event(
    status: dict,
    address: dict,
    local: tuple[str | None, str | None, str | None],
    gmt: tuple[str | None, str | None],
) -> TrackingEvent:
    """A scan of the Track API or of Track Alert: the same parts, named differently."""
    place = _place(address)
    city, state, postal, country = place
    occurred_at = _when(local, gmt, (country, state, postal))
    kind, code = status.get("type") or "", status.get("code") or ""
    text = (status.get("description") or "").strip()
    normalized, reason = classify(kind, code, text)
    return convert.located_event(
        normalized, reason, occurred_at, f"{kind}:{code}" if code else kind, text, place
    )


def _activity_event(activity: dict) -> TrackingEvent:
    return _event(
        activity.get("status") or {},
        (activity.get("location") or {}).get("address") or {},
        (activity.get("date"), activity.get("time"), activity.get("gmtOffset")),
        (activity.get("gmtDate"), activity.get("gmtTime")),
    )


def _returned_home(events: list[TrackingEvent]) -> list[TrackingEvent]:
    """A delivery scan after a return-to-sender scan is the parcel reaching its sender."""
    ordered = sorted(events, key=lambda e: e.occurred_at)
    returning = False
    result = []
    for event in ordered:
        returning = returning or event.status == Status.RETURNING_TO_SENDER
        if returning and event.status == Status.DELIVERED:
            event = replace(event, status=Status.RETURNED_TO_SENDER)
        result.append(event)
    return result


def _estimate(day: str | None, end: str | None, zone: tzinfo) -> datetime | None:
    """A scheduled delivery date at the window's end (the day's end when none is given); one
    UPS writes in a form its spec does not show costs only itself, never the package."""
    return convert.read_optional(
        CARRIER, "estimated delivery", day, lambda d: local_time(d, end or "235959", zone)
    )


def _estimated_delivery(package: dict, zone: tzinfo) -> datetime | None:
    """The latest scheduled/rescheduled date (SDD/RDD), at the window's end when given."""
    dates = {d.get("type"): d.get("date") for d in convert.objects(package.get("deliveryDate"))}
    end = (package.get("deliveryTime") or {}).get("endTime")
    return _estimate(dates.get("RDD") or dates.get("SDD"), end, zone)


def _destination_zone(package: dict) -> tzinfo | None:
    """The zone of the package's DESTINATION `packageAddress`, where its scheduled delivery
    date and window are meant; None when UPS leaves it out or it does not decide."""
    for entry in convert.objects(package.get("packageAddress")):
        if entry.get("type") == "DESTINATION":
            city, state, postal, country = _place(entry.get("address") or {})
            return zone_at(country, state, postal)
    return None


def _proof_of_delivery(delivered: dict) -> ProofOfDelivery | None:
    """deliveryInformation: `receivedBy`, `location` ("Front Door") and `deliveryPhoto.photo`
    (base64), the photo only when `photoCaptureInd` (Tracking.yaml) says one was taken."""
    photo = delivered.get("deliveryPhoto") or {}
    pod = ProofOfDelivery(
        signed_by=(delivered.get("receivedBy") or "").strip(),
        left_at=(delivered.get("location") or "").strip(),
        photo=(photo.get("photo") or "") if photo.get("photoCaptureInd") == "Y" else "",
    )
    return pod if pod != ProofOfDelivery() else None


def parse_package(package: dict) -> TrackingUpdate:
    events, unreadable = convert.read_each(
        CARRIER, "activity", as_list(package.get("activity")), _activity_event
    )
    events = _returned_home(events)
    zone = _destination_zone(package) or (events[-1].occurred_at.tzinfo if events else UTC)
    pod = _proof_of_delivery(package.get("deliveryInformation") or {})
    return TrackingUpdate(
        carrier=CARRIER,
        tracking_number=package["trackingNumber"],
        events=tuple(events),
        estimated_delivery=_estimated_delivery(package, zone),  # type: ignore[arg-type]
        service=(package.get("service") or {}).get("description", ""),
        proof_of_delivery=pod,
        unreadable=unreadable,
    )


def parse_track_response(body: dict) -> list[TrackingUpdate]:
    """Every package of every shipment UPS found; numbers with only warnings are left out,
    and a package that cannot be read is skipped (and kept) without losing the others."""
    try:
        packages = [
            package
            for shipment in convert.objects(body["trackResponse"]["shipment"])
            for package in convert.objects(shipment.get("package"))
            if package.get("trackingNumber")
        ]
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise CarrierResponseError(
            f"ups track response unreadable: {exc}", carrier=CARRIER
        ) from exc
    return convert.read_each(CARRIER, "package", packages, parse_package)[0]


def _alert_event(body: dict) -> TrackingEvent:
    return _event(
        body.get("activityStatus") or {},
        body.get("activityLocation") or {},
        (body.get("localActivityDate"), body.get("localActivityTime"), body.get("gmtOffset")),
        (body.get("gmtActivityDate"), body.get("gmtActivityTime")),
    )


def parse_alert(body: dict) -> TrackingUpdate:
    """One Track Alert webhook (UPSTrackAlert.yaml TrackingEventRequest) as an update; an
    activity that cannot be read is kept on the update as unreadable. `receivedBy` and the
    base64 `deliveryPhoto` (both for enhanced subscriptions only) are the proof of delivery."""
    events, unreadable = convert.read_each(CARRIER, "alert activity", [body], _alert_event)
    zone = events[0].occurred_at.tzinfo if events else UTC
    estimated = _estimate(body.get("scheduledDeliveryDate"), body.get("deliveryEndTime"), zone)  # type: ignore[arg-type]
    pod = ProofOfDelivery(
        signed_by=(body.get("receivedBy") or "").strip(), photo=body.get("deliveryPhoto") or ""
    )
    return TrackingUpdate(
        carrier=CARRIER,
        tracking_number=body["trackingNumber"],
        events=tuple(events),
        estimated_delivery=estimated,
        proof_of_delivery=pod if pod != ProofOfDelivery() else None,
        unreadable=unreadable,
    )


def parse_alerts(body: Any) -> list[TrackingUpdate]:
    """A Track Alert webhook body (one alert or a list); an alert that cannot be read is
    skipped (and kept) without losing the others."""
    return convert.read_each(CARRIER, "alert", as_list(body), parse_alert)[0]


def build_subscription(tracking_numbers: list[str], url: str, credential: str) -> dict:
    return {
        "locale": "en_US",
        "countryCode": "US",
        "trackingNumberList": list(tracking_numbers),
        "destination": {"url": url, "credentialType": "Bearer", "credential": credential},
    }


def parse_subscription(body: dict) -> tuple[list[str], list[str]]:
    """(subscribed, refused) tracking numbers."""
    return list(body.get("validTrackingNumbers", [])), list(body.get("invalidTrackingNumbers", []))


# -- rating and shipping ------------------------------------------------------------------


def _address(address: Address) -> dict:
    lines = [line for line in (address.line1, address.line2) if line]
    return {
        "AddressLine": lines,
        "City": address.city,
        "StateProvinceCode": address.state,
        "PostalCode": address.postal_code,
        "CountryCode": address.country,
    }


def _party(address: Address, **extra: Any) -> dict:
    party = {
        "Name": address.company or address.name,
        "AttentionName": address.name,
        "Address": _address(address),
        **extra,
    }
    if address.phone:
        party["Phone"] = {"Number": address.phone}
    return party


def _ship_to(address: Address) -> dict:
    party = _party(address)
    if address.residential:
        party["Address"]["ResidentialAddressIndicator"] = "Y"
    return party


def _packages(request: ShipmentRequest, packaging_key: str) -> list[dict]:
    metric = not convert.imperial(request.shipper.country)
    weight_unit, length_unit = ("KGS", "CM") if metric else ("LBS", "IN")
    packages = []
    for parcel in request.parcels:
        package: dict[str, Any] = {
            packaging_key: {"Code": units.CUSTOMER_SUPPLIED_PACKAGE},
            "PackageWeight": {
                "UnitOfMeasurement": {"Code": weight_unit},
                "Weight": convert.weight(parcel, weight_unit),
            },
        }
        if convert.has_dimensions(parcel):
            package["Dimensions"] = {
                "UnitOfMeasurement": {"Code": length_unit},
                **{
                    key: convert.length(mm, length_unit)
                    for key, mm in (
                        ("Length", parcel.length_mm),
                        ("Width", parcel.width_mm),
                        ("Height", parcel.height_mm),
                    )
                },
            }
        packages.append(package)
    return packages


def service_code(service: str) -> str:
    """A shipflow service name ("ground") or a raw UPS code ("03") as UPS's code."""
    return units.SERVICE_CODES.get(service, service)


def service_name(code: str) -> str:
    return units.SERVICES[code][0] if code in units.SERVICES else code


def _account_party(request: ShipmentRequest, shipper_number: str) -> dict:
    """UPS's Shipper is the account holder: the sender, or for a return the recipient."""
    home = request.recipient if request.is_return else request.shipper
    return _party(home, ShipperNumber=shipper_number)


def build_rate_request(request: ShipmentRequest, shipper_number: str) -> dict:
    shipment: dict[str, Any] = {
        "Shipper": _account_party(request, shipper_number),
        "ShipFrom": _party(request.shipper),
        "ShipTo": _ship_to(request.recipient),
        "Package": _packages(request, "PackagingType"),
        "ShipmentRatingOptions": {"NegotiatedRatesIndicator": "Y"},
    }
    if request.service:
        shipment["Service"] = {"Code": service_code(request.service)}
    return {
        "RateRequest": {
            "Request": {"TransactionReference": {"CustomerContext": request.reference}},
            "Shipment": shipment,
        }
    }


def _charge(node: dict) -> Any:
    return convert.money(node["MonetaryValue"], node["CurrencyCode"])


def _price(rated: dict) -> Any:
    """Negotiated (account) rates win over published ones when UPS returns both."""
    negotiated = (rated.get("NegotiatedRateCharges") or {}).get("TotalCharge")
    return _charge(negotiated or rated["TotalCharges"])


def _transit(rated: dict) -> tuple[int | None, date | None]:
    summary = ((rated.get("TimeInTransit") or {}).get("ServiceSummary") or {}).get(
        "EstimatedArrival"
    ) or {}
    days = summary.get("BusinessDaysInTransit") or (rated.get("GuaranteedDelivery") or {}).get(
        "BusinessDaysInTransit"
    )
    arrival = (summary.get("Arrival") or {}).get("Date")
    return (
        int(days) if days else None,
        datetime.strptime(arrival, "%Y%m%d").date() if arrival else None,
    )


def _quote(rated: dict) -> RateQuote:
    days, arrival = _transit(rated)
    return RateQuote(
        carrier=CARRIER,
        service=service_name(rated["Service"]["Code"]),
        price=_price(rated),
        transit_days=days,
        estimated_delivery=arrival,
    )


def parse_rate_response(body: dict) -> list[RateQuote]:
    """Every rated service; one that cannot be read is skipped, the others quoted."""
    try:
        rated = convert.objects(body["RateResponse"]["RatedShipment"])
    except (KeyError, TypeError) as exc:
        raise CarrierResponseError(f"ups rate response unreadable: {exc}", carrier=CARRIER) from exc
    return convert.read_each(CARRIER, "rate", rated, _quote)[0]


def build_ship_request(request: ShipmentRequest, shipper_number: str, label_format: str) -> dict:
    shipment: dict[str, Any] = {
        "Description": request.reference or "Merchandise",
        "Shipper": _account_party(request, shipper_number),
        "ShipFrom": _party(request.shipper),
        "ShipTo": _ship_to(request.recipient),
        "PaymentInformation": {
            "ShipmentCharge": [{"Type": "01", "BillShipper": {"AccountNumber": shipper_number}}]
        },
        "Service": {"Code": service_code(request.service)},
        "Package": _packages(request, "Packaging"),
        "ShipmentRatingOptions": {"NegotiatedRatesIndicator": "Y"},
    }
    if request.reference:
        shipment["ReferenceNumber"] = {"Value": request.reference[:35]}
    if request.is_return:
        shipment["ReturnService"] = {"Code": units.PRINT_RETURN_LABEL}
        for package in shipment["Package"]:
            package["Description"] = shipment["Description"]
    if request.signature_required and not request.is_return:
        _require_signature(shipment, domestic=request.shipper.country == request.recipient.country)
    return {
        "ShipmentRequest": {
            "Request": {
                "RequestOption": "nonvalidate",
                "TransactionReference": {"CustomerContext": request.reference},
            },
            "Shipment": shipment,
            "LabelSpecification": {
                "LabelImageFormat": {"Code": label_format},
                "LabelStockSize": {"Height": "6", "Width": "4"},
            },
        }
    }


def _require_signature(shipment: dict, domestic: bool) -> None:
    if domestic:
        confirmation = {"DeliveryConfirmation": {"DCISType": units.SIGNATURE_PACKAGE_LEVEL}}
        for package in shipment["Package"]:
            package["PackageServiceOptions"] = confirmation
    else:
        shipment["ShipmentServiceOptions"] = {
            "DeliveryConfirmation": {"DCISType": units.SIGNATURE_SHIPMENT_LEVEL}
        }


def parse_ship_response(body: dict, service: str) -> Label:
    try:
        results = body["ShipmentResponse"]["ShipmentResults"]
        package = as_list(results["PackageResults"])[0]
        image = package["ShippingLabel"]
        charges = results.get("NegotiatedRateCharges", {}).get("TotalCharge") or (
            results.get("ShipmentCharges", {}).get("TotalCharges")
        )
        return Label(
            carrier=CARRIER,
            service=service,
            tracking_number=package["TrackingNumber"],
            label_format=image["ImageFormat"]["Code"],
            label_data=base64.b64decode(image["GraphicImage"], validate=True),
            price=convert.read_optional(CARRIER, "label price", charges, _charge),
            carrier_shipment_id=results["ShipmentIdentificationNumber"],
        )
    except (KeyError, IndexError, TypeError, ValueError, AttributeError, binascii.Error) as exc:
        raise CarrierResponseError(f"ups ship response unreadable: {exc}", carrier=CARRIER) from exc


def void_succeeded(body: dict) -> bool:
    """VoidShipmentResponse.SummaryResult.Status.Code "1" means voided."""
    try:
        return body["VoidShipmentResponse"]["SummaryResult"]["Status"]["Code"] == "1"
    except (KeyError, TypeError, AttributeError) as exc:
        raise CarrierResponseError(f"ups void response unreadable: {exc}", carrier=CARRIER) from exc
