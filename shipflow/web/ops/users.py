"""Ops users: a login per brand for the ops pages, passwords stored as werkzeug hashes."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from shipflow.store.alert_models import OpsUser
from shipflow.store.models import Brand

# Checked against when the user is unknown, so a wrong e-mail costs as long as a wrong
# password and response times do not reveal who has an account.
_DUMMY_HASH = generate_password_hash("not-a-password")


class OpsUserExists(Exception):
    pass


def create_ops_user(session: Session, brand_id: str, email: str) -> str:
    """Add the user with a generated password and return it; only its hash is kept."""
    email = email.strip().lower()
    if session.scalar(
        select(OpsUser.id).where(OpsUser.brand_id == brand_id, OpsUser.email == email)
    ):
        raise OpsUserExists(f"{email} already has a login for this brand")
    password = secrets.token_urlsafe(12)
    session.add(
        OpsUser(brand_id=brand_id, email=email, password_hash=generate_password_hash(password))
    )
    return password


def authenticate(
    session: Session, brand_code: str, email: str, password: str, now: datetime
) -> OpsUser | None:
    user = session.scalar(
        select(OpsUser)
        .join(Brand, Brand.id == OpsUser.brand_id)
        .where(Brand.code == brand_code.strip(), OpsUser.email == email.strip().lower())
    )
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password):
        return None
    user.last_login_at = now
    return user
