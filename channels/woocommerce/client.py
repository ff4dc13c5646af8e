"""WooCommerce REST API v3 calls (I/O only), authorised with the store's consumer key and
secret as HTTP Basic, which the docs prescribe over HTTPS."""

from __future__ import annotations

from typing import Any

from channels.base import ChannelAccount, ChannelResponseError
from channels.http import ChannelHTTPClient
from channels.woocommerce.mapping import error_message

API = "/wp-json/wc/v3"


class WooCommerceClient:
    def __init__(self, account: ChannelAccount) -> None:
        credentials = account.credentials
        self.http = ChannelHTTPClient(
            "woocommerce",
            f"{account.shop.rstrip('/')}{API}",
            error_message=error_message,
            auth=(credentials.get("consumer_key", ""), credentials.get("consumer_secret", "")),
        )

    def orders_page(self, params: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
        """One page of orders and `X-WP-TotalPages` (how many pages the query has)."""
        response = self.http.request("GET", "/orders", params=params)
        try:
            orders = response.json()
            pages = int(response.headers.get("X-WP-TotalPages", "1"))
        except ValueError:
            orders = None
        if not isinstance(orders, list):
            raise ChannelResponseError(
                f"woocommerce order list unreadable: {response.text[:200]!r}",
                channel="woocommerce",
            )
        return orders, pages

    def order(self, order_id: str) -> dict[str, Any]:
        return self.http.json("GET", f"/orders/{order_id}")

    def update_order(self, order_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return self.http.json("PUT", f"/orders/{order_id}", json=body)

    def notes(self, order_id: str) -> list[dict[str, Any]]:
        return self.http.json("GET", f"/orders/{order_id}/notes")

    def add_note(self, order_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return self.http.json("POST", f"/orders/{order_id}/notes", json=body)

    def refunds(self, order_id: str) -> list[dict[str, Any]]:
        return self.http.json("GET", f"/orders/{order_id}/refunds")

    def add_refund(self, order_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return self.http.json("POST", f"/orders/{order_id}/refunds", json=body)

    def webhooks(self) -> list[dict[str, Any]]:
        return self.http.json("GET", "/webhooks", params={"per_page": 100})

    def add_webhook(self, body: dict[str, Any]) -> dict[str, Any]:
        return self.http.json("POST", "/webhooks", json=body)

    def update_webhook(self, webhook_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return self.http.json("PUT", f"/webhooks/{webhook_id}", json=body)
