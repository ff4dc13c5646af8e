"""The `shipflow` command against a real database."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import yaml
from alembic import command
from sqlalchemy import JSON, column, func, inspect, select, table, text

from shipflow.api_keys import hash_key
from shipflow.cli import main
from shipflow.store.migrate import alembic_config
from shipflow.store.models import ApiKey, Brand, Warehouse

ROOT = Path(__file__).resolve().parents[2]


def _config(tmp_path, database_url, **brand_changes) -> str:
    data = yaml.safe_load((ROOT / "config.yaml").read_text())
    data["database_url"] = database_url
    for key, value in brand_changes.items():
        data["brands"][0][key] = value
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


def test_upgrade_load_and_key(runner, runtime, tmp_path, database_url):
    config = _config(tmp_path, database_url)
    assert runner.invoke(main, ["--config", config, "db", "upgrade"]).exit_code == 0
    for _ in range(2):  # loading twice changes nothing
        result = runner.invoke(main, ["--config", config, "demo", "load"])
        assert result.exit_code == 0, result.output
    with runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Brand)) == 2  # northwind, formosa
        assert session.scalar(select(func.count()).select_from(Warehouse)) == 4  # 3 + Taipei

    result = runner.invoke(main, ["--config", config, "api-key", "create", "--brand", "northwind"])
    assert result.exit_code == 0
    key = result.output.strip()
    with runtime.sessions() as session:
        stored = session.scalar(select(ApiKey))
        assert stored.key_hash == hash_key(key) and key not in stored.key_hash


SECRETS = {
    "slack": "https://hooks.slack.com/services/T0/B0/slack-secret-path",
    "erp_url": "https://erp.example/hooks?token=erp-url-token",
    "erp": "erp-signing-secret",
    "store_url": "https://store.example/returns?token=store-url-token",
    "store": "store-signing-secret",
    "carrier": "carrier-api-token",
}


def test_demo_load_writes_no_secret_to_the_database(runner, runtime, tmp_path, database_url):
    data = yaml.safe_load((ROOT / "config.yaml").read_text())["brands"][0]
    data["returns"] |= {
        "store_webhook_url": SECRETS["store_url"],
        "store_webhook_secret": SECRETS["store"],
    }
    data["alerts"]["channels"] = {
        "ops-slack": {"type": "slack", "url": SECRETS["slack"]},
        "erp": {"type": "webhook", "url": SECRETS["erp_url"], "secret": SECRETS["erp"]},
    }
    data["alerts"]["routes"] = [{"kinds": ["exception"], "channels": ["ops-slack", "erp"]}]
    for account in data["carriers"]:
        account["credentials"] = {"api_token": SECRETS["carrier"]}
    config = _config(
        tmp_path,
        database_url,
        returns=data["returns"],
        alerts=data["alerts"],
        carriers=data["carriers"],
    )
    result = runner.invoke(main, ["--config", config, "demo", "load"])
    assert result.exit_code == 0, result.output
    with runtime.engine.connect() as connection:
        stored = [
            " ".join(map(str, row))  # not str(row): a Row's repr shortens long values
            for table in ("brands", "warehouses", "carrier_accounts")
            for row in connection.execute(text(f"SELECT * FROM {table}")).all()
        ]
    assert any("Northwind" in row for row in stored)
    for name, secret in SECRETS.items():
        assert not any(secret in row for row in stored), name


def test_the_migrations_scrub_then_drop_settings_stored_before(runtime, database_url):
    """A database written before: the scrub empties the secrets out of `brands.settings`,
    then the untyped copies of the configuration are dropped, the rows kept."""
    settings = {
        "returns": {"window_days": 30, "store_webhook_secret": SECRETS["store"]},
        "alerts": {"channels": {"ops-slack": {"type": "slack", "url": SECRETS["slack"]}}},
        "carriers": [{"code": "main", "credentials": {"api_token": SECRETS["carrier"]}}],
    }
    alembic = alembic_config(database_url)
    brands = table(
        "brands", *(column(name) for name in ("id", "code", "name", "currency", "created_at"))
    )
    stored = table("brands", column("id"), column("settings", JSON))
    command.stamp(alembic, "arch_brandconfig_1", purge=True)
    command.downgrade(alembic, "merge_3")  # the settings columns back, as they were
    with runtime.engine.begin() as connection:
        row = {"id": "brd_1", "code": "old", "name": "Old", "currency": "USD"}
        connection.execute(brands.insert().values(**row, created_at=datetime.now(UTC)))
        connection.execute(stored.update().values(settings=settings))
    before_the_scrub = ["trust_money_1", "trust_carrierhttp_1", "trust_secrets_1"]
    command.stamp(alembic, before_the_scrub, purge=True)
    try:
        command.upgrade(alembic, "trust_badinput_1")
        with runtime.engine.connect() as connection:
            kept = connection.scalar(select(stored.c.settings))
        assert kept == {
            "returns": {"window_days": 30},
            "alerts": {},
            "carriers": [{"code": "main"}],
        }
        command.upgrade(alembic, "arch_brandconfig_1")
        with runtime.engine.connect() as connection:
            assert connection.scalar(select(brands.c.code)) == "old"
            for name in ("brands", "warehouses", "carrier_accounts"):
                columns = {c["name"] for c in inspect(connection).get_columns(name)}
                assert "settings" not in columns, name
    finally:
        command.stamp(alembic, "heads", purge=True)


def test_unknown_brand_is_a_clear_error(runner, tmp_path, database_url):
    config = _config(tmp_path, database_url)
    result = runner.invoke(main, ["--config", config, "api-key", "create", "--brand", "nope"])
    assert result.exit_code == 2 and "no brand 'nope'" in result.output


def test_bad_config_is_one_paragraph(runner, tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("brands: [")
    result = runner.invoke(main, ["--config", str(path), "db", "upgrade"])
    assert result.exit_code == 2
    assert result.output.startswith(f"error: {path}: malformed YAML")
    assert "Traceback" not in result.output
