"""Retention archives and deletes only what nothing reads any more, on SQLite and PostgreSQL."""

from __future__ import annotations

import gzip
import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from shipflow.brands import sync_brands
from shipflow.config import RetentionConfig
from shipflow.retention import prune
from shipflow.store.db import unit_of_work
from shipflow.store.models import Brand, OutboxMessage, Shipment, TrackingEventRow
from shipflow.store.partitions import (
    PARTITIONED,
    create_partition,
    ensure_partitions,
    partitions,
)
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


@pytest.mark.postgres
def test_postgres_drops_a_whole_month_once_every_row_of_it_is_past_keeping(
    runtime, aged, database_url
):
    if not database_url.startswith("postgresql"):
        pytest.skip("partitions are PostgreSQL's")
    old = (runtime.clock.now() - timedelta(days=500)).date().replace(day=1)
    with runtime.engine.begin() as connection:
        # The aged rows went to the default partition: giving their month its own moves them.
        for table in ("webhook_receipts", "tracking_events"):
            create_partition(connection, table, "received_at", old)
        months = {t: set(partitions(connection, t).values()) for t in PARTITIONED}
    assert all(old in held for held in months.values())
    assert prune(runtime) == {"webhook_receipts": 1, "tracking_events": 3, "outbox": 1}
    with runtime.engine.connect() as connection:
        left = {t: set(partitions(connection, t).values()) for t in PARTITIONED}
    # The month also holds a failed and an unprocessed receipt and the events of a shipment
    # still in transit: kept, and the month with them; the rest went row by row.
    assert old in left["webhook_receipts"] and old in left["tracking_events"]
    with unit_of_work(runtime.sessions) as session:
        for receipt in session.scalars(select(WebhookReceipt)):
            receipt.status = "processed"
        shipment = session.get_one(Shipment, "shp_old_in_transit")
        shipment.status = "returned_to_sender"  # back then: a changed stamp is kept as given
        shipment.updated_at = shipment.created_at + timedelta(hours=1)
    assert prune(runtime) == {"webhook_receipts": 2, "tracking_events": 3, "outbox": 0}
    with runtime.engine.connect() as connection:
        left = {t: set(partitions(connection, t).values()) for t in PARTITIONED}
    assert old not in left["webhook_receipts"] and old not in left["tracking_events"]
    archived = sorted(p.name for p in (aged / "tracking_events").rglob("*.jsonl.gz"))
    assert len(archived) == 4  # 2 + 1 rows deleted one by one, then the dropped month: 2 + 1
    with runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(TrackingEventRow)) == 6


@pytest.mark.postgres
def test_postgres_partitions_are_made_ahead_and_stray_rows_move_into_their_month(
    runtime, database_url
):
    if not database_url.startswith("postgresql"):
        pytest.skip("partitions are PostgreSQL's")
    later = runtime.clock.now() + timedelta(days=200)
    with unit_of_work(runtime.sessions) as session:
        sync_brands(session, runtime.settings)
        brand = session.scalars(select(Brand)).first()
        session.add(
            WebhookReceipt(
                brand_id=brand.id,
                carrier="sandbox",
                account="a",
                headers={},
                body=b"{}",
                received_at=later,
            )
        )
    with runtime.engine.begin() as connection:
        assert connection.scalar(text("SELECT count(*) FROM webhook_receipts_default")) == 1
        runtime.clock.current = later
        created = ensure_partitions(connection, later, ahead=1)
        assert f"webhook_receipts_p{later:%Y%m}" in created
        assert connection.scalar(text("SELECT count(*) FROM webhook_receipts_default")) == 0
        assert connection.scalar(text("SELECT count(*) FROM webhook_receipts")) == 1
        assert ensure_partitions(connection, later, ahead=1) == []
