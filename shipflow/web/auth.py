"""Brand API keys: shown once, stored as a SHA-256 hash, sent as `Authorization: Bearer`."""

from __future__ import annotations

import hashlib
import secrets

from flask import g, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from shipflow.store.models import ApiKey
from shipflow.web.problems import ApiProblem

KEY_PREFIX = "sf_"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_api_key(session: Session, brand_id: str, name: str = "") -> str:
    """Store a new key for the brand and return it; it cannot be shown again."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiKey(brand_id=brand_id, name=name, prefix=key[:10], key_hash=hash_key(key)))
    return key


def authenticate() -> str:
    """The brand id of the request's API key, or a 401 problem."""
    header = request.headers.get("Authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise ApiProblem(
            401,
            "Unauthorized",
            "Send your brand's API key as 'Authorization: Bearer <key>' "
            "(create one with `shipflow api-key create --brand CODE`).",
        )
    row = g.db.scalar(
        select(ApiKey).where(ApiKey.key_hash == hash_key(key.strip()), ApiKey.revoked_at.is_(None))
    )
    if row is None:
        raise ApiProblem(401, "Unauthorized", "This API key is unknown or revoked.")
    return row.brand_id
