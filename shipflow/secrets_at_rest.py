"""Secrets the database keeps (shop tokens given through the API, the CLI or an app install),
encrypted with Fernet under keys from the environment, never written in plain text.

`SHIPFLOW_CREDENTIALS_KEY` holds one or more comma-separated Fernet keys, newest first:
new tokens use the first, every listed key still decrypts (MultiFernet), so a key is rotated
by putting the new one in front and running `shipflow channel rotate-keys`."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

KEY_VARIABLE = "SHIPFLOW_CREDENTIALS_KEY"


class SecretsKeyError(Exception):
    """No key (or a malformed one), or a token none of the keys opens."""


def _cipher() -> MultiFernet:
    raw = os.environ.get(KEY_VARIABLE, "")
    keys = [key.strip() for key in raw.split(",") if key.strip()]
    if not keys:
        raise SecretsKeyError(
            f"{KEY_VARIABLE} is not set: stored shop credentials are encrypted with it "
            "(make one with `shipflow channel new-key`)"
        )
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except ValueError as exc:
        raise SecretsKeyError(
            f"{KEY_VARIABLE} holds a key that is not a Fernet key: {exc}"
        ) from None


def new_key() -> str:
    return Fernet.generate_key().decode()


def seal(secrets: Mapping[str, str]) -> str:
    return _cipher().encrypt(json.dumps(dict(secrets), sort_keys=True).encode()).decode()


def unseal(token: str) -> dict[str, str]:
    try:
        return json.loads(_cipher().decrypt(token.encode()))
    except InvalidToken:
        raise SecretsKeyError(
            f"stored credentials open with none of the keys in {KEY_VARIABLE}"
        ) from None


def reseal(token: str) -> str:
    """The same secrets under the newest key."""
    try:
        return _cipher().rotate(token.encode()).decode()
    except InvalidToken:
        raise SecretsKeyError(
            f"stored credentials open with none of the keys in {KEY_VARIABLE}"
        ) from None
