"""Training a brand's model from its stored history, as the CLI and the daily job do."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from shipflow.edd.learned import observed_delivery_weekdays
from shipflow.edd.repository import load_history, store_model
from shipflow.edd.service import UnconfiguredBrand, brand_setup
from shipflow.edd.training import history_quote, train
from shipflow.edd.transit import ModelConfig
from shipflow.store.db import each_in_own_transaction
from shipflow.store.edd_models import DeliveryHistoryRow, TransitModelRow
from shipflow.store.models import Brand

if TYPE_CHECKING:
    from shipflow.config import Settings
    from shipflow.runtime import Runtime

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Trained:
    model_id: int
    records: int
    delivered: int
    calibration_samples: int


def train_brand(session: Session, brand: Brand, now: datetime, settings: Settings) -> Trained:
    """Fit and store a model on everything the brand's history delivered before `now`."""
    setup = brand_setup(session, brand.id, settings)
    records = load_history(session, brand.id)
    delivered = [r for r in records if r.delivered_at and r.delivered_at < now]
    delivery_days = observed_delivery_weekdays(delivered) or ModelConfig().delivery_weekdays
    zone = setup.warehouses[0].timezone
    cutoffs = setup.cutoffs()
    model = train(
        records,
        now,
        history_quote(zone, delivery_days, cutoffs),
        ModelConfig(delivery_weekdays=delivery_days),
        cutoffs=cutoffs,
    )
    row = store_model(session, brand.id, model, len(delivered), now)
    return Trained(row.id, len(records), len(delivered), row.calibration_samples)


def retrain_due(runtime: Runtime, max_age: timedelta = timedelta(days=1)) -> int:
    """Retrain every brand whose newest model is older than `max_age` (by the runtime's clock,
    so an accelerated demo retrains daily in its own time) and that has deliveries to learn
    from; returns how many models were stored."""
    now = runtime.clock.now()
    with runtime.sessions() as session:
        due = [
            brand_id
            for brand_id in session.scalars(select(Brand.id))
            if _due(session, brand_id, now, max_age)
        ]

    def retrain(session: Session, brand_id: str) -> bool:
        try:
            train_brand(session, session.get_one(Brand, brand_id), now, runtime.settings)
        except UnconfiguredBrand as exc:  # expected, so no traceback
            log.error("EDD retraining skipped brand %s: %s", brand_id, exc)
            return False
        return True

    return sum(each_in_own_transaction(runtime.sessions, due, retrain, "EDD retraining").values())


def _due(session: Session, brand_id: str, now: datetime, max_age: timedelta) -> bool:
    trained = session.scalar(
        select(func.max(TransitModelRow.trained_at)).where(TransitModelRow.brand_id == brand_id)
    )
    if trained is not None and now - trained < max_age:
        return False
    return bool(
        session.scalar(
            select(
                exists().where(
                    DeliveryHistoryRow.brand_id == brand_id, DeliveryHistoryRow.delivered_at < now
                )
            )
        )
    )
