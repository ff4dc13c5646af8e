"""The `shipflow` command against a real database."""

from __future__ import annotations

from pathlib import Path

import yaml
from sqlalchemy import func, select

from shipflow.cli import main
from shipflow.store.models import ApiKey, Brand, Warehouse
from shipflow.web.auth import hash_key

ROOT = Path(__file__).resolve().parents[2]


def _config(tmp_path, database_url) -> str:
    data = yaml.safe_load((ROOT / "config.yaml").read_text())
    data["database_url"] = database_url
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
        assert session.scalar(select(func.count()).select_from(Brand)) == 1
        assert session.scalar(select(func.count()).select_from(Warehouse)) == 3

    result = runner.invoke(main, ["--config", config, "api-key", "create", "--brand", "northwind"])
    assert result.exit_code == 0
    key = result.output.strip()
    with runtime.sessions() as session:
        stored = session.scalar(select(ApiKey))
        assert stored.key_hash == hash_key(key) and key not in stored.key_hash


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
