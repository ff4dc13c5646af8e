"""SHOPLINE's codes in shipflow's terms (the SHOPLINE Open Platform, developer.shopline.com,
Admin REST API and webhooks, version `API_VERSION`)."""

from __future__ import annotations

from channels.base import Topic
from shipflow.domain import Status

API_VERSION = "v20251201"

# Webhook topics (`X-Shopline-Topic`) we subscribe to and read.
TOPICS = {
    "orders/create": Topic.ORDER_CREATED,
    "orders/paid": Topic.ORDER_PAID,
    "orders/updated": Topic.ORDER_UPDATED,
    "orders/edited": Topic.ORDER_UPDATED,
    "orders/cancelled": Topic.ORDER_CANCELLED,
    "orders/delete": Topic.ORDER_CANCELLED,  # deleted in the admin (the whole order is sent)
    "apps/installed_uninstalled": Topic.UNINSTALLED,  # only with `"operate": "UNINSTALL"`
}

# `financial_status`: (paid, refunded). Anything else is kept, named as a problem, unpaid.
FINANCIAL_STATUSES = {
    "unpaid": (False, False),
    "pending": (False, False),  # payment in progress
    "partially_paid": (False, False),  # not all of it: not yet shippable on payment alone
    "authorized": (True, False),
    "paid": (True, False),
    "partially_refunded": (True, False),
    "refunded": (True, True),
}

# `fulfillment_status` ("Get orders": unshipped, partial, shipped) -> nothing left to ship.
# A partial one is named in the order's problems, for ops to ship the rest.
FULFILLMENT_STATUSES = {"unshipped": False, "partial": False, "shipped": True}
PARTLY_SHIPPED = "partial"

CASH_ON_DELIVERY = "COD"  # in `payment_gateway_names`

# Our milestones as SHOPLINE fulfillment event statuses ("Create a fulfillment event");
# those without a counterpart (pending, expired, cancelled) are not written.
EVENT_STATUSES = {
    Status.INFO_RECEIVED: "confirmed",
    Status.IN_TRANSIT: "in_transit",
    Status.OUT_FOR_DELIVERY: "out_for_delivery",
    Status.ATTEMPT_FAILED: "attempted_delivery",
    Status.AVAILABLE_FOR_PICKUP: "ready_for_pickup",
    Status.DELIVERED: "delivered",
    Status.EXCEPTION: "failure",
    Status.RETURNING_TO_SENDER: "failure",
    Status.RETURNED_TO_SENDER: "failure",
}

# A convenience-store chain as the checkout's shipping line names it (SHOPLINE's store
# pickup gives the store in `shipping_address.delivery_store_*` but the chain only in the
# shipping method the merchant configured: "7-11 超商取貨付款", "全家取貨"): the name
# people read (`PickupPoint.network`) and the chain as carriers match it (`PickupPoint.chain`,
# ECPay's LogisticsSubType; any subtype of a chain matches that chain's services).
STORE_CHAINS = (
    ("7-ELEVEN", "UNIMART", ("7-eleven", "7-11", "統一超商")),
    ("FamilyMart", "FAMI", ("familymart", "family mart", "全家")),
    ("Hi-Life", "HILIFE", ("hi-life", "hilife", "萊爾富")),
    ("OK mart", "OKMARTC2C", ("ok mart", "okmart", "ok超商")),
)


def store_chain(shipping_method: str) -> tuple[str, str]:
    """(network, chain) of the store chain the shipping method names; empty if none."""
    text = shipping_method.casefold()
    return next(
        (
            (network, chain)
            for network, chain, words in STORE_CHAINS
            if any(w in text for w in words)
        ),
        ("", ""),
    )
