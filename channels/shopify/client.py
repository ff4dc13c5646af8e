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
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from channels.base import ChannelAuthError, ChannelError, ChannelRateLimited, ChannelResponseError
from channels.shopify.units import API_VERSION

NAME = "shopify"
TIMEOUT = (5.0, 30.0)  # connect, read (seconds)


def _session() -> requests.Session:
    """Connection errors are retried here (nothing was sent); everything else is the outbox's
    or the job's to retry, so a mutation is never sent twice by the transport."""
    session = requests.Session()
    retry = Retry(total=2, connect=2, read=0, status=0, other=0, backoff_factor=0.3)
    session.mount("https://", HTTPAdapter(max_retries=retry))
    return session


def _post(session: requests.Session, url: str, **kwargs: Any) -> Any:
    try:
        response = session.post(url, timeout=TIMEOUT, **kwargs)
    except requests.RequestException as exc:
        raise ChannelError(f"shopify unreachable: {exc}", channel=NAME, retryable=True) from exc
    status = response.status_code
    if status == 429:
        raise ChannelRateLimited(
            "shopify HTTP 429",
            channel=NAME,
            retry_after=_seconds(response.headers.get("Retry-After")),
        )
    if status in (401, 403):
        raise ChannelAuthError(
            f"shopify refused our credentials (HTTP {status}): {response.text[:200]}", channel=NAME
        )
    if status >= 500:
        raise ChannelError(f"shopify HTTP {status}", channel=NAME, retryable=True)
    if status >= 400:
        raise ChannelResponseError(f"shopify HTTP {status}: {response.text[:500]}", channel=NAME)
    try:
        return response.json()
    except ValueError as exc:
        raise ChannelResponseError(
            f"shopify answered HTTP {status} without JSON", channel=NAME
        ) from exc


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None


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
        base = api_base.rstrip("/") or f"https://{shop}"
        self.url = f"{base}/admin/api/{API_VERSION}/graphql.json"
        self.access_token = access_token
        self.session = session or _session()
        self.throttle_status: dict[str, Any] = {}  # the bucket as the last answer left it

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The `data` of the answer; raises on top-level `errors`."""
        if not self.access_token:
            raise ChannelAuthError("no access token: install the app in the shop", channel=NAME)
        body = _post(
            self.session,
            self.url,
            json={"query": query, "variables": variables or {}},
            headers={"X-Shopify-Access-Token": self.access_token},
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
    body = _post(
        _session(),
        f"https://{shop}/admin/oauth/access_token",
        json={"client_id": client_id, "client_secret": client_secret, "code": code},
    )
    if not isinstance(body, dict) or not body.get("access_token"):
        raise ChannelResponseError("shopify's token answer has no access_token", channel=NAME)
    return body
