"""The Shopify app's install: the authorization code grant as Shopify documents it
(shopify.dev/docs/apps/build/authentication-authorization/access-tokens/authorization-code-grant).
Pure: the code exchange itself is `client.exchange_code`.

1. Shopify opens our app URL with `shop`, `timestamp`, `host` and `hmac`; 3. Shopify sends
the merchant back to the redirect URI with `code`, `shop`, `state`, `timestamp`, `host` and
`hmac`. Both are signed: `hmac` is the hex HMAC-SHA256, keyed with the app's client secret,
of the other parameters sorted by name and joined as `name=value&...`."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence
from urllib.parse import urlencode

from shipflow.signatures import same_secret

# What we read and write: orders (write_orders: refunds), the merchant-managed fulfillment
# orders we fulfil, fulfillments and their events, returns. shopify.dev/docs/api/usage/access-scopes
SCOPES = (
    "read_orders",
    "write_orders",
    "read_merchant_managed_fulfillment_orders",
    "write_merchant_managed_fulfillment_orders",
    "read_fulfillments",
    "write_fulfillments",
    "read_returns",
    "write_returns",
)
SHOP_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9-]*\.myshopify\.com")


def valid_shop(shop: str) -> bool:
    """Only a `*.myshopify.com` host: the shop parameter decides where we send the client
    secret (the token exchange), so anything else is refused."""
    return bool(SHOP_NAME.fullmatch(shop or ""))


def query_hmac(params: Mapping[str, str], client_secret: str) -> str:
    message = "&".join(
        f"{name}={value}"
        for name, value in sorted(params.items())
        if name not in ("hmac", "signature")
    )
    return hmac.new(client_secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def signed_by_shopify(params: Mapping[str, str], client_secret: str) -> bool:
    given = params.get("hmac", "")
    return bool(client_secret and given) and same_secret(given, query_hmac(params, client_secret))


def authorize_url(
    shop: str, client_id: str, scopes: Sequence[str], redirect_uri: str, state: str
) -> str:
    """Where the merchant approves the scopes. No `grant_options[]=per-user`: an offline
    token, which keeps working when the merchant logs out."""
    query = urlencode(
        {
            "client_id": client_id,
            "scope": ",".join(scopes),
            "redirect_uri": redirect_uri,
            "state": state,
        }
    )
    return f"https://{shop}/admin/oauth/authorize?{query}"
