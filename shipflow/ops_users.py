"""Ops users: a login per brand for the ops pages, passwords stored as werkzeug hashes.

A session cookie names the user and their session version; signing out or a new password
bumps the version in the database, so every cookie issued before is refused from then on
(a signed cookie cannot be recalled from the browser that holds it, or from a thief)."""

from __future__ import annotations

import secrets
from collections.abc import Mapping, MutableMapping
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from shipflow.store.alert_models import OpsUser
from shipflow.store.models import Brand

# Checked against when the user is unknown, so a wrong e-mail costs as long as a wrong
# password and response times do not reveal who has an account.
_DUMMY_HASH = generate_password_hash("not-a-password")


USER_ID = "ops_user_id"
VERSION = "ops_session_version"


class OpsUserExists(Exception):
    pass


class UnknownOpsUser(LookupError):
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


def sign_in(cookie: MutableMapping, user: OpsUser) -> None:
    cookie[USER_ID] = user.id
    cookie[VERSION] = user.session_version


def signed_in_user(session: Session, cookie: Mapping) -> OpsUser | None:
    """The cookie's user, unless they signed out or changed password since it was issued."""
    user = session.get(OpsUser, cookie[USER_ID]) if cookie.get(USER_ID) else None
    if user is None or cookie.get(VERSION) != user.session_version:
        return None
    return user


def end_sessions(user: OpsUser) -> None:
    """Refuse every session cookie of the user issued so far (the increment is atomic)."""
    user.session_version = OpsUser.session_version + 1


def reset_password(session: Session, brand_id: str, email: str) -> str:
    """Give the user a new generated password, return it, and end their sessions."""
    email = email.strip().lower()
    user = session.scalar(
        select(OpsUser).where(OpsUser.brand_id == brand_id, OpsUser.email == email)
    )
    if user is None:
        raise UnknownOpsUser(f"{email} has no login for this brand")
    password = secrets.token_urlsafe(12)
    user.password_hash = generate_password_hash(password)
    end_sessions(user)
    return password
