"""`shipflow history import` and `shipflow edd train` against a real database."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from shipflow.cli import main
from shipflow.edd.transit import TransitModel
from shipflow.store.edd_models import DeliveryHistoryRow, TransitModelRow
from tests.edd.factories import GROUND, history, history_csv

ROOT = Path(__file__).resolve().parents[2]
SANDBOX_GROUND = GROUND.__class__("sandbox", "ground")


@pytest.fixture
def config(tmp_path, database_url, runner) -> str:
    data = yaml.safe_load((ROOT / "config.yaml").read_text())
    data["database_url"] = database_url
    data["brands"] = data["brands"][:1]  # the commands below act on the only brand
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data))
    assert runner.invoke(main, ["--config", str(path), "demo", "load"]).exit_code == 0
    return str(path)


def write_history(tmp_path, extra_rows: str = "") -> str:
    records = history([2, 3] * 40, start=date(2026, 3, 2), shipper="EWR", origin="08817")
    path = tmp_path / "history.csv"
    path.write_text(history_csv(records) + extra_rows)
    return str(path)


def test_import_reports_bad_rows_and_keeps_the_good(runner, runtime, config, tmp_path):
    bad = (
        "bad-1,yesterday,EWR,08817,US,60601,US,ups,ground,,\n"
        "bad-2,2026-03-02T09:00:00,EWR,,US,60601,US,ups,ground,,\n"
    )
    path = write_history(tmp_path, bad)
    result = runner.invoke(main, ["--config", config, "history", "import", path])
    assert result.exit_code == 0, result.output
    assert "line 82, ordered_at: not a date-time: 'yesterday'" in result.output
    assert "line 83, origin_postal_code: is empty" in result.output
    assert "imported 80 records (0 already known, 2 rows rejected)" in result.output
    again = runner.invoke(main, ["--config", config, "history", "import", path])
    assert "imported 0 records (80 already known" in again.output
    with runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(DeliveryHistoryRow)) == 80


def test_import_of_a_file_without_required_columns(runner, config, tmp_path):
    path = tmp_path / "wrong.csv"
    path.write_text("order_id,when\n1,2026-01-01\n")
    result = runner.invoke(main, ["--config", config, "history", "import", str(path)])
    assert result.exit_code == 0
    assert "line 1, ordered_at: missing column" in result.output
    assert "imported 0 records" in result.output


def test_import_rejects_an_unknown_zone(runner, config, tmp_path):
    result = runner.invoke(
        main, ["--config", config, "history", "import", write_history(tmp_path), "--zone", "Mars"]
    )
    assert result.exit_code == 2 and "--zone 'Mars'" in result.output


def test_train_stores_a_model_learned_from_the_history(runner, runtime, config, tmp_path):
    runner.invoke(main, ["--config", config, "history", "import", write_history(tmp_path)])
    result = runner.invoke(main, ["--config", config, "edd", "train"])
    assert result.exit_code == 0, result.output
    assert "80 deliveries of 80 records" in result.output
    with runtime.sessions() as session:
        row = session.scalar(select(TransitModelRow))
        model = TransitModel.from_dict(row.model)
    assert row.records == 80
    assert any(key.startswith("ups:ground|") for key in model.histograms)
