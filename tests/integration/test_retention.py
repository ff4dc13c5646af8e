"""Retention archives and deletes only what nothing reads any more, on SQLite and PostgreSQL."""

from __future__ import annotations

import gzip
import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from shipflow.brands import sync_brands
from shipflow.config import RetentionConfig
from shipflow.retention import prune
from shipflow.store.db import unit_of_work
from shipflow.store.models import Brand, OutboxMessage, Shipment, TrackingEventRow
from shipflow.store.tracking_models import WebhookReceipt


@pytest.fixture
def aged(runtime, clock, tmp_path):
    """Rows of every kind, half of them 500 days old, then the clock back at today."""
    runtime.settings = runtime.settings.model_copy(
        update={"retention": RetentionConfig(archive_dir=str(tmp_path / "archive"), batch_size=2)}
    )
    now = clock.now()
    old = now - timedelta(days=500)
    with unit_of_work(runtime.sessions) as session:
        sync_brands(session, runtime.settings)
        brand = session.scalars(select(Brand)).first()
        for age, tag in ((old, "old"), (now, "new")):
            for status in ("delivered", "in_transit"):
                shipment = Shipment(
                    id=f"shp_{tag}_{status}",
                    brand_id=brand.id,
                    carrier="sandbox",
                    tracking_number=f"{tag}-{status}",
                    status=status,
                    created_at=age,
                    updated_at=age,
                )
                session.add(shipment)
                session.flush()
                for n in range(3):
                    session.add(
                        TrackingEventRow(
                            shipment_id=shipment.id,
                            brand_id=brand.id,
                            dedupe_key=f"{tag}{status}{n}",
                            status="in_transit",
                            occurred_at=age,
                            received_at=age,
                        )
                    )
            for status in ("processed", "failed", "received"):
                session.add(
                    WebhookReceipt(
                        brand_id=brand.id,
                        carrier="sandbox",
                        account="acct",
                        headers={},
                        body=b"\xff{raw}",
                        received_at=age,
                        status=status,
                    )
                )
            for handled in (True, False):
                session.add(
                    OutboxMessage(
                        brand_id=brand.id,
                        topic="shipment.delivered",
                        dedupe_key=f"{tag}-{handled}",
                        created_at=age,
                        processed_at=age if handled else None,
                    )
                )
    return tmp_path / "archive"


def _records(path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


def _count(runtime, table) -> int:
    with runtime.sessions() as session:
        return session.scalar(select(func.count()).select_from(table))


def test_a_dry_run_counts_and_changes_nothing(runtime, aged):
    assert prune(runtime, dry_run=True) == {
        "webhook_receipts": 1,
        "tracking_events": 3,
        "outbox": 1,
    }
    assert (_count(runtime, WebhookReceipt), _count(runtime, TrackingEventRow)) == (6, 12)
    assert not aged.exists()


def test_only_old_finished_rows_go_and_every_one_is_archived_first(runtime, aged):
    assert prune(runtime) == {"webhook_receipts": 1, "tracking_events": 3, "outbox": 1}
    with runtime.sessions() as session:
        kept_receipts = sorted(
            (r.status, r.received_at.year) for r in session.scalars(select(WebhookReceipt))
        )
        kept_events = {e.shipment_id for e in session.scalars(select(TrackingEventRow))}
        kept_messages = sorted(m.dedupe_key for m in session.scalars(select(OutboxMessage)))
    assert kept_receipts == [
        ("failed", 2025),
        ("failed", 2026),
        ("processed", 2026),
        ("received", 2025),
        ("received", 2026),
    ]
    assert kept_events == {"shp_old_in_transit", "shp_new_delivered", "shp_new_in_transit"}
    assert kept_messages == ["new-False", "new-True", "old-False"]
    archived = {
        path.relative_to(aged).parts[0]: _records(path)
        for path in aged.rglob("*.jsonl.gz")
        if "tracking_events" not in path.parts
    }
    assert archived["webhook_receipts"][0]["body"] == {"base64": "/3tyYXd9"}
    assert archived["outbox"][0]["dedupe_key"] == "old-True"
    events = [
        record["dedupe_key"]
        for path in sorted((aged / "tracking_events").rglob("*.jsonl.gz"))
        for record in _records(path)
    ]
    assert events == ["olddelivered0", "olddelivered1", "olddelivered2"]  # two batches of 2, 1
    assert not list(aged.rglob("*.partial"))
    assert prune(runtime) == {"webhook_receipts": 0, "tracking_events": 0, "outbox": 0}


def test_the_cli_reports_what_it_would_do(runtime, aged, runner, settings, monkeypatch):
    from shipflow import cli

    monkeypatch.setattr(cli, "_runtime", lambda ctx, signs=False: runtime)
    result = runner.invoke(cli.main, ["retention", "run", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "webhook_receipts: would archive and delete 1 row(s)",
        "tracking_events: would archive and delete 3 row(s)",
        "outbox: would archive and delete 1 row(s)",
    ]
