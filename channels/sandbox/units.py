"""The sandbox shop's codes in shipflow's terms: its webhook topics (prices are decimal
strings in major units, like most platforms: `channels.money`)."""

from __future__ import annotations

from channels.base import Topic

TOPICS = {
    "orders/create": Topic.ORDER_CREATED,
    "orders/paid": Topic.ORDER_PAID,
    "orders/updated": Topic.ORDER_UPDATED,
    "orders/cancelled": Topic.ORDER_CANCELLED,
    "app/uninstalled": Topic.UNINSTALLED,
}
