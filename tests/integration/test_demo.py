"""The demo's first run: the brand, a year of sandbox deliveries and a trained model."""

from __future__ import annotations

from sqlalchemy import func, select

from shipflow.demo.traffic import DemoTraffic, prepare
from shipflow.store.edd_models import DeliveryHistoryRow, TransitModelRow
from shipflow.store.models import Brand, Order


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


def test_a_restarted_demo_goes_on_numbering_its_orders(runtime, tmp_path):
    """Each run's shoppers are the same seeded stream: a restart on the same database must
    not place the first run's order numbers again."""
    prepare(runtime, "northwind", tmp_path)
    placed = []
    for _ in range(2):  # a first run, then a restart
        traffic = DemoTraffic(runtime, "northwind", "http://127.0.0.1:1")
        traffic.started -= 6 / traffic.per_second  # six orders due
        placed.append(traffic.place_due_orders())
    with runtime.sessions() as session:
        numbers = session.scalars(
            select(Order.order_number).where(Order.order_number.like("D%"))
        ).all()
    assert placed == [7, 7]
    assert sorted(n[:7] for n in numbers) == [f"D{i:06d}" for i in range(1, 15)]
