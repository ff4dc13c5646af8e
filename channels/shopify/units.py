"""Shopify's codes in shipflow's terms: webhook topics, financial statuses, weight units,
cash-on-delivery gateways and the fulfilment event statuses we write back.

Sources: webhook topics (shopify.dev/docs/api/webhooks), `Order.financial_status` of the
REST Order resource and `OrderDisplayFinancialStatus` (GraphQL), `WeightUnit`,
`FulfillmentEventStatus` (shopify.dev/docs/api/admin-graphql/2025-10/enums/...)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from channels.base import Topic
from shipflow.domain import Status

API_VERSION = "2025-10"  # the Admin API version every call and webhook payload uses

TOPICS = {
    "orders/create": Topic.ORDER_CREATED,
    "orders/paid": Topic.ORDER_PAID,
    "orders/updated": Topic.ORDER_UPDATED,
    "orders/cancelled": Topic.ORDER_CANCELLED,
    "app/uninstalled": Topic.UNINSTALLED,
}
# The same topics as the GraphQL `WebhookSubscriptionTopic` enum names them.
SUBSCRIPTION_TOPICS = {
    "ORDERS_CREATE": "orders/create",
    "ORDERS_PAID": "orders/paid",
    "ORDERS_UPDATED": "orders/updated",
    "ORDERS_CANCELLED": "orders/cancelled",
    "APP_UNINSTALLED": "app/uninstalled",
}

# financial_status (REST, lower case) / displayFinancialStatus (GraphQL, upper case) ->
# whether the payment is captured or authorized. Refunds happen after payment.
PAID = {
    "authorized": True,
    "paid": True,
    "partially_paid": True,
    "partially_refunded": True,
    "refunded": True,
    "pending": False,
    "expired": False,
    "voided": False,
}

# Shopify's manual payment method for cash on delivery, as `payment_gateway_names` lists it.
CASH_ON_DELIVERY_GATEWAYS = frozenset({"cash on delivery (cod)", "cash_on_delivery", "cod"})

GRAMS_PER = {
    "GRAMS": Decimal(1),
    "KILOGRAMS": Decimal(1000),
    "OUNCES": Decimal("28.349523125"),
    "POUNDS": Decimal("453.59237"),
}

# Our milestone -> the FulfillmentEventStatus the shop's order timeline shows. Statuses
# without an entry (expired, cancelled) are not written back.
EVENT_STATUS = {
    Status.PENDING: "LABEL_PURCHASED",
    Status.INFO_RECEIVED: "CONFIRMED",
    Status.IN_TRANSIT: "IN_TRANSIT",
    Status.OUT_FOR_DELIVERY: "OUT_FOR_DELIVERY",
    Status.ATTEMPT_FAILED: "ATTEMPTED_DELIVERY",
    Status.AVAILABLE_FOR_PICKUP: "READY_FOR_PICKUP",
    Status.DELIVERED: "DELIVERED",
    Status.EXCEPTION: "FAILURE",
    Status.RETURNING_TO_SENDER: "FAILURE",
    Status.RETURNED_TO_SENDER: "FAILURE",
}
# A late parcel still moving is shown as DELAYED instead.
DELAYABLE = frozenset({"CONFIRMED", "IN_TRANSIT"})


def event_status(status: Status, delayed: bool) -> str | None:
    shopify = EVENT_STATUS.get(status)
    return "DELAYED" if delayed and shopify in DELAYABLE else shopify


def grams(value: str | int | float, unit: str) -> int:
    try:
        return round(Decimal(str(value)) * GRAMS_PER[unit.upper()])
    except (InvalidOperation, KeyError):
        raise ValueError(f"weight {value!r} {unit!r} unreadable") from None


# `DeliveryMethodType` values whose parcel the customer collects: at a pickup point (a
# locker, a convenience store) or at one of the shop's own locations.
PICKUP_POINT = "PICKUP_POINT"
PICK_UP = "PICK_UP"
SHOP_LOCATION = "shop location"  # `PickupPoint.network` of a PICK_UP at the shop's location

# Countries whose addresses have no postal code: a missing `zip` there is not a problem.
NO_POSTAL_CODE = frozenset({"HK", "MO", "AE", "QA", "JM", "BS", "FJ"})
