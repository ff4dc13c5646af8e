"""Storage of what the EDD engine learns from and what it learned: history rows and models."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import fields
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from shipflow.edd.history import HistoryRecord
from shipflow.edd.transit import TransitModel
from shipflow.store.db import insert_all_or_skip
from shipflow.store.edd_models import DeliveryHistoryRow, TransitModelRow
from shipflow.store.models import table_of

RECORD_FIELDS = tuple(f.name for f in fields(HistoryRecord))
_HISTORY = table_of(DeliveryHistoryRow)
_ORDER_KEY = ("brand_id", "source", "order_id")  # uq_delivery_history_order


def add_history(
    session: Session, brand_id: str, records: Iterable[HistoryRecord], source: str
) -> tuple[int, int]:
    """Store records not yet known for (brand, source, order id); (added, already known).
    One INSERT ... ON CONFLICT DO NOTHING on that key for all the records (an order given
    twice is stored once): every delivered batch of the tracking pipeline comes here, which
    looked up the batch's known orders, then flushed an ORM object for each new one."""
    rows = [
        {"brand_id": brand_id, "source": source, **{n: getattr(r, n) for n in RECORD_FIELDS}}
        for r in records
    ]
    added = insert_all_or_skip(session, _HISTORY, rows, _ORDER_KEY)
    return added, len(rows) - added


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
