"""Brand API keys: shown once, stored as a SHA-256 hash, sent as `Authorization: Bearer`.
A key can be listed (by its prefix, never the secret) and revoked; a revoked key is refused
from the next request on."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from shipflow.store.models import ApiKey

KEY_PREFIX = "sf_"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_api_key(session: Session, brand_id: str, name: str = "") -> str:
    """Store a new key for the brand and return it; it cannot be shown again."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiKey(brand_id=brand_id, name=name, prefix=key[:10], key_hash=hash_key(key)))
    return key


def active_key(session: Session, key: str) -> ApiKey | None:
    """The stored, unrevoked key matching `key`."""
    return session.scalar(
        select(ApiKey).where(ApiKey.key_hash == hash_key(key), ApiKey.revoked_at.is_(None))
    )


def brand_keys(session: Session, brand_id: str) -> list[ApiKey]:
    """The brand's keys, revoked ones too, newest first."""
    return list(
        session.scalars(
            select(ApiKey)
            .where(ApiKey.brand_id == brand_id)
            .order_by(ApiKey.created_at.desc(), ApiKey.id.desc())
        )
    )


def revoke_api_key(
    session: Session, key_id: str, now: datetime, brand_id: str | None = None
) -> ApiKey | None:
    """Revoke the key (of `brand_id`, when given); None if there is no such key. Revoking
    twice keeps the first time."""
    statement = select(ApiKey).where(ApiKey.id == key_id)
    if brand_id is not None:
        statement = statement.where(ApiKey.brand_id == brand_id)
    key = session.scalar(statement)
    if key is not None and key.revoked_at is None:
        key.revoked_at = now
    return key
