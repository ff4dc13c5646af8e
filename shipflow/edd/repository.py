"""Storage of what the EDD engine learns from and what it learned: history rows and models."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, fields
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from shipflow.edd.history import HistoryRecord
from shipflow.edd.transit import TransitModel
from shipflow.store.db import one_of
from shipflow.store.edd_models import DeliveryHistoryRow, TransitModelRow

RECORD_FIELDS = tuple(f.name for f in fields(HistoryRecord))
LOOKUP_CHUNK = 10_000  # order ids per lookup: SQLite binds each, up to 32,766 a statement


def add_history(
    session: Session, brand_id: str, records: Iterable[HistoryRecord], source: str
) -> tuple[int, int]:
    """Store records not yet known for (brand, source, order id); (added, already known).
    Only the records' own orders are looked up: every delivered batch of the tracking
    pipeline comes here, and reading all the brand's known orders each time grew with the
    history (at a million tracked deliveries, a million ids read for each batch)."""
    records = list(records)
    ids = list({record.order_id for record in records})
    known: set[str] = set()
    for start in range(0, len(ids), LOOKUP_CHUNK):
        chunk = ids[start : start + LOOKUP_CHUNK]
        known.update(
            session.scalars(
                select(DeliveryHistoryRow.order_id).where(
                    DeliveryHistoryRow.brand_id == brand_id,
                    DeliveryHistoryRow.source == source,
                    one_of(session, DeliveryHistoryRow.order_id, chunk),
                )
            )
        )
    added = 0
    for record in records:
        if record.order_id in known:
            continue
        known.add(record.order_id)
        session.add(DeliveryHistoryRow(brand_id=brand_id, source=source, **asdict(record)))
        added += 1
    session.flush()
    return added, len(records) - added


def load_history(
    session: Session, brand_id: str, ordered: tuple[datetime, datetime] | None = None
) -> list[HistoryRecord]:
    """The brand's history; with `ordered` (from, before), only the orders placed then, picked
    by the database rather than after loading every row."""
    statement = select(DeliveryHistoryRow).where(DeliveryHistoryRow.brand_id == brand_id)
    if ordered is not None:
        statement = statement.where(
            DeliveryHistoryRow.ordered_at >= ordered[0], DeliveryHistoryRow.ordered_at < ordered[1]
        )
    rows = session.scalars(statement)
    return [HistoryRecord(**{name: getattr(row, name) for name in RECORD_FIELDS}) for row in rows]


def store_model(
    session: Session, brand_id: str, model: TransitModel, records: int, trained_at: datetime
) -> TransitModelRow:
    row = TransitModelRow(
        brand_id=brand_id,
        trained_at=trained_at,
        as_of=model.as_of or trained_at,
        records=records,
        calibration_samples=model.calibration.samples if model.calibration else 0,
        model=model.to_dict(),
    )
    session.add(row)
    session.flush()
    return row


def latest_model_id(session: Session, brand_id: str) -> int | None:
    return session.scalar(
        select(TransitModelRow.id)
        .where(TransitModelRow.brand_id == brand_id)
        .order_by(TransitModelRow.id.desc())
        .limit(1)
    )


def load_model(session: Session, model_id: int) -> TransitModel:
    return TransitModel.from_dict(session.get_one(TransitModelRow, model_id).model).prepared()
