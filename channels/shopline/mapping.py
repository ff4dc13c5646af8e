"""SHOPLINE Admin REST API JSON <-> the channel's data types (pure functions).

Orders follow the order object of "Get orders" and the `orders/*` webhooks (the same
shape): ids are strings, money is a decimal string in the store currency (`"1290.00"` TWD,
`"388.50"` HKD), times are ISO 8601 with an offset. A Taiwan "Deliver to Store" order
names the convenience store in `shipping_address.delivery_store_code`/`_name`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from channels import lenient
from channels.base import Fulfilment, FulfilmentEvent, InboundOrder, Refund
from channels.money import major_units, minor_units, take_from
from channels.shopline.units import (
    CASH_ON_DELIVERY,
    EVENT_STATUSES,
    FINANCIAL_STATUSES,
    FULFILLMENT_STATUSES,
    PARTLY_SHIPPED,
    store_chain,
)
from shipflow.domain import Address, PickupPoint

REQUIRED_ADDRESS = ("address1", "city", "zip", "country_code")


def time(value: Any, field: str, problems: list[str]) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        problems.append(f"{field} {value!r} is not an ISO 8601 time")
        return None
    if parsed.tzinfo is None:  # documented with an offset; read one without as UTC
        problems.append(f"{field} {value!r} has no UTC offset; read as UTC")
        return parsed.replace(tzinfo=UTC)
    return parsed


def inbound_order(raw: dict[str, Any]) -> InboundOrder:
    """Lenient: a missing or unreadable field is named in `problems`; only a payload that
    is not an order (no `id`) raises KeyError."""
    problems: list[str] = []
    order_id = lenient.order_id(raw, "SHOPLINE")
    currency = lenient.currency(raw, problems)
    shipping = raw.get("shipping_address") or {}
    method = _shipping_method(raw.get("shipping_lines"))
    pickup = pickup_point(shipping, method)
    paid, refunded = _financial(raw.get("financial_status"), problems)
    cod = CASH_ON_DELIVERY in (raw.get("payment_gateway_names") or ())
    total = raw.get("current_total_price") or raw.get("total_price")
    customer = raw.get("customer") or {}
    items = raw.get("line_items")
    lines = tuple(lenient.lines(items, currency, problems, _line_name, _grams))
    shipped = _shipped(raw.get("fulfillment_status"), problems)
    nothing_to_ship = shipped or lenient.nothing_ships(items)
    return InboundOrder(
        source_order_id=order_id,
        order_number=str(raw.get("name") or order_id),
        currency=currency,
        ship_to=_address(
            shipping,
            raw.get("email") or "",
            () if nothing_to_ship else ("country_code",) if pickup else REQUIRED_ADDRESS,
            problems,
        ),
        lines=lines,
        placed_at=time(raw.get("created_at"), "created_at", problems),
        updated_at=time(raw.get("updated_at"), "updated_at", problems),
        customer_name=_name(customer) or _name(shipping),
        customer_email=raw.get("email") or customer.get("email") or "",
        customer_phone=raw.get("phone") or customer.get("phone") or shipping.get("phone") or "",
        language=language(raw.get("customer_locale")),
        paid=paid and not cod,
        cash_on_delivery=lenient.amount(total, currency, "total_price", problems) if cod else 0,
        cancelled=bool(raw.get("cancelled_at")) or refunded,
        shipping_method=method,
        pickup_point=pickup,
        location_id=next(
            (
                str(i["location_id"])
                for i in lenient.objects(raw.get("line_items"))
                if i.get("location_id")
            ),
            "",
        ),
        nothing_to_ship=nothing_to_ship,
        problems=tuple(problems),
    )


def pickup_point(shipping: dict[str, Any], shipping_method: str) -> PickupPoint | None:
    """The convenience store of a Taiwan "Deliver to Store" order; its chain from the
    checkout's shipping method (the address does not name it)."""
    code = shipping.get("delivery_store_code")
    if not code:
        return None
    network, chain = store_chain(shipping_method)
    return PickupPoint(
        id=str(code), name=shipping.get("delivery_store_name") or "", network=network, chain=chain
    )


def language(locale: Any) -> str:
    """`customer_locale` is language + region ("enCA", "zh-TW", "zh-hant-tw"): our
    message languages are "zh-Hant" for Taiwan and Hong Kong, "zh-Hans" for other Chinese."""
    text = str(locale or "").replace("_", "-").lower()
    if not text:
        return "en"
    if text.startswith("zh"):
        return (
            "zh-Hant" if any(tag in text[2:] for tag in ("tw", "hk", "mo", "hant")) else ("zh-Hans")
        )
    return text[:2]


def _financial(status: Any, problems: list[str]) -> tuple[bool, bool]:
    if status in FINANCIAL_STATUSES:
        return FINANCIAL_STATUSES[status]
    problems.append(f"financial_status {status!r} is not a SHOPLINE status we know")
    return False, False


def _shipped(status: Any, problems: list[str]) -> bool:
    """Whether the store has shipped the whole order already (nothing left for us)."""
    if status is None:
        return False
    if status not in FULFILLMENT_STATUSES:
        problems.append(f"fulfillment_status {status!r} is not a SHOPLINE status we know")
    elif status == PARTLY_SHIPPED:
        problems.append("fulfillment_status 'partial': part of it shipped in the store already")
    return FULFILLMENT_STATUSES.get(status, False)


def _address(
    shipping: dict[str, Any], email: str, required: tuple[str, ...], problems: list[str]
) -> Address:
    """`required`: a store pickup needs only the recipient (the store is the destination), an
    order with nothing to ship no address at all."""
    for field in required:
        if not shipping.get(field):
            problems.append(f"shipping_address.{field} missing")
    return Address(
        country=(shipping.get("country_code") or "").upper(),
        postal_code=shipping.get("zip") or "",
        city=shipping.get("city") or "",
        state=shipping.get("province_code") or shipping.get("province") or "",
        line1=shipping.get("address1") or "",
        line2=shipping.get("address2") or "",
        name=_name(shipping),
        company=shipping.get("company") or "",
        phone=shipping.get("phone") or "",
        email=email,
        residential=not shipping.get("company"),
    )


def _name(who: dict[str, Any]) -> str:
    return who.get("name") or " ".join(
        p for p in (who.get("first_name"), who.get("last_name")) if p
    )


def _line_name(item: dict[str, Any]) -> str:
    return item.get("title") or item.get("name") or ""


def _grams(item: dict[str, Any]) -> int | None:
    grams = item.get("grams")
    return round(grams) if isinstance(grams, int | float) and grams > 0 else None


def _shipping_method(shipping_lines: Any) -> str:
    for line in lenient.objects(shipping_lines):
        if line.get("code") or line.get("title"):
            return str(line.get("code") or line.get("title"))
    return ""


def is_uninstall(raw: dict[str, Any]) -> bool:
    return raw.get("operate") == "UNINSTALL"


# --- write-back -------------------------------------------------------------------------


def fulfilment_json(fulfilment: Fulfilment) -> dict[str, Any]:
    """ "Create a fulfillment based on an order" for the whole order, the customer told; the
    tracking in `tracking_info_list` (the single `tracking_*` fields are deprecated since
    v20250601)."""
    return {
        "fulfillment": {
            "tracking_info_list": [
                {
                    "tracking_company": fulfilment.carrier_name or fulfilment.carrier,
                    "tracking_number": fulfilment.tracking_number,
                    "tracking_url": fulfilment.tracking_url,
                }
            ],
            "notify_customer": True,
        }
    }


def tracking_numbers(fulfillment: dict[str, Any]) -> set[str]:
    """A fulfillment's tracking numbers, in the deprecated field or the list."""
    listed = {t.get("tracking_number") for t in fulfillment.get("tracking_info_list") or ()}
    return {n for n in (*listed, fulfillment.get("tracking_number")) if n}


def event_json(event: FulfilmentEvent) -> dict[str, Any] | None:
    """A fulfillment event, or None for a milestone SHOPLINE has no status for."""
    status = EVENT_STATUSES.get(event.status)
    if status is None:
        return None
    body: dict[str, Any] = {
        "status": status,
        "happened_at": event.occurred_at.isoformat(),
        "city": event.city,
        "country": event.country,
        "message": event.message[:512],
    }
    if event.estimated_delivery is not None:
        body["estimated_delivery_at"] = event.estimated_delivery.isoformat()
    return body


def refund_lines(refund: Refund) -> list[dict[str, Any]]:
    """The returned lines (`type` Returned), stock left to the warehouse; the refund trial
    documents the line id as a string."""
    return [
        {"line_item_id": line_id, "quantity": quantity, "type": "Returned"}
        for line_id, quantity in refund.lines
    ]


def refund_json(refund: Refund, suggested: list[dict[str, Any]]) -> dict[str, Any]:
    """ "Order refund": our amount taken from the payments the refund trial suggests
    (its `transactons`, as SHOPLINE spells them), each at most its `maximum_refundable`,
    back the way it was paid (`type` true); the customer told."""
    takes = take_from(
        refund.amount,
        [minor_units(s["maximum_refundable"], refund.currency) for s in suggested],
    )
    return {
        "order_id": refund.source_order_id,
        "currency": refund.currency,
        "note": refund.marked_note,
        "notify": True,
        "refund_line_items": [  # "Order refund" documents the line id as a long
            {**line, "line_item_id": int(line["line_item_id"])} for line in refund_lines(refund)
        ],
        "transactions": [
            {
                "id": suggestion["parent_id"],
                "gateway": suggestion["gateway"],
                "kind": "refund",
                "type": True,
                "amount": major_units(take, refund.currency),
                "currency": refund.currency,
            }
            for suggestion, take in zip(suggested, takes, strict=False)
        ],
    }


def error_message(body: Any) -> str:
    """`{"errors": "Too many request"}`, `{"errors": ["..."]}`, `{"errors": {"field": [..]}}`
    or `{"message": "..."}`."""
    errors = body.get("errors") if isinstance(body, dict) else None
    if isinstance(errors, list):
        return "; ".join(str(e) for e in errors)
    if isinstance(errors, dict):
        return "; ".join(
            f"{field}: {', '.join(map(str, v)) if isinstance(v, list) else v}"
            for field, v in errors.items()
        )
    return str(errors or body.get("message") or "")
