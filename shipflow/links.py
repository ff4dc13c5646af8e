"""Signed, expiring customer links (tracking page, failed-delivery choice, return labels).

A token carries what it grants, signed with the app secret and a salt per purpose, so a
tracking token cannot be replayed as a return token and nothing can be forged. Its age is
measured on the given clock, so the accelerated demo clock and tests age links like
everything else.
"""

from __future__ import annotations

import hmac
from datetime import timedelta
from typing import Any

from itsdangerous import BadSignature, TimestampSigner, URLSafeTimedSerializer
from itsdangerous.signer import HMACAlgorithm

from shipflow.clock import Clock, SystemClock

CLOCK_SKEW = timedelta(seconds=5)  # how far ahead another server's clock may run


class LinkInvalid(Exception):
    """Tampered with, signed for another purpose, or not a token at all."""


class LinkExpired(LinkInvalid):
    """Genuine but older than the maximum age."""


class _ClockSigner(TimestampSigner):
    """Signs with the time of the given clock. One class for every clock: a class made per
    token was half of a token's cost (a tracking link in every customer message)."""

    def __init__(self, *args: Any, clock: Clock, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.clock = clock

    def get_timestamp(self) -> int:
        return int(self.clock.now().timestamp())


class _Sha1Hmac(HMACAlgorithm):
    """itsdangerous's signature (HMAC-SHA1), made by `hmac.digest`, OpenSSL's one call: its
    own passes SHA-1 as a callable, which sets up the HMAC in Python, a third of a token's
    cost (a tracking link in every customer message)."""

    def get_signature(self, key: bytes, value: bytes) -> bytes:
        return hmac.digest(key, value, "sha1")


_HMAC_SHA1 = _Sha1Hmac()


def _serializer(secret: str, purpose: str, clock: Clock) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(
        secret,
        salt=f"shipflow.{purpose}",
        signer=_ClockSigner,
        signer_kwargs={"clock": clock, "algorithm": _HMAC_SHA1},
    )


def make_token(secret: str, purpose: str, data: Any, clock: Clock | None = None) -> str:
    return _serializer(secret, purpose, clock or SystemClock()).dumps(data)


def read_token(
    secret: str, purpose: str, token: str, max_age: timedelta, clock: Clock | None = None
) -> Any:
    """What a token grants, if it is genuine and not older than `max_age`.

    A token signed by another process whose clock runs up to `CLOCK_SKEW` ahead is fresh, not
    expired (the signer counts whole seconds: a link opened in the second it was made, on a
    server a few milliseconds behind, would otherwise look signed in the future)."""
    clock = clock or SystemClock()
    try:
        data, signed = _serializer(secret, purpose, clock).loads(token, return_timestamp=True)
    except BadSignature as exc:
        raise LinkInvalid("this link is not valid") from exc
    age = clock.now() - signed
    if age > max_age:
        raise LinkExpired("this link has expired")
    if age < -CLOCK_SKEW:
        raise LinkInvalid("this link is not valid")
    return data
