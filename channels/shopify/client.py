"""The HTTP side of Shopify: the GraphQL Admin API and the OAuth code exchange. I/O only.

Errors as `channels.base` names them: 401/403 -> `ChannelAuthError`; HTTP 429 (its
`Retry-After`) and the GraphQL `THROTTLED` error (wait computed from the query's cost and
the bucket's restore rate, shopify.dev/docs/api/usage/limits) -> `ChannelRateLimited`; 5xx,
timeouts and connection errors -> retryable `ChannelError`; anything else unreadable ->
`ChannelResponseError`. Mutations' `userErrors` are the caller's to read."""

from __future__ import annotations

import math
from typing import Any

import requests

from channels.base import ChannelAuthError, ChannelRateLimited, ChannelResponseError
from channels.http import ChannelHTTPClient, retrying_session
from channels.shopify.units import API_VERSION

NAME = "shopify"


def _message(body: Any) -> str:
    """Shopify's REST-style error body: {"errors": "..."} or {"errors": [...]}."""
    errors = body.get("errors") if isinstance(body, dict) else None
    return str(errors or "")


def throttled_wait(cost: dict[str, Any]) -> float | None:
    """Seconds until the leaky bucket holds the requested cost again."""
    try:
        status = cost["throttleStatus"]
        missing = float(cost["requestedQueryCost"]) - float(status["currentlyAvailable"])
        return max(1.0, math.ceil(missing / float(status["restoreRate"])))
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return None


class ShopifyClient:
    """One shop's GraphQL Admin API, with its offline access token. `api_base` stands in for
    `https://<shop>` (the demo's simulated store, served under shipflow's own address)."""

    def __init__(
        self,
        shop: str,
        access_token: str,
        session: requests.Session | None = None,
        api_base: str = "",
    ):
        self.http = ChannelHTTPClient(
            NAME,
            api_base.rstrip("/") or f"https://{shop}",
            error_message=_message,
            headers={"X-Shopify-Access-Token": access_token},
            session=session or retrying_session(),
        )
        self.access_token = access_token
        self.throttle_status: dict[str, Any] = {}  # the bucket as the last answer left it

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The `data` of the answer; raises on top-level `errors`."""
        if not self.access_token:
            raise ChannelAuthError("no access token: install the app in the shop", channel=NAME)
        body = self.http.json(
            "POST",
            f"/admin/api/{API_VERSION}/graphql.json",
            json={"query": query, "variables": variables or {}},
        )
        if not isinstance(body, dict):
            raise ChannelResponseError(
                "shopify answered with something not an object", channel=NAME
            )
        cost = (body.get("extensions") or {}).get("cost") or {}
        self.throttle_status = cost.get("throttleStatus") or self.throttle_status
        errors = body.get("errors") or []
        codes = {((e or {}).get("extensions") or {}).get("code") for e in errors}
        if "THROTTLED" in codes:
            raise ChannelRateLimited(
                "shopify throttled the query (cost over the bucket)",
                channel=NAME,
                retry_after=throttled_wait(cost),
            )
        if errors or not isinstance(body.get("data"), dict):
            messages = "; ".join(str((e or {}).get("message")) for e in errors) or "no data"
            raise ChannelResponseError(f"shopify GraphQL errors: {messages}", channel=NAME)
        return body["data"]


def exchange_code(shop: str, client_id: str, client_secret: str, code: str) -> dict[str, Any]:
    """OAuth authorization code grant: the code -> an offline access token and its scopes."""
    http = ChannelHTTPClient(
        NAME, f"https://{shop}", error_message=_message, session=retrying_session()
    )
    body = http.json(
        "POST",
        "/admin/oauth/access_token",
        json={"client_id": client_id, "client_secret": client_secret, "code": code},
    )
    if not isinstance(body, dict) or not body.get("access_token"):
        raise ChannelResponseError("shopify's token answer has no access_token", channel=NAME)
    return body
