"""Checks of carriers' webhook authenticity, in constant time. Each raises
`WebhookSignatureError` (a missing secret on our side rejects too: fail closed)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

from carriers.base import CarrierResponseError, WebhookSignatureError
from shipflow.signatures import same_secret


def header(headers: Mapping[str, str], name: str) -> str:
    """A header's value whatever its case (frameworks and proxies disagree on it)."""
    wanted = name.lower()
    return next((value for key, value in headers.items() if key.lower() == wanted), "")


def require_shared_secret(carrier: str, given: str, expected: str) -> None:
    """The carrier echoes a secret we gave it (e.g. UPS Track Alert's `credential`)."""
    if not expected or not given or not same_secret(given, expected):
        raise WebhookSignatureError(
            f"{carrier} webhook credential missing or wrong", carrier=carrier
        )


def require_hmac_sha256(carrier: str, body: bytes, secret: str, signature: str) -> None:
    """`signature` is the HMAC-SHA256 of the raw body, base64 (or hex) encoded."""
    if not secret or not signature:
        raise WebhookSignatureError(f"{carrier} webhook signature missing", carrier=carrier)
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    candidates = (base64.b64encode(digest).decode(), digest.hex())
    if not any(same_secret(signature.strip(), c) for c in candidates):
        raise WebhookSignatureError(f"{carrier} webhook signature wrong", carrier=carrier)


def webhook_json(carrier: str, body: bytes) -> Any:
    """The webhook's JSON body; a body that is not JSON is the carrier's fault, not ours."""
    try:
        return json.loads(body)
    except ValueError as exc:
        raise CarrierResponseError(f"{carrier} webhook is not JSON", carrier=carrier) from exc
