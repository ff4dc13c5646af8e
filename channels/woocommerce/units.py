"""WooCommerce's codes in shipflow's terms (REST API v3, woocommerce.github.io/
woocommerce-rest-api-docs): webhook topics, order statuses and payment methods."""

from __future__ import annotations

from dataclasses import dataclass

from channels.base import Topic

# The webhook topics we subscribe to (`X-WC-Webhook-Topic`); `order.updated` is refined by
# the order's status in `source.topic_of`.
TOPICS = {
    "order.created": Topic.ORDER_CREATED,
    "order.updated": Topic.ORDER_UPDATED,
    "order.deleted": Topic.ORDER_CANCELLED,  # moved to the trash: only `{"id": ...}` is sent
}


@dataclass(frozen=True, slots=True)
class OrderState:
    paid: bool
    cancelled: bool = False
    nothing_to_ship: bool = False  # shipped already (by the shop or by us), or not placed yet


# The documented statuses. Plugins add their own ("shipped", "partial-shipped", ...):
# those are kept and read by whether WooCommerce recorded a payment (`date_paid_gmt`).
STATUSES = {
    "pending": OrderState(paid=False),  # awaiting payment
    "on-hold": OrderState(paid=False),  # awaiting a bank transfer or cheque
    "processing": OrderState(paid=True),  # paid, to ship
    "completed": OrderState(paid=True, nothing_to_ship=True),  # "fulfilled and complete"
    "cancelled": OrderState(paid=False, cancelled=True),
    "refunded": OrderState(paid=True, cancelled=True),  # money returned: do not ship
    "failed": OrderState(paid=False),  # the payment failed; the customer may pay again
    "trash": OrderState(paid=False, cancelled=True),
    # The Checkout block's draft: a checkout in progress, not an order the customer placed.
    "checkout-draft": OrderState(paid=False, nothing_to_ship=True),
}

CASH_ON_DELIVERY = "cod"  # WooCommerce's built-in "Cash on delivery" gateway id

# How long before `date_modified_gmt` a payment counts as what this update was about.
PAID_BY_THIS_UPDATE_SECONDS = 60

# The "Shipment Tracking" extension's order meta key: a list of tracking items that its
# and other plugins' (Advanced Shipment Tracking, TrackShip) customer e-mails and
# My Account pages show.
SHIPMENT_TRACKING_KEY = "_wc_shipment_tracking_items"

# WPML (WooCommerce Multilingual) records the language the customer ordered in.
LANGUAGE_META_KEY = "wpml_language"

# Refund meta we write so a refund repeated by the outbox is found instead of made twice.
REFUND_KEY_META = "_shipflow_idempotency_key"

# Shipping methods whose parcel the customer collects at one of the shop's own places:
# WooCommerce core's "Local pickup" of the Checkout block (`pickup_location`, instance = the
# location's index; its shipping line's `meta_data` names it: `pickup_location`,
# `pickup_address`, `pickup_details`) and the classic checkout's `local_pickup` (the shop).
PICKUP_METHODS = frozenset({"pickup_location", "local_pickup"})
SHOP_LOCATION = "shop location"  # `PickupPoint.network` of a pickup at the shop's own place
