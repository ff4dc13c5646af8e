from datetime import UTC, datetime, timedelta

import pytest

from shipflow import geo
from shipflow.brands import sync_brand
from shipflow.edd.backlog import (
    Backlog,
    backlog_stretches,
    claim_count,
    current_backlog,
    stored_backlog,
)
from shipflow.edd.distribution import Distribution
from shipflow.edd.lanes import Lane
from shipflow.edd.transit import ModelConfig, TransitModel
from shipflow.jobs import periodic, run
from shipflow.store.db import unit_of_work
from shipflow.store.models import Order, Shipment

from .factories import history

NOW = datetime(2027, 6, 1, 12, tzinfo=UTC)
NYC, CHI = geo.locate("US", "10001"), geo.locate("US", "60601")
CONFIG = ModelConfig()  # a 7-day window, 2 standard errors off, capped at 1.5


def test_a_stretch_moves_each_days_mass_to_the_whole_days_either_side_of_days_times_factor():
    pmf = Distribution((0.0, 0.5, 0.5, 0.0, 0.0), "lane").stretched(1.5).pmf
    assert pmf == (0.0, 0.25, 0.25, 0.5, 0.0)  # 1 -> 1.5 (half on 1, half on 2), 2 -> 3


def test_what_a_stretch_moves_beyond_the_last_day_stays_on_it():
    assert Distribution((0.0, 0.0, 1.0), "lane").stretched(1.5).pmf == (0.0, 0.0, 1.0)


@pytest.mark.parametrize(
    ("in_flight", "delivered", "usual_days", "stretch"),
    [
        # 350 delivered in 7 days: 50 a day, 400 in flight wait 8 days against a usual 5:
        # 1.6, less 2 x sqrt(1/400 + 1/350) = 14.6 % of counting noise
        (400.0, 350, 5.0, 1.37),
        (400.0, 350, 4.0, 1.5),  # 2.0 less noise: 1.71, capped
        (350.0, 350, 7.0, 1.0),  # a steady queue: its wait is the usual transit
        (200.0, 350, 7.0, 1.0),  # a shrinking queue never shortens promises
        (8.0, 5, 5.0, 1.0),  # 11.2 days against 5, but 8 parcels say little: noise 114 %
        (0.0, 0, 0.0, 1.0),  # nothing shipped
    ],
)
def test_the_stretch_is_the_expected_wait_over_the_usual_transit_less_its_noise(
    in_flight, delivered, usual_days, stretch
):
    assert Backlog(in_flight, delivered, usual_days).stretch(CONFIG) == stretch


def test_the_switch_turns_the_stretch_off():
    assert Backlog(400.0, 350, 5.0).stretch(ModelConfig(backlog=False)) == 1.0


def _lane() -> Lane:
    return Lane("ups:ground", NYC.regions, CHI.regions, geo.distance_km(NYC, CHI), "wh-nyc")


def test_a_model_with_a_backlog_quotes_its_service_longer_and_keeps_the_stored_model():
    model = TransitModel.fit(history([2] * 60 + [4] * 40), NOW, ModelConfig(half_life_days=1e9))
    slow = model.with_backlog({"ups:ground": 1.5, "fedex:ground": 1.0})
    assert (model.predict(_lane()).quantile(0.5), slow.predict(_lane()).quantile(0.5)) == (2, 3)
    assert (model.predict(_lane()).quantile(0.95), slow.predict(_lane()).quantile(0.95)) == (4, 6)
    assert slow.backlog == {"ups:ground": 1.5}  # a stretch of 1 changes nothing
    assert slow.with_backlog({"ups:ground": 1.5}) is slow  # the same stretch: the same lanes
    assert model.with_backlog({"ups:ground": 1.0}) is model


def _shipment(brand_id: str, shipped_days_ago: float, transit_days: float | None, **changes):
    shipped = NOW - timedelta(days=shipped_days_ago)
    delivered = shipped + timedelta(days=transit_days) if transit_days is not None else None
    values = {
        "brand_id": brand_id,
        "carrier": "ups",
        "service": "ground",
        "status": "delivered" if delivered and delivered < NOW else "in_transit",
        "created_at": shipped - timedelta(days=1),
        "shipped_at": shipped,
        "delivered_at": delivered if delivered and delivered < NOW else None,
    }
    return Shipment(**(values | changes))


def _brand_with_shipments(runtime) -> str:
    with unit_of_work(runtime.sessions) as session:
        brand_id = sync_brand(session, runtime.settings.brands[0]).id
        session.add_all(
            [
                _shipment(brand_id, 60, 4),  # usual transit only: delivered 56 days ago
                _shipment(brand_id, 12, 2),  # delivered 10 days ago, before the window
                _shipment(brand_id, 9, 6),  # delivered 3 days ago: 4 of the window's 7 days
                _shipment(brand_id, 3, None),  # in flight 3 days
                _shipment(brand_id, 1, 5),  # in flight 1 day, delivered after now
                _shipment(brand_id, 40, None),  # given up 10 days ago, after 30 days
                _shipment(brand_id, 5, None, status="returned_to_sender"),
                _shipment(brand_id, 2, None, kind="return"),
                _shipment(brand_id, 2, None, service="express"),
            ]
        )
    return brand_id


# in flight: parcel-days in the window / 7; usual: (4 + 2 + 6) / 3
COUNTED = {
    "ups:ground": Backlog(pytest.approx(8 / 7), 1, pytest.approx(4.0)),
    "ups:express": Backlog(pytest.approx(2 / 7), 0, 0.0),
}


def test_the_backlog_is_counted_from_the_brands_shipments_in_one_query(runtime):
    brand_id = _brand_with_shipments(runtime)
    with unit_of_work(runtime.sessions) as session:
        assert current_backlog(session, brand_id, NOW, CONFIG) == COUNTED
        assert stored_backlog(session, brand_id) is None  # the job has not run: counted here
        assert backlog_stretches(session, brand_id, NOW, CONFIG) == {
            "ups:ground": 1.0,  # waiting 8 days against 4, but noise is over 100 %
            "ups:express": 1.0,
        }
        assert backlog_stretches(session, brand_id, NOW, ModelConfig(backlog=False)) == {}


def test_a_periodic_job_stores_the_counts_and_quotes_read_them_until_it_counts_again(
    runtime, clock
):
    assert "edd.count_backlogs" in {job.name for job in periodic(runtime.jobs.values())}
    clock.current = NOW
    brand_id = _brand_with_shipments(runtime)
    assert run(runtime, "edd.count_backlogs") == 1
    assert run(runtime, "edd.count_backlogs") == 0  # counted less than 10 minutes ago
    with unit_of_work(runtime.sessions) as session:
        assert stored_backlog(session, brand_id) == COUNTED
        session.add_all([_shipment(brand_id, 1, None, service="saver") for _ in range(400)])
    with unit_of_work(runtime.sessions) as session:  # the stored counts, not the shipments
        assert backlog_stretches(session, brand_id, NOW, CONFIG) == {
            "ups:ground": 1.0,
            "ups:express": 1.0,
        }
    clock.advance(timedelta(minutes=10))
    assert run(runtime, "edd.count_backlogs") == 1
    with unit_of_work(runtime.sessions) as session:
        later = 1 / 144  # 10 minutes more of each parcel still in flight in the window
        assert stored_backlog(session, brand_id) == {
            # 2 still in flight, and the one delivered 3 days ago 10 minutes less in the window
            "ups:ground": Backlog(pytest.approx((8 + later) / 7), 1, pytest.approx(4.0)),
            "ups:express": Backlog(pytest.approx((2 + later) / 7), 0, 0.0),
            "ups:saver": Backlog(pytest.approx(400 * (1 + later) / 7), 0, 0.0),
        }


def test_a_parcel_is_in_the_queue_from_its_order(runtime):
    """Orders a surge placed are ahead of the next parcel before any of them is handed over."""
    with unit_of_work(runtime.sessions) as session:
        brand_id = sync_brand(session, runtime.settings.brands[0]).id

        def ordered(number: str, days_ago: float) -> Order:
            placed = NOW - timedelta(days=days_ago)
            return Order(brand_id=brand_id, order_number=number, placed_at=placed, currency="USD")

        session.add_all(
            [
                # ordered 63 days ago, handed over 3 days later, 4 days in transit
                _shipment(brand_id, 60, 4, order=ordered("1", 63)),
                # ordered 10 days ago, handed over 1 day later, delivered 3 days ago
                _shipment(brand_id, 9, 6, order=ordered("2", 10)),
                # ordered 2 days ago, its label bought, not handed over yet
                _shipment(brand_id, 0, None, order=ordered("3", 2), shipped_at=None),
                _shipment(brand_id, 3, None),  # in flight 3 days, no order: from its handover
            ]
        )
    with unit_of_work(runtime.sessions) as session:
        # in the window: 4 + 2 + 3 parcel-days over 7; order to delivery: (7 + 7) / 2
        assert current_backlog(session, brand_id, NOW, CONFIG) == {
            "ups:ground": Backlog(pytest.approx(9 / 7), 1, pytest.approx(7.0)),
        }


def test_a_brand_another_run_is_counting_is_left_to_it(runtime, clock):
    if runtime.engine.dialect.name != "postgresql":
        pytest.skip("SQLite's embedded runner never runs a job twice at once")
    clock.current = NOW
    brand_id = _brand_with_shipments(runtime)
    with runtime.sessions() as other:  # a run counting the brand: its transaction holds the lock
        assert claim_count(other, brand_id)
        assert run(runtime, "edd.count_backlogs") == 0
    assert run(runtime, "edd.count_backlogs") == 1
