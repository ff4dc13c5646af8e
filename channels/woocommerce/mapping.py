"""WooCommerce REST API v3 JSON <-> the channel's data types (pure functions).

Orders follow the v3 order schema (woocommerce.github.io/woocommerce-rest-api-docs,
"Order properties"). Times without an offset: `*_gmt` fields are UTC, the others are the
site's local time, so only `*_gmt` is read. Line items carry no weight (it lives on the
product), so `weight_g` stays None; their `price` is what PHP divides out, total / quantity
(3.3333333333333335), so it is rounded to the currency's minor units."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from channels import lenient
from channels.base import Fulfilment, FulfilmentEvent, InboundOrder, Refund
from channels.money import major_units
from channels.woocommerce.units import (
    CASH_ON_DELIVERY,
    LANGUAGE_META_KEY,
    PAID_BY_THIS_UPDATE_SECONDS,
    PICKUP_METHODS,
    REFUND_KEY_META,
    SHIPMENT_TRACKING_KEY,
    SHOP_LOCATION,
    STATUSES,
    OrderState,
)
from shipflow.domain import Address, PickupPoint

ADDRESS_FIELDS = ("first_name", "last_name", "address_1", "city", "postcode", "country")


def gmt_time(value: Any) -> datetime | None:
    """ "2017-03-22T19:28:08" (a `*_gmt` field, no offset) -> an aware UTC datetime."""
    if not value:
        return None
    parsed = datetime.fromisoformat(str(value))
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def gmt_text(moment: datetime) -> str:
    """What `modified_after` takes with `dates_are_gmt=true`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def meta_value(meta_data: Any, key: str) -> Any:
    for meta in meta_data or ():
        if isinstance(meta, Mapping) and meta.get("key") == key:
            return meta.get("value")
    return None


def inbound_order(raw: dict[str, Any]) -> InboundOrder:
    """Lenient: a missing or unreadable field is named in `problems`; only a payload that
    is not an order (no `id`) raises KeyError."""
    problems: list[str] = []
    order_id = lenient.order_id(raw, "WooCommerce")
    currency = lenient.currency(raw, problems)
    billing = raw.get("billing") or {}
    ship_to = _ship_to(raw.get("shipping") or {}, billing, problems)
    state = _state(raw, problems)
    cod = raw.get("payment_method") == CASH_ON_DELIVERY
    return InboundOrder(
        source_order_id=order_id,
        order_number=str(raw.get("number") or order_id),
        currency=currency,
        ship_to=ship_to,
        lines=tuple(
            lenient.lines(raw.get("line_items"), currency, problems, _line_name, divided_price=True)
        ),
        placed_at=_time(raw, "date_created_gmt", problems),
        updated_at=_time(raw, "date_modified_gmt", problems),
        customer_name=_name(billing) or ship_to.name,
        customer_email=billing.get("email") or "",
        customer_phone=billing.get("phone") or ship_to.phone,
        language=meta_value(raw.get("meta_data"), LANGUAGE_META_KEY) or "en",
        paid=state.paid and not cod,
        cash_on_delivery=lenient.amount(raw.get("total"), currency, "total", problems)
        if cod
        else 0,
        cancelled=state.cancelled,
        shipping_method=_shipping_method(raw.get("shipping_lines"), problems),
        pickup_point=pickup_point(raw.get("shipping_lines"), ship_to.country),
        nothing_to_ship=state.nothing_to_ship,
        problems=tuple(problems),
    )


def pickup_point(shipping_lines: Any, country: str) -> PickupPoint | None:
    """A pickup at the shop's own place (`PICKUP_METHODS`): the Checkout block's location by
    its index, name and formatted address (one line, in the shop's country), or the classic
    checkout's store pickup by its title."""
    line: dict[str, Any] = next(iter(lenient.objects(shipping_lines)), {})
    method = line.get("method_id") or ""
    if method not in PICKUP_METHODS:
        return None
    meta = line.get("meta_data")
    instance = line.get("instance_id") or ""
    address = meta_value(meta, "pickup_address") or ""
    return PickupPoint(
        id=f"{method}:{instance}" if instance else method,
        name=meta_value(meta, "pickup_location") or line.get("method_title") or "",
        network=SHOP_LOCATION,
        address=Address(country=country, line1=address, residential=False) if address else None,
    )


def deleted_order(raw: dict[str, Any]) -> InboundOrder:
    """`order.deleted` sends only `{"id": ...}`: enough to find and cancel our order."""
    order_id = lenient.order_id(raw, "WooCommerce")
    return InboundOrder(
        source_order_id=order_id,
        order_number=order_id,
        currency="",
        ship_to=Address(country=""),
        lines=(),
        cancelled=True,
        problems=("order deleted in the shop: only its id was sent",),
    )


def paid_by_this_update(raw: dict[str, Any]) -> bool:
    """Whether the payment is what this `order.updated` is about (pending -> processing):
    WooCommerce saves `date_paid_gmt` in the same save that changes the status."""
    try:
        paid, modified = gmt_time(raw.get("date_paid_gmt")), gmt_time(raw.get("date_modified_gmt"))
    except ValueError:
        return False
    if paid is None or modified is None:
        return False
    return 0 <= (modified - paid).total_seconds() <= PAID_BY_THIS_UPDATE_SECONDS


def _state(raw: dict[str, Any], problems: list[str]) -> OrderState:
    status = raw.get("status")
    if status in STATUSES:
        return STATUSES[status]
    problems.append(f"status {status!r} is not a WooCommerce status we know")
    return OrderState(paid=bool(raw.get("date_paid_gmt")))


def _ship_to(shipping: dict[str, Any], billing: dict[str, Any], problems: list[str]) -> Address:
    """The shipping address; WooCommerce leaves it empty when the customer ships to the
    billing address (or the store does not ask for one), so fall back to billing."""
    source = shipping if any(shipping.get(f) for f in ("address_1", "postcode")) else billing
    for field in ADDRESS_FIELDS:
        if field in ("first_name", "last_name"):
            continue
        if not source.get(field):
            problems.append(f"shipping.{field} missing")
    return Address(
        country=(source.get("country") or "").upper(),
        postal_code=source.get("postcode") or "",
        city=source.get("city") or "",
        state=source.get("state") or "",
        line1=source.get("address_1") or "",
        line2=source.get("address_2") or "",
        name=_name(source),
        company=source.get("company") or "",
        phone=shipping.get("phone") or billing.get("phone") or "",
        email=billing.get("email") or "",
        residential=not source.get("company"),
    )


def _name(address: dict[str, Any]) -> str:
    return " ".join(p for p in (address.get("first_name"), address.get("last_name")) if p)


def _line_name(item: dict[str, Any]) -> str:
    return item.get("name") or ""


def _time(raw: dict[str, Any], field: str, problems: list[str]) -> datetime | None:
    try:
        return gmt_time(raw.get(field))
    except ValueError:
        problems.append(f"{field} {raw.get(field)!r} is not an ISO 8601 time")
        return None


def _shipping_method(shipping_lines: Any, problems: list[str]) -> str:
    """The method's id with its instance ("flat_rate:3": one zone's flat rate), else its
    title; an order of virtual goods has none and needs no shipping method."""
    for line in lenient.objects(shipping_lines):
        method = line.get("method_id") or ""
        instance = line.get("instance_id") or ""
        if method:
            return f"{method}:{instance}" if instance else method
        if line.get("method_title"):
            return str(line["method_title"])
    if shipping_lines:
        problems.append("shipping_lines[0].method_id missing")
    return ""


# --- write-back -------------------------------------------------------------------------


def tracking_item(fulfilment: Fulfilment, shipped_at: datetime) -> dict[str, Any]:
    """One item of the Shipment Tracking extension's `_wc_shipment_tracking_items`: a
    custom provider (our carrier's name) with our branded tracking page as its link."""
    return {
        "tracking_provider": "",
        "custom_tracking_provider": fulfilment.carrier_name or fulfilment.carrier,
        "custom_tracking_link": fulfilment.tracking_url,
        "tracking_number": fulfilment.tracking_number,
        "date_shipped": str(int(shipped_at.timestamp())),
        "tracking_id": hashlib.md5(
            fulfilment.idempotency_key.encode(), usedforsecurity=False
        ).hexdigest(),
    }


def tracking_items(order: dict[str, Any]) -> list[dict[str, Any]]:
    items = meta_value(order.get("meta_data"), SHIPMENT_TRACKING_KEY)
    return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []


def completed_order_json(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "status": "completed",
        "meta_data": [{"key": SHIPMENT_TRACKING_KEY, "value": items}],
    }


def fulfilment_note(fulfilment: Fulfilment) -> dict[str, Any]:
    """A customer note: WooCommerce e-mails it to the customer and shows it on the order."""
    carrier = fulfilment.carrier_name or fulfilment.carrier
    text = f"Your order has shipped with {carrier}, tracking number {fulfilment.tracking_number}."
    if fulfilment.tracking_url:
        text += f" Track it: {fulfilment.tracking_url}"
    return {"note": text, "customer_note": True}


def event_note(event: FulfilmentEvent) -> dict[str, Any]:
    """A private note per milestone: the order's timeline for the shop's staff."""
    where = ", ".join(p for p in (event.city, event.country) if p)
    text = (
        f"Parcel {event.tracking_number}: {event.status.value.replace('_', ' ')}"
        f"{' (delayed)' if event.delayed else ''}"
        f"{f' at {where}' if where else ''}, {event.occurred_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC."
    )
    if event.estimated_delivery is not None:
        text += f" Estimated delivery {event.estimated_delivery:%Y-%m-%d}."
    if event.message:
        text += f" {event.message}"
    return {"note": text, "customer_note": False}


def refund_json(refund: Refund) -> dict[str, Any]:
    """`amount` takes precedence over line totals; lines name what is restocked. The
    payment gateway refunds the money (`api_refund`), as the brand opted in for."""
    return {
        "amount": major_units(refund.amount, refund.currency),
        "reason": refund.note or "Return received",
        "api_refund": True,
        "line_items": [{"id": line_id, "quantity": qty} for line_id, qty in refund.lines],
        "meta_data": [{"key": REFUND_KEY_META, "value": refund.idempotency_key}],
    }


def error_message(body: Any) -> str:
    """WordPress and WooCommerce errors: `{"code", "message", "data": {"status"}}`."""
    return f"{body.get('message', '')} ({body.get('code', '')})"
