"""SHOPLINE Admin REST API calls (I/O only): `https://{handle}.myshopline.com/admin/
openapi/{version}/...`, authorised with the store's access token as a Bearer token."""

from __future__ import annotations

import re
from typing import Any

from channels.base import ChannelAccount, ChannelResponseError
from channels.http import ChannelHTTPClient
from channels.shopline.mapping import error_message
from channels.shopline.units import API_VERSION

NEXT_LINK = re.compile(r'<([^>]+)>;\s*rel="next"')


class ShoplineClient:
    def __init__(self, account: ChannelAccount) -> None:
        self.http = ChannelHTTPClient(
            "shopline",
            f"https://{account.shop}/admin/openapi/{API_VERSION}",
            error_message=error_message,
            headers={
                "Authorization": f"Bearer {account.credentials.get('access_token', '')}",
                "Content-Type": "application/json; charset=utf-8",
            },
        )

    def orders_page(self, url: str, params: dict[str, Any] | None = None) -> tuple[list, str]:
        """One page of "Get orders" and the next page's full URL from the `link` header
        ("" on the last page)."""
        response = self.http.request("GET", url, params=params)
        try:
            orders = response.json()["orders"]
        except (ValueError, KeyError, TypeError):
            orders = None
        if not isinstance(orders, list):
            raise ChannelResponseError(
                f"shopline order list unreadable: {response.text[:200]!r}", channel="shopline"
            )
        match = NEXT_LINK.search(response.headers.get("link", ""))
        return orders, match.group(1) if match else ""

    def fulfillments(self, order_id: str) -> list[dict[str, Any]]:
        body = self.http.json("GET", f"/orders/{order_id}/fulfillments.json")
        return _field(body, "fulfillments")

    def add_fulfillment(self, order_id: str, body: dict[str, Any]) -> dict[str, Any]:
        answer = self.http.json("POST", f"/orders/{order_id}/fulfillments.json", json=body)
        return _field(answer, "fulfillment")

    def add_fulfillment_event(
        self, order_id: str, fulfillment_id: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        """ "Create fulfillment shipping logistics event": the order's id, then the
        fulfillment's, in the path."""
        return self.http.json(
            "POST", f"/fulfillments/{order_id}/{fulfillment_id}/events/create.json", json=body
        )

    def refunds(self, order_id: str) -> list[dict[str, Any]]:
        return _field(self.http.json("GET", f"/orders/{order_id}/refunds.json"), "refunds")

    def refund_trial(self, order_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """ "Refund trial calculation": what SHOPLINE would refund, and from which payments."""
        answer = self.http.json("POST", f"/orders/{order_id}/refunds/calculate.json", json=body)
        return _field(answer, "refund")

    def add_refund(self, body: dict[str, Any]) -> dict[str, Any]:
        """ "Order refund" answers the refund inside `data`."""
        return _field(self.http.json("POST", "/order/refund.json", json=body), "data")

    def webhooks(self) -> list[dict[str, Any]]:
        return _field(self.http.json("GET", "/webhooks.json"), "webhooks")

    def add_webhook(self, body: dict[str, Any]) -> dict[str, Any]:
        return _field(self.http.json("POST", "/webhooks.json", json=body), "webhook")


def _field(body: Any, name: str) -> Any:
    """The one field an answer is wrapped in (`{"webhook": {...}}`)."""
    try:
        return body[name]
    except (KeyError, TypeError):
        raise ChannelResponseError(
            f"shopline answered without {name!r}: {str(body)[:200]}", channel="shopline"
        ) from None
