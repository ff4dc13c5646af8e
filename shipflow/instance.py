"""A local installation's own secrets, kept in `instance/` (gitignored, beside the SQLite
file) with owner-only permissions. `shipflow serve --demo` generates them on its first run
and every later command in the checkout reuses them, so the demo's links, cookies, webhooks
and API key survive restarts and no secret is a published constant. A deployment sets its
own (SHIPFLOW_SECRET_KEY, carrier credentials) and has none of these files."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from shipflow.config import Settings
from shipflow.secrets_at_rest import KEY_VARIABLE, new_key

INSTANCE = Path("instance")
SECRET_KEY = "secret_key"
SANDBOX_WEBHOOK_SECRET = "sandbox_webhook_secret"
DEMO_API_KEY = "demo_api_key"
CREDENTIALS_KEY = "credentials_key"


def read_secret(name: str, directory: Path = INSTANCE) -> str:
    """The stored secret, or "" when there is none."""
    try:
        return (directory / name).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return ""


def write_secret(name: str, value: str, directory: Path = INSTANCE) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(value + "\n")


def ensure_secret(name: str, directory: Path = INSTANCE) -> str:
    """The stored secret; on first use a new random one, stored for the next run."""
    value = read_secret(name, directory)
    if not value:
        value = secrets.token_urlsafe(48)
        write_secret(name, value, directory)
    return value


def with_instance_secrets(
    settings: Settings, directory: Path = INSTANCE, generate: bool = False
) -> Settings:
    """`settings` with what they leave unset (the secret key, sandbox accounts' webhook
    secret) taken from `directory`; with `generate` (the demo), missing ones are created."""
    find = ensure_secret if generate else read_secret
    secret_key = settings.secret_key or find(SECRET_KEY, directory)
    brands = []
    for brand in settings.brands:
        accounts = []
        for account in brand.carriers:
            if account.carrier == "sandbox" and not account.credentials.get("webhook_secret"):
                webhook_secret = find(SANDBOX_WEBHOOK_SECRET, directory)
                credentials = {**account.credentials, "webhook_secret": webhook_secret}
                account = account.model_copy(update={"credentials": credentials})
            accounts.append(account)
        brands.append(brand.model_copy(update={"carriers": accounts}))
    return settings.model_copy(update={"secret_key": secret_key, "brands": brands})


def use_instance_credentials_key(directory: Path = INSTANCE, generate: bool = False) -> None:
    """Without SHIPFLOW_CREDENTIALS_KEY in the environment, use instance/credentials_key (the
    demo's connected shop keeps its token sealed under it); with `generate` (the demo), one
    is created there on first use."""
    if os.environ.get(KEY_VARIABLE):
        return
    key = read_secret(CREDENTIALS_KEY, directory)
    if not key and generate:
        key = new_key()
        write_secret(CREDENTIALS_KEY, key, directory)
    if key:
        os.environ[KEY_VARIABLE] = key
