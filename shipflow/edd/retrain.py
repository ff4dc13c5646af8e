"""Training a brand's model from its stored history, as the CLI and the daily job do."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from shipflow.config import BrandConfig
from shipflow.edd.repository import load_history, store_model
from shipflow.edd.service import BrandSetup
from shipflow.edd.training import history_quote, train
from shipflow.edd.transit import ModelConfig, observed_delivery_weekdays
from shipflow.store.models import Brand


@dataclass(frozen=True, slots=True)
class Trained:
    model_id: int
    records: int
    delivered: int
    calibration_samples: int


def train_brand(session: Session, brand: Brand, now: datetime) -> Trained:
    """Fit and store a model on everything the brand's history delivered before `now`."""
    setup = BrandSetup.of(BrandConfig.model_validate(brand.settings))
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
