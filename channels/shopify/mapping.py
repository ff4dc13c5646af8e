"""Shopify payloads -> the channel's data types, and our write-backs -> GraphQL variables.

Two shapes of one order arrive: the REST `Order` resource that order webhooks carry
(snake_case, numeric ids) and the GraphQL `Order` node that reconciliation lists (camelCase,
GIDs). Both become the same `InboundOrder`, keyed by the numeric id, so a webhook and a
listing of one order meet. Lenient: each missing or unreadable field is named in
`problems`; only a payload without an order id raises (ValueError)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from channels import lenient
from channels.base import Fulfilment, FulfilmentEvent, InboundLine, InboundOrder, Refund
from channels.money import major_units, minor_units, take_from
from channels.shopify.units import (
    CASH_ON_DELIVERY_GATEWAYS,
    NO_POSTAL_CODE,
    PAID,
    PICK_UP,
    PICKUP_POINT,
    SHOP_LOCATION,
    grams,
)
from shipflow.domain import Address, PickupPoint

T = TypeVar("T")
GID_PREFIX = "gid://shopify/"


def legacy_id(value: Any) -> str:
    """ "gid://shopify/Order/820982911946154508" or 820982911946154508 -> "820982911946154508"."""
    text = str(value)
    return text.rsplit("/", 1)[-1] if text.startswith(GID_PREFIX) else text


def gid(kind: str, value: str) -> str:
    return value if value.startswith(GID_PREFIX) else f"{GID_PREFIX}{kind}/{value}"


class _Reader:
    """Reads fields, noting each that is missing or unreadable instead of raising."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def need(self, value: Any, name: str) -> Any:
        if value in (None, ""):
            self.problems.append(f"{name} missing")
        return value

    def parse(self, name: str, parser: Callable[..., T], default: T, *args: Any) -> T:
        try:
            return parser(*args)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            self.problems.append(f"{name} unreadable: {exc}")
            return default

    def time(self, value: Any, name: str, *, required: bool = True) -> datetime | None:
        if value in (None, ""):
            if required:
                self.problems.append(f"{name} missing")
            return None
        parsed = self.parse(name, lambda: datetime.fromisoformat(value), None)
        if parsed is not None and parsed.tzinfo is None:
            self.problems.append(f"{name} has no UTC offset")
            return None
        return parsed

    def money(self, amount: Any, currency: str, name: str) -> int:
        if not currency:
            return 0  # the missing currency is noted once
        return self.parse(name, lambda: minor_units(amount, currency), 0)

    def address(
        self, raw: dict[str, Any] | None, name: str, keys: dict[str, str], *, needed: bool = True
    ) -> Address:
        """`keys`: our field -> the payload's (REST and GraphQL name a few differently);
        not `needed` by an order with nothing to ship (a point-of-sale sale has none)."""
        if not raw:
            if needed:
                self.problems.append(f"{name} missing")
            return Address(country="")
        country = self.need(raw.get(keys["country"]), f"{name}.{keys['country']}") or ""
        if country not in NO_POSTAL_CODE:
            self.need(raw.get("zip"), f"{name}.zip")
        return Address(
            country=country,
            postal_code=raw.get("zip") or "",
            city=raw.get("city") or "",
            state=raw.get(keys["state"]) or "",
            line1=raw.get("address1") or "",
            line2=raw.get("address2") or "",
            name=raw.get("name") or "",
            company=raw.get("company") or "",
            phone=raw.get("phone") or "",
        )

    def nothing_to_ship(self, shipping: list[tuple[str, int, int]], any_lines: bool) -> bool:
        """Whether the shop has fulfilled every line that ships already (or none ships), from
        each shipping line's (name, quantity, units not yet fulfilled); a line fulfilled in
        part of an order still to ship is named in `problems`, for ops to ship the rest."""
        if any_lines and all(left == 0 < quantity for _, quantity, left in shipping):
            return True
        self.problems.extend(
            f"{name}: {quantity - left} of {quantity} fulfilled in the shop already"
            for name, quantity, left in shipping
            if left < quantity
        )
        return False

    def payment(self, status: Any, gateways: Any, outstanding: int) -> tuple[bool, int]:
        """(paid, cash on delivery in minor units). Cash on delivery is not paid yet."""
        if any(str(g).strip().lower() in CASH_ON_DELIVERY_GATEWAYS for g in gateways or ()):
            return False, outstanding
        paid = PAID.get(str(status or "").lower())
        if paid is None:
            self.problems.append(f"financial status {status!r} unknown")
        return bool(paid), 0


REST_ADDRESS = {"country": "country_code", "state": "province_code"}
GRAPHQL_ADDRESS = {"country": "countryCodeV2", "state": "provinceCode"}


def _weight(value: Any) -> int | None:
    """Grams, or None where the shop has no weight for the product (Shopify sends 0)."""
    return value if isinstance(value, int) and value > 0 else None


def _quantity(item: dict[str, Any], current: str, original: str) -> int:
    """What is still ordered: an order edit lowers the current quantity, not the original."""
    return int(item.get(current, item[original]))


def _left_to_fulfil(item: dict[str, Any], field: str, quantity: int) -> int:
    """The line's units the shop has not fulfilled (`field`); all of them if it does not say."""
    left = item.get(field)
    return min(left, quantity) if isinstance(left, int) and left >= 0 else quantity


def _weight_grams(weight: dict[str, Any]) -> int:
    return grams(weight["value"], weight["unit"])


def order_from_webhook(raw: Any) -> InboundOrder:
    """The REST Order resource, as orders/create, paid, updated and cancelled carry it."""
    order_id = legacy_id(lenient.order_id(raw, "Shopify"))
    read = _Reader()
    currency = read.need(raw.get("currency"), "currency") or ""
    customer = raw.get("customer") or {}
    lines, shipping_lines, any_lines = [], [], False
    for i, item in lenient.line_items(raw.get("line_items"), "line_items", read.problems):
        any_lines = True
        if item.get("requires_shipping") is False or item.get("current_quantity") == 0:
            continue  # gift cards and digital goods; lines removed by an order edit
        price = ((item.get("price_set") or {}).get("shop_money") or {}).get("amount")
        quantity = read.parse(
            f"line_items[{i}].quantity", _quantity, 0, item, "current_quantity", "quantity"
        )
        lines.append(
            InboundLine(
                sku=read.need(item.get("sku"), f"line_items[{i}].sku") or "",
                quantity=quantity,
                unit_price=read.money(
                    price or item.get("price"), currency, f"line_items[{i}].price"
                ),
                name=item.get("name") or item.get("title") or "",
                weight_g=_weight(item.get("grams")),
                source_line_id=str(item.get("id") or ""),
            )
        )
        left = _left_to_fulfil(item, "fulfillable_quantity", quantity)
        shipping_lines.append((f"line_items[{i}]", quantity, left))
    nothing_to_ship = read.nothing_to_ship(shipping_lines, any_lines)
    if not lines and not nothing_to_ship:
        read.problems.append("line_items: nothing to ship")
    shipping: dict[str, Any] = next(
        (s for s in lenient.objects(raw.get("shipping_lines")) if not s.get("is_removed")), {}
    )
    outstanding = read.money(raw.get("total_outstanding") or 0, currency, "total_outstanding")
    paid, cash_on_delivery = read.payment(
        raw.get("financial_status"), raw.get("payment_gateway_names"), outstanding
    )
    return InboundOrder(
        source_order_id=order_id,
        order_number=read.need(raw.get("name"), "name") or order_id,
        currency=currency,
        ship_to=read.address(
            raw.get("shipping_address"),
            "shipping_address",
            REST_ADDRESS,
            needed=not nothing_to_ship,
        ),
        lines=tuple(lines),
        placed_at=read.time(raw.get("created_at"), "created_at"),
        updated_at=read.time(raw.get("updated_at"), "updated_at", required=False),
        customer_name=" ".join(
            filter(None, (customer.get("first_name"), customer.get("last_name")))
        ),
        customer_email=raw.get("email") or raw.get("contact_email") or customer.get("email") or "",
        customer_phone=raw.get("phone") or customer.get("phone") or "",
        language=raw.get("customer_locale") or "en",
        paid=paid,
        cash_on_delivery=cash_on_delivery,
        cancelled=raw.get("cancelled_at") is not None,
        shipping_method=shipping.get("code") or shipping.get("title") or "",
        location_id=str(raw.get("location_id") or ""),
        nothing_to_ship=nothing_to_ship,
        problems=tuple(read.problems),
    )


def order_from_graphql(node: Any) -> InboundOrder:
    """An `Order` node of the `orders` query (`ORDER_FIELDS` in queries.py)."""
    order_id = legacy_id(lenient.order_id(node, "Shopify"))
    read = _Reader()
    currency = read.need(node.get("currencyCode"), "currencyCode") or ""
    lines, shipping_lines, any_lines = [], [], False
    nodes = (node.get("lineItems") or {}).get("nodes")
    for i, item in lenient.line_items(nodes, "lineItems", read.problems):
        any_lines = True
        if item.get("requiresShipping") is False or item.get("currentQuantity") == 0:
            continue
        price = ((item.get("originalUnitPriceSet") or {}).get("shopMoney") or {}).get("amount")
        weight = (
            ((item.get("variant") or {}).get("inventoryItem") or {}).get("measurement") or {}
        ).get("weight")
        quantity = read.parse(
            f"lineItems[{i}].quantity", _quantity, 0, item, "currentQuantity", "quantity"
        )
        lines.append(
            InboundLine(
                sku=read.need(item.get("sku"), f"lineItems[{i}].sku") or "",
                quantity=quantity,
                unit_price=read.money(price, currency, f"lineItems[{i}].originalUnitPriceSet"),
                name=item.get("name") or "",
                weight_g=_weight(
                    read.parse(f"lineItems[{i}].weight", _weight_grams, None, weight)
                    if weight
                    else None
                ),
                source_line_id=legacy_id(item.get("id") or ""),
            )
        )
        left = _left_to_fulfil(item, "unfulfilledQuantity", quantity)
        shipping_lines.append((f"lineItems[{i}]", quantity, left))
    nothing_to_ship = read.nothing_to_ship(shipping_lines, any_lines)
    if not lines and not nothing_to_ship:
        read.problems.append("lineItems: nothing to ship")
    if ((node.get("lineItems") or {}).get("pageInfo") or {}).get("hasNextPage"):
        read.problems.append("lineItems: more lines than a listing carries; see the order")
    shipping = node.get("shippingLine") or {}
    outstanding = ((node.get("totalOutstandingSet") or {}).get("shopMoney") or {}).get("amount")
    paid, cash_on_delivery = read.payment(
        node.get("displayFinancialStatus"),
        node.get("paymentGatewayNames"),
        read.money(outstanding or 0, currency, "totalOutstandingSet"),
    )
    location = node.get("retailLocation") or {}
    return InboundOrder(
        source_order_id=order_id,
        order_number=read.need(node.get("name"), "name") or order_id,
        currency=currency,
        ship_to=read.address(
            node.get("shippingAddress"),
            "shippingAddress",
            GRAPHQL_ADDRESS,
            needed=not nothing_to_ship,
        ),
        lines=tuple(lines),
        placed_at=read.time(node.get("createdAt"), "createdAt"),
        updated_at=read.time(node.get("updatedAt"), "updatedAt", required=False),
        customer_name=(node.get("customer") or {}).get("displayName") or "",
        customer_email=node.get("email") or "",
        customer_phone=node.get("phone") or "",
        language=node.get("customerLocale") or "en",
        paid=paid,
        cash_on_delivery=cash_on_delivery,
        cancelled=node.get("cancelledAt") is not None,
        shipping_method=shipping.get("code") or shipping.get("title") or "",
        pickup_point=pickup_point(node),
        location_id=legacy_id(location["id"]) if location.get("id") else "",
        nothing_to_ship=nothing_to_ship,
        problems=tuple(read.problems),
    )


def pickup_point(node: dict[str, Any]) -> PickupPoint | None:
    """The place the customer chose to collect the order at checkout, from its first
    fulfillment order (`deliveryMethod.methodType` PICKUP_POINT or PICK_UP): the point's
    `serviceCode`, else the shipping line's `code`; its name as presented at checkout; the
    carrier network from the shipping line's `source`; the address from `destination`
    (a PICK_UP names the shop's own `destination.location`)."""
    orders = lenient.objects((node.get("fulfillmentOrders") or {}).get("nodes")) or [{}]
    method = orders[0].get("deliveryMethod") or {}
    destination = orders[0].get("destination") or {}
    shipping = node.get("shippingLine") or {}
    kind = method.get("methodType")
    if kind not in (PICKUP_POINT, PICK_UP):
        return None
    address = Address(
        country=destination.get("countryCode") or "",
        postal_code=destination.get("zip") or "",
        city=destination.get("city") or "",
        state=destination.get("province") or "",
        line1=destination.get("address1") or "",
        line2=destination.get("address2") or "",
        residential=False,
    )
    if kind == PICK_UP:
        location = destination.get("location") or {}
        return PickupPoint(
            id=legacy_id(location.get("id") or ""),
            name=location.get("name") or method.get("presentedName") or "",
            network=SHOP_LOCATION,
            address=address,
        )
    return PickupPoint(
        id=method.get("serviceCode") or shipping.get("code") or "",
        name=method.get("presentedName") or shipping.get("title") or "",
        network=shipping.get("source") or "",
        address=address,
    )


def fulfillment_input(fulfilment: Fulfilment, fulfillment_order_ids: list[str]) -> dict:
    """`FulfillmentInput` of `fulfillmentCreate`: every open fulfillment order of the
    order, whole (no line items named), with the parcel's tracking."""
    tracking: dict[str, str] = {
        "company": fulfilment.carrier_name or fulfilment.carrier,
        "number": fulfilment.tracking_number,
    }
    if fulfilment.tracking_url:
        tracking["url"] = fulfilment.tracking_url
    return {
        "lineItemsByFulfillmentOrder": [
            {"fulfillmentOrderId": fo_id} for fo_id in fulfillment_order_ids
        ],
        "trackingInfo": tracking,
        "notifyCustomer": True,
    }


def added_parcel(fulfillment: dict[str, Any], fulfilment: Fulfilment) -> dict[str, Any]:
    """Variables of `fulfillmentTrackingInfoUpdate`: the fulfillment's tracking numbers and
    links so far, and this parcel's after them (the input replaces the whole list)."""
    known = fulfillment.get("trackingInfo") or []
    numbers = [t["number"] for t in known if t.get("number")]
    urls = [t.get("url") or "" for t in known if t.get("number")]
    return {
        "fulfillmentId": fulfillment["id"],
        "trackingInfoInput": {
            "company": fulfilment.carrier_name or fulfilment.carrier,
            "numbers": [*numbers, fulfilment.tracking_number],
            "urls": [*urls, fulfilment.tracking_url],
        },
    }


def fulfillment_event_input(event: FulfilmentEvent, status: str) -> dict:
    """`FulfillmentEventInput` of `fulfillmentEventCreate`; empty fields left out."""
    fields: dict[str, Any] = {
        "fulfillmentId": gid("Fulfillment", event.fulfilment_ref),
        "status": status,
        "happenedAt": event.occurred_at.isoformat(),
    }
    if event.estimated_delivery is not None:
        fields["estimatedDeliveryAt"] = event.estimated_delivery.isoformat()
    for key, value in (
        ("city", event.city),
        ("country", event.country),
        ("message", event.message),
    ):
        if value:
            fields[key] = value
    return fields


def refund_line_items(refund: Refund) -> list[dict[str, Any]]:
    """`RefundLineItemInput`s: the returned lines, not restocked here (the warehouse does)."""
    return [
        {"lineItemId": gid("LineItem", line_id), "quantity": quantity, "restockType": "NO_RESTOCK"}
        for line_id, quantity in refund.lines
    ]


def refund_input(refund: Refund, order_gid: str, suggested: list[dict[str, Any]]) -> dict:
    """`RefundInput` of `refundCreate`: our amount taken from the transactions Shopify
    suggests (`suggestedRefund.suggestedTransactions`), each at most its suggested amount."""
    takes = take_from(
        refund.amount,
        [minor_units(s["amountSet"]["shopMoney"]["amount"], refund.currency) for s in suggested],
    )
    transactions = [
        {
            "orderId": order_gid,
            "parentId": suggestion["parentTransaction"]["id"],
            "gateway": suggestion["gateway"],
            "kind": "REFUND",
            "amount": major_units(take, refund.currency),
        }
        for suggestion, take in zip(suggested, takes, strict=False)
    ]
    return {
        "orderId": order_gid,
        "note": refund.marked_note,
        "notify": True,
        "refundLineItems": refund_line_items(refund),
        "transactions": transactions,
    }
