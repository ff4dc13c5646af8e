"""Signed, expiring customer links (tracking page, failed-delivery choice, return labels).

A token carries what it grants, signed with the app secret and a salt per purpose, so a
tracking token cannot be replayed as a return token and nothing can be forged. Its age is
measured on the given clock, so the accelerated demo clock and tests age links like
everything else.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import timedelta
from functools import lru_cache
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from itsdangerous.signer import HMACAlgorithm

from shipflow.clock import Clock, SystemClock

CLOCK_SKEW = timedelta(seconds=5)  # how far ahead another server's clock may run


class LinkInvalid(Exception):
    """Tampered with, signed for another purpose, or not a token at all."""


class LinkExpired(LinkInvalid):
    """Genuine but older than the maximum age."""


class _Sha1Hmac(HMACAlgorithm):
    """itsdangerous's signature (HMAC-SHA1), made by `hmac.digest`, OpenSSL's one call: its
    own passes SHA-1 as a callable, which sets up the HMAC in Python."""

    def get_signature(self, key: bytes, value: bytes) -> bytes:
        return hmac.digest(key, value, "sha1")


_HMAC_SHA1 = _Sha1Hmac()
_COMPACT_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))  # json.dumps's,
# which builds one per call for these options


def _serializer(secret: str, purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(
        secret, salt=f"shipflow.{purpose}", signer_kwargs={"algorithm": _HMAC_SHA1}
    )


@lru_cache(maxsize=64)
def _signing_key(secret: str, purpose: str) -> bytes:
    """The key itsdangerous's signer derives from the secret and the salt ("django-concat":
    SHA-1 of salt, "signer" and secret), once per secret and purpose, not per token."""
    return hashlib.sha1(f"shipflow.{purpose}signer{secret}".encode()).digest()


def _b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def make_token(secret: str, purpose: str, data: Any, clock: Clock | None = None) -> str:
    """What itsdangerous's `URLSafeTimedSerializer(secret, salt).dumps(data)` makes, signed at
    the clock's time, written out (a test compares the two): compact JSON, the timestamp,
    the HMAC-SHA1. Its serializer and signer built per token, and their layers of
    conversions, were most of a tracking link's cost, and every customer message carries
    one. Never compressed, where itsdangerous compresses a payload if that is shorter:
    zlib's set-up was a third of a token's CPU and shortened none of the links sent (random
    ids do not compress); `read_token` still opens a compressed one, made before."""
    value = _b64(_COMPACT_JSON.encode(data).encode())
    timestamp = int((clock or SystemClock()).now().timestamp())
    value += b"." + _b64(timestamp.to_bytes(8, "big").lstrip(b"\0"))
    signature = hmac.digest(_signing_key(secret, purpose), value, "sha1")
    return (value + b"." + _b64(signature)).decode()


def read_token(
    secret: str, purpose: str, token: str, max_age: timedelta, clock: Clock | None = None
) -> Any:
    """What a token grants, if it is genuine and not older than `max_age`.

    A token signed by another process whose clock runs up to `CLOCK_SKEW` ahead is fresh, not
    expired (the signer counts whole seconds: a link opened in the second it was made, on a
    server a few milliseconds behind, would otherwise look signed in the future)."""
    clock = clock or SystemClock()
    try:
        data, signed = _serializer(secret, purpose).loads(token, return_timestamp=True)
    except BadSignature as exc:
        raise LinkInvalid("this link is not valid") from exc
    age = clock.now() - signed
    if age > max_age:
        raise LinkExpired("this link has expired")
    if age < -CLOCK_SKEW:
        raise LinkInvalid("this link is not valid")
    return data
