"""Signed, expiring customer links (tracking page, failed-delivery choice, return labels).

A token carries what it grants, signed with the app secret and a salt per purpose, so a
tracking token cannot be replayed as a return token and nothing can be forged. Its age is
measured on the given clock, so the accelerated demo clock and tests age links like
everything else.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from shipflow.clock import Clock, SystemClock


class LinkInvalid(Exception):
    """Tampered with, signed for another purpose, or not a token at all."""


class LinkExpired(LinkInvalid):
    """Genuine but older than the maximum age."""


def _serializer(secret: str, purpose: str, clock: Clock) -> URLSafeTimedSerializer:
    class ClockSigner(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(clock.now().timestamp())

    return URLSafeTimedSerializer(secret, salt=f"shipflow.{purpose}", signer=ClockSigner)


def make_token(secret: str, purpose: str, data: Any, clock: Clock | None = None) -> str:
    return _serializer(secret, purpose, clock or SystemClock()).dumps(data)


def read_token(
    secret: str, purpose: str, token: str, max_age: timedelta, clock: Clock | None = None
) -> Any:
    try:
        return _serializer(secret, purpose, clock or SystemClock()).loads(
            token, max_age=int(max_age.total_seconds())
        )
    except SignatureExpired as exc:
        raise LinkExpired("this link has expired") from exc
    except BadSignature as exc:
        raise LinkInvalid("this link is not valid") from exc
