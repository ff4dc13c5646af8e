"""A year of data at an affordable size: rows nothing reads any more are archived and deleted.

- processed webhook receipts (the raw payload is kept to replay a failure; once processed, the
  events it carried live in `tracking_events`), after `retention.receipts_days`;
- the tracking events of finished shipments (delivered, returned, cancelled, expired: the
  shipment row keeps its status and dates, which is what history and EDD training read), after
  `retention.finished_events_days` since the shipment last changed;
- handled outbox messages, after `retention.outbox_days`.

On PostgreSQL a whole month of receipts or events whose every row is past keeping is
archived and its partition dropped (shipflow.store.partitions); the rest go row by row.

Unprocessed or failed receipts, unhandled messages and the events of shipments still moving
are never touched. Each batch is written to `archive_dir` as gzip JSON Lines (a temporary file
renamed into place, named by its first and last id, so a batch archived twice is one file)
before its rows are deleted in the same transaction; several workers may run the job at once
(`SKIP LOCKED` on PostgreSQL).
"""

from __future__ import annotations

import base64
import gzip
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, delete, func, select
from sqlalchemy.orm import Session

from shipflow.domain import TERMINAL_STATUSES
from shipflow.store.db import unit_of_work
from shipflow.store.models import OutboxMessage, Shipment, TrackingEventRow
from shipflow.store.partitions import PARTITIONED, drop_partition, month_bounds, partitions
from shipflow.store.tracking_models import WebhookReceipt

if TYPE_CHECKING:
    from shipflow.config import RetentionConfig
    from shipflow.runtime import Runtime

FINISHED = tuple(status.value for status in TERMINAL_STATUSES)


@dataclass(frozen=True)
class Rule:
    """Which rows of one table are past keeping, given the cut-off time of its age setting."""

    table: type[WebhookReceipt] | type[TrackingEventRow] | type[OutboxMessage]
    age: Callable[[RetentionConfig], int]
    due: Callable[[datetime], Select[Any]]


RULES = (
    Rule(
        WebhookReceipt,
        lambda config: config.receipts_days,
        lambda cutoff: select(WebhookReceipt).where(
            WebhookReceipt.status == "processed", WebhookReceipt.received_at < cutoff
        ),
    ),
    Rule(
        TrackingEventRow,
        lambda config: config.finished_events_days,
        lambda cutoff: select(TrackingEventRow).where(
            TrackingEventRow.shipment_id.in_(
                select(Shipment.id).where(
                    Shipment.status.in_(FINISHED), Shipment.updated_at < cutoff
                )
            )
        ),
    ),
    Rule(
        OutboxMessage,
        lambda config: config.outbox_days,
        lambda cutoff: select(OutboxMessage).where(
            OutboxMessage.processed_at.is_not(None), OutboxMessage.processed_at < cutoff
        ),
    ),
)


def prune(runtime: Runtime, *, dry_run: bool = False) -> dict[str, int]:
    """Archive and delete what is past keeping, batch by batch; rows per table. A dry run
    counts them and changes nothing."""
    config = runtime.settings.retention
    now = runtime.clock.now()
    done: dict[str, int] = {}
    for rule in RULES:
        cutoff = now - timedelta(days=rule.age(config))
        name = rule.table.__tablename__
        done[name] = 0 if dry_run else _drop_months(runtime, rule, cutoff, now.date())
        for _ in range(config.max_batches):
            with unit_of_work(runtime.sessions) as session:
                rows = _batch(session, rule, cutoff, config.batch_size, lock=not dry_run)
                if dry_run:
                    done[name] = _count(session, rule, cutoff)
                    break
                if not rows:
                    break
                if config.archive_dir:
                    archive(Path(config.archive_dir), name, rows, now.date())
                ids = [row.id for row in rows]
                session.execute(delete(rule.table).where(rule.table.id.in_(ids)))
                done[name] += len(rows)
            if len(rows) < config.batch_size:
                break
    return done


def _drop_months(runtime: Runtime, rule: Rule, cutoff: datetime, today: date) -> int:
    """Whole monthly partitions past keeping (PostgreSQL): archived, then dropped at once,
    which leaves nothing for VACUUM; a month holding any row still kept is left to the
    row-by-row path. Rows dropped."""
    table = rule.table.__tablename__
    if table not in PARTITIONED or runtime.engine.dialect.name != "postgresql":
        return 0
    key = getattr(rule.table, PARTITIONED[table])
    with runtime.engine.connect() as connection:
        months = partitions(connection, table)
    dropped = 0
    for month in sorted(months.values()):
        start, end = month_bounds(month)
        if end > cutoff:
            continue
        in_month = (key >= start, key < end)
        with unit_of_work(runtime.sessions) as session:
            total = session.scalar(select(func.count()).select_from(rule.table).where(*in_month))
            if total != _count_where(session, rule.due(cutoff).where(*in_month)):
                continue
            last = 0
            config = runtime.settings.retention
            while config.archive_dir:
                batch = list(
                    session.scalars(
                        rule.due(cutoff)
                        .where(*in_month, rule.table.id > last)
                        .order_by(rule.table.id)
                        .limit(config.batch_size)
                    )
                )
                if not batch:
                    break
                archive(Path(config.archive_dir), table, batch, today)
                last = batch[-1].id
                session.expunge_all()
            drop_partition(session.connection(), table, month)
            dropped += total or 0
    return dropped


def prune_job(runtime: Runtime) -> int:
    """The periodic job: rows archived and deleted this run."""
    return sum(prune(runtime).values())


def _batch(session: Session, rule: Rule, cutoff: datetime, size: int, lock: bool) -> list[Any]:
    query = rule.due(cutoff).order_by(rule.table.id).limit(size)
    if lock:  # another worker's batch is skipped, not waited for (PostgreSQL)
        query = query.with_for_update(skip_locked=True)
    return list(session.scalars(query))


def _count(session: Session, rule: Rule, cutoff: datetime) -> int:
    return _count_where(session, rule.due(cutoff))


def _count_where(session: Session, query: Select[Any]) -> int:
    return session.scalar(select(func.count()).select_from(query.subquery())) or 0


def archive(root: Path, table: str, rows: list[Any], day: date) -> Path:
    """One gzip JSON Lines file for a batch: `<root>/<table>/<day>/<first id>-<last id>`."""
    folder = root / table / day.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{rows[0].id:012d}-{rows[-1].id:012d}.jsonl.gz"
    partial = path.with_suffix(".partial")
    with gzip.open(partial, "wt", encoding="utf-8") as out:
        for line in _lines(rows):
            out.write(line)
    os.replace(partial, path)
    return path


def _lines(rows: list[Any]) -> Iterator[str]:
    for row in rows:
        record = {c.key: _plain(getattr(row, c.key)) for c in row.__mapper__.column_attrs}
        yield json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n"


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return {"base64": base64.b64encode(value).decode()}
    return value
