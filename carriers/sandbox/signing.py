"""The sandbox carrier's webhook signatures: `X-Sandbox-Signature: t=<unix>,v1=<hex>`, an
HMAC-SHA256 of "<t>.<body>". The timestamp is signed too, so an old delivery replayed
later fails the tolerance window even with a valid signature."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime

SIGNATURE_HEADER = "X-Sandbox-Signature"
DEFAULT_TOLERANCE_SECONDS = 300


class SignatureInvalid(ValueError):
    pass


def _digest(secret: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, at: datetime) -> dict[str, str]:
    """The headers of a delivery of `body` sent at `at`."""
    timestamp = int(at.timestamp())
    return {
        SIGNATURE_HEADER: f"t={timestamp},v1={_digest(secret, timestamp, body)}",
        "Content-Type": "application/json",
    }


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    now: datetime,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
) -> None:
    """Raise `SignatureInvalid` unless `body` was signed with `secret` within the window."""
    if not secret:  # anyone can compute an HMAC with an empty key
        raise SignatureInvalid("no webhook secret: set the account's credentials.webhook_secret")
    header = next((v for k, v in headers.items() if k.lower() == SIGNATURE_HEADER.lower()), "")
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(fields["t"])
    except (KeyError, ValueError):
        raise SignatureInvalid(f"missing or malformed {SIGNATURE_HEADER} header") from None
    if abs(now.timestamp() - timestamp) > tolerance_seconds:
        raise SignatureInvalid("signature timestamp outside the tolerance window (replay?)")
    expected = _digest(secret, timestamp, body).encode()
    if not hmac.compare_digest(fields.get("v1", "").encode(), expected):  # bytes: any text
        raise SignatureInvalid("signature does not match the body")
