"""What the platforms' webhook checks share: the base64 HMAC-SHA256 most of them sign with, a
signing secret that must be set (anyone can compute an HMAC with an empty key), and a
webhook that must name the account's own shop. Each raises `WebhookSignatureError`."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable

from channels.base import OrderSource, WebhookSignatureError


def webhook_signature(secret: str, body: bytes) -> str:
    """Base64 of the HMAC-SHA256 of the raw body (Shopify, WooCommerce, the sandbox shop)."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def signing_secret(source: OrderSource, key: str, missing: str = "") -> str:
    """The account's credential `key`; unset, `missing` (or a default naming it) is raised."""
    secret: str = source.account.credentials.get(key, "")
    if not secret:
        raise WebhookSignatureError(
            missing or f"no {key.replace('_', ' ')}: set the channel account's credentials.{key}",
            channel=source.name,
        )
    return secret


def require_own_shop(
    source: OrderSource, shop: str, same: Callable[[str], str] = str, noun: str = "shop"
) -> None:
    """The webhook's shop is the account's, once both pass through `same`."""
    if same(shop) != same(source.account.shop):
        raise WebhookSignatureError(
            f"webhook is from {noun} {shop!r}, this account is {source.account.shop!r}",
            channel=source.name,
        )
