"""The daily retraining job of the job runner."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select

from shipflow.brands import sync_brands
from shipflow.edd.repository import add_history
from shipflow.jobs import periodic, run
from shipflow.store.db import unit_of_work
from shipflow.store.edd_models import TransitModelRow
from tests.edd.factories import history


def models(runtime) -> int:
    with runtime.sessions() as session:
        return session.scalar(select(func.count()).select_from(TransitModelRow))


def test_retrains_each_brand_once_a_day(runtime, clock, brands):
    assert "edd.retrain" in {job.name for job in periodic(runtime.jobs.values())}
    assert run(runtime, "edd.retrain") == 0  # nothing delivered yet: nothing to learn
    with unit_of_work(runtime.sessions) as session:
        brand = sync_brands(session, runtime.settings)[0]
        records = history([2, 3] * 30, start=date(2026, 6, 1), shipper="EWR", origin="08817")
        add_history(session, brand.id, records, "import")
    clock.current = datetime(2026, 11, 23, 15, tzinfo=UTC)
    assert run(runtime, "edd.retrain") == 1
    assert run(runtime, "edd.retrain") == 0  # the model is fresh
    clock.advance(timedelta(days=1))
    assert run(runtime, "edd.retrain") == 1
    assert models(runtime) == 2
