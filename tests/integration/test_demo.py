"""The demo's first run: the brand, a year of sandbox deliveries and a trained model."""

from __future__ import annotations

from sqlalchemy import func, select

from shipflow.demo.traffic import prepare
from shipflow.store.edd_models import DeliveryHistoryRow, TransitModelRow
from shipflow.store.models import Brand


def test_first_run_seeds_history_and_a_model_once(runtime, tmp_path):
    runs = [prepare(runtime, "northwind", tmp_path) for _ in range(2)]  # a restart keeps it all
    access = runs[-1]
    with runtime.sessions() as session:
        brand = session.scalar(select(Brand).where(Brand.code == "northwind"))
        rows = session.scalar(select(func.count()).select_from(DeliveryHistoryRow))
        models = session.scalar(select(func.count()).select_from(TransitModelRow))
        model = runtime.edd.latest_model(session, brand.id)
    assert rows == 6000 and models == 1 and access.api_key == runs[0].api_key
    assert model.calibration is not None and model.promise_rate(0.95) is not None
