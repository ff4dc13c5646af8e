"""Signed, expiring customer links (tracking page, failed-delivery choice, returns).

A token carries what it grants (e.g. a shipment id) signed with the app secret and a salt per
purpose, so a tracking token cannot be replayed as a return token, and nothing can be forged.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer


class LinkInvalid(Exception):
    """Tampered, for another purpose, or not a token at all."""


class LinkExpired(LinkInvalid):
    """Genuine but too old."""


def _serializer(secret: str, purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=f"shipflow.{purpose}")


def make_token(secret: str, purpose: str, data: Any) -> str:
    return _serializer(secret, purpose).dumps(data)


def read_token(secret: str, purpose: str, token: str, max_age: timedelta) -> Any:
    try:
        return _serializer(secret, purpose).loads(token, max_age=int(max_age.total_seconds()))
    except SignatureExpired as exc:
        raise LinkExpired("this link has expired") from exc
    except BadSignature as exc:
        raise LinkInvalid("this link is not valid") from exc
