"""Installing our Shopify app in a brand's shop (docs/channels.md, "Connecting Shopify").

A brand asks for an install link with its API key (`install_link`): Shopify's authorize URL
for its shop, whose `state` is signed, expires and names the brand. Shopify sends the
merchant back to `/shopify/callback` (`complete_install`): the `hmac`, the `state` and the
shop are checked, the code exchanged for an offline token, the account connected with it
and the webhooks subscribed. An install started from Shopify's side (`/shopify/install`,
`authorize_reinstall`) is only honoured for a shop a brand has already connected.

Shopify's mandatory compliance webhooks (`customers/data_request`, `customers/redact`,
`shop/redact`: shopify.dev/docs/apps/build/compliance/privacy-law-compliance) come to the one
compliance URL of the app's configuration, `/shopify/compliance`, for every shop of the app
(`receive_privacy_request`): verified like any Shopify webhook, each becomes an alert to the
ops of the brand holding the shop, naming what is due within 30 days."""

from __future__ import annotations

import json
import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from channels.base import ChannelAccount as SourceAccount
from channels.registry import get_source_class
from channels.shopify.client import exchange_code
from channels.shopify.oauth import authorize_url, signed_by_shopify, valid_shop
from channels.webhook_auth import webhook_signature
from shipflow.channel_accounts import connect_account
from shipflow.channel_orders import ALERT_KIND
from shipflow.clock import Clock
from shipflow.delays.alerts import raise_alert
from shipflow.domain import WebhookRequest
from shipflow.links import LinkExpired, LinkInvalid, make_token, read_token
from shipflow.signatures import same_secret
from shipflow.store.models import ChannelAccount

if TYPE_CHECKING:
    from shipflow.config import Settings, ShopifyAppConfig
    from shipflow.runtime import Runtime

CHANNEL = "shopify"
PURPOSE = "shopify-install"
STATE_MAX_AGE = timedelta(minutes=30)
CALLBACK_PATH = "/shopify/callback"
# What each compliance topic asks of us, within 30 days of the request.
PRIVACY_DUE = {
    "customers/data_request": "send the shop what shipflow holds of customer {who}{orders}",
    "customers/redact": "erase what shipflow holds of customer {who}{orders}",
    "shop/redact": "erase what shipflow holds of the shop's customers (uninstalled 48 h ago)",
}


class InstallRefused(Exception):
    """The install cannot go on; the message says why and what to do."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def _app(settings: Settings) -> ShopifyAppConfig:
    if not (settings.shopify.client_id and settings.shopify.client_secret):
        raise InstallRefused(
            "the Shopify app is not configured: set shopify.client_id and shopify.client_secret "
            "in config.yaml (docs/channels.md)",
            404,  # this instance offers no Shopify app
        )
    return settings.shopify


def _shop(shop: str) -> str:
    if not valid_shop(shop):
        raise InstallRefused(
            f"shop {shop!r} is not a Shopify shop: give its myshopify.com domain, "
            "e.g. acme.myshopify.com"
        )
    return shop.lower()


def _authorize(settings: Settings, brand_id: str, shop: str, clock: Clock) -> str:
    app = _app(settings)
    state = make_token(
        settings.signing_key("links"),
        PURPOSE,
        {"brand": brand_id, "shop": shop, "nonce": secrets.token_urlsafe(16)},
        clock,
    )
    redirect_uri = settings.base_url.rstrip("/") + CALLBACK_PATH
    return authorize_url(shop, app.client_id, app.scopes, redirect_uri, state)


def install_link(settings: Settings, brand_id: str, shop: str, clock: Clock) -> str:
    """The link a brand's merchant opens to install our app in `shop`."""
    return _authorize(settings, brand_id, _shop(shop), clock)


def _signed(settings: Settings, params: dict[str, str]) -> str:
    if not signed_by_shopify(params, _app(settings).client_secret):
        raise InstallRefused("the request is not signed by Shopify (hmac missing or wrong)", 401)
    return _shop(params.get("shop", ""))


def authorize_reinstall(
    session: Session, settings: Settings, params: dict[str, str], clock: Clock
) -> str:
    """Shopify opened our app URL for a shop: the authorize URL, for the brand that holds it."""
    shop = _signed(settings, params)
    brand_id = session.scalar(
        select(ChannelAccount.brand_id).where(
            ChannelAccount.channel == CHANNEL, ChannelAccount.shop == shop
        )
    )
    if brand_id is None:
        raise InstallRefused(
            f"no brand has connected {shop} yet: install with the link from "
            "POST /api/v1/channels/shopify/install-links",
            403,
        )
    return _authorize(settings, brand_id, shop, clock)


def complete_install(
    session: Session, runtime: Runtime, params: dict[str, str], clock: Clock
) -> ChannelAccount:
    """The merchant approved: connect the shop to the brand of the `state` (not committed)
    and subscribe its webhooks. Raises `InstallRefused`, `ShopTaken`, `ChannelError`."""
    settings = runtime.settings
    shop = _signed(settings, params)
    try:
        state: Any = read_token(
            settings.signing_key("links"), PURPOSE, params.get("state", ""), STATE_MAX_AGE, clock
        )
    except LinkExpired:
        raise InstallRefused("the install link has expired: ask for a new one", 403) from None
    except LinkInvalid:
        raise InstallRefused("the install's state is not ours or was altered", 403) from None
    if state.get("shop") != shop:
        raise InstallRefused(f"the install link was made for {state.get('shop')}, not {shop}", 403)
    app = _app(settings)
    token = exchange_code(shop, app.client_id, app.client_secret, params.get("code", ""))
    credentials = {
        "access_token": token["access_token"],
        "scope": str(token.get("scope", "")),
        "client_secret": app.client_secret,  # signs the shop's webhooks
    }
    account = connect_account(
        session, runtime, state["brand"], channel=CHANNEL, shop=shop, credentials=credentials
    )
    source = get_source_class(CHANNEL)(SourceAccount(CHANNEL, account.code, shop, credentials))
    source.subscribe_webhooks(
        f"{settings.base_url.rstrip('/')}/webhooks/channels/{CHANNEL}/{account.id}"
    )
    return account


def receive_privacy_request(
    session: Session, settings: Settings, webhook: WebhookRequest, now: datetime
) -> str:
    """A compliance webhook (not committed): checked like any Shopify webhook (the base64
    HMAC-SHA256 of the raw body with the app's client secret, in `X-Shopify-Hmac-Sha256`;
    else 401) and raised as an alert to the brand that holds the shop, which keeps the
    customer's name, address, e-mail and phone on its orders: what to send or erase is for its
    ops to do (a parcel still travelling needs its address). Returns what was done."""
    expected = webhook_signature(_app(settings).client_secret, webhook.body)
    given = webhook.header("X-Shopify-Hmac-Sha256").strip()
    if not given or not same_secret(given, expected):
        raise InstallRefused("the webhook is not signed by Shopify (X-Shopify-Hmac-Sha256)", 401)
    topic = webhook.header("X-Shopify-Topic")
    if topic not in PRIVACY_DUE:
        raise InstallRefused(f"{topic!r} is not a compliance topic: {', '.join(PRIVACY_DUE)}")
    try:
        request = json.loads(webhook.body)
        customer = request.get("customer") or {}
        orders = request.get("orders_to_redact") or request.get("orders_requested") or []
    except (ValueError, AttributeError):
        raise InstallRefused("the body is not a compliance request's JSON object") from None
    shop = str(request.get("shop_domain") or webhook.header("X-Shopify-Shop-Domain")).lower()
    brand_id = session.scalar(
        select(ChannelAccount.brand_id).where(
            ChannelAccount.channel == CHANNEL, ChannelAccount.shop == shop
        )
    )
    if brand_id is None:
        return f"{topic} for {shop}: no brand holds the shop, nothing is kept"
    who = customer.get("email") or customer.get("phone") or f"id {customer.get('id')}"
    due = PRIVACY_DUE[topic].format(
        who=who, orders=f" (orders {', '.join(map(str, orders))})" if orders else ""
    )
    raise_alert(
        session,
        brand_id,
        now,
        kind=ALERT_KIND,
        severity="warning",
        dedupe_key=f"privacy:{shop}:{webhook.header('X-Shopify-Webhook-Id')}:{topic}:{who}"[:200],
        title=f"Shopify privacy request from {shop}: {due} within 30 days"[:300],
        details={"topic": topic, "request": request},
    )
    return f"{topic} for {shop}: ops alerted"
