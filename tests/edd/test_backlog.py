from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from shipflow import geo
from shipflow.brands import sync_brand
from shipflow.calendars import calendar
from shipflow.clock import AcceleratedClock, FixedClock
from shipflow.edd.backlog import (
    Backlog,
    backlog_stretches,
    brand_calendars,
    claim_count,
    current_backlog,
    stale_after,
    stored_backlog,
    stretches,
)
from shipflow.edd.distribution import Distribution
from shipflow.edd.lanes import Lane
from shipflow.edd.transit import ModelConfig, TransitModel
from shipflow.jobs import periodic, run
from shipflow.store.db import unit_of_work
from shipflow.store.edd_models import BacklogCountRow
from shipflow.store.models import Order, Shipment
from tests.conftest import configure_brand

from .factories import history

NOW = datetime(2027, 6, 1, 12, tzinfo=UTC)  # a Tuesday; Memorial Day was on Monday 31 May
NYC, CHI = geo.locate("US", "10001"), geo.locate("US", "60601")
CONFIG = ModelConfig()  # a 7-day window, 2 standard errors off, capped at 1.5
MODEL = TransitModel(CONFIG)  # every service delivers Monday to Friday


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
    assert Backlog(in_flight, delivered, usual_days, 7.0).stretch(CONFIG) == stretch


def test_the_switch_turns_the_stretch_off():
    assert Backlog(400.0, 350, 5.0, 7.0).stretch(ModelConfig(backlog=False)) == 1.0


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


def _shipment(
    brand_id: str, shipped_days_ago: float, transit_days: float | None, now=NOW, **changes
):
    shipped = now - timedelta(days=shipped_days_ago)
    delivered = shipped + timedelta(days=transit_days) if transit_days is not None else None
    values = {
        "brand_id": brand_id,
        "carrier": "ups",
        "service": "ground",
        "status": "delivered" if delivered and delivered < now else "in_transit",
        "created_at": shipped - timedelta(days=1),
        "shipped_at": shipped,
        "delivered_at": delivered if delivered and delivered < now else None,
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


# Working days of the brand's first warehouse by code (DFW: Chicago, every time below 07:00
# local; its holidays are Texas's, as its quotes', the three warehouses being in three
# states), Monday to Friday less those holidays. The window, the 5 working days before today and
# today's part (24 May 00:00 to 1 June 07:00), holds 5 + 7/24 = 127/24 of them. In flight:
# the parcel delivered on Saturday 29 May 5, those still in flight since the weekend or
# Memorial Day 7/24 each (1 June's morning).
# Usual: order to delivery of 2 (Friday 2 April to Tuesday 6), 1 + 17/24 (Thursday 20 May to
# Saturday 22) and 5 (Sunday 23 May to Saturday 29) working days.
WINDOW = pytest.approx(127 / 24)
COUNTED = {
    "ups:ground": Backlog(pytest.approx(134 / 127), 1, pytest.approx(209 / 72), WINDOW),
    "ups:express": Backlog(pytest.approx(7 / 127), 0, 0.0, WINDOW),
}


def _counted(runtime, session, brand_id):
    warehouses = [w.to_domain() for w in runtime.settings.brands[0].warehouses]
    return current_backlog(session, brand_id, brand_calendars(warehouses, MODEL, NOW))[0]


def test_the_backlog_is_counted_in_working_days_from_the_brands_shipments(runtime):
    brand_id = _brand_with_shipments(runtime)
    with unit_of_work(runtime.sessions) as session:
        counted = _counted(runtime, session, brand_id)
    assert counted == COUNTED
    # waiting 5.6 working days against 2.9 on ground, but the noise is over 100 %
    assert stretches(counted, CONFIG) == {"ups:ground": 1.0, "ups:express": 1.0}


def _with_a_backlog(runtime) -> str:
    """The brand's shipments, then 100 parcels a working day delivered in a day each and 100
    in flight for 3 working days: stretched 1.5 on ground."""
    brand_id = _brand_with_shipments(runtime)
    with unit_of_work(runtime.sessions) as session:
        session.add_all([_shipment(brand_id, 8, 2) for _ in range(100)])
        session.add_all([_shipment(brand_id, 6, None) for _ in range(100)])
    return brand_id


def test_quotes_go_unstretched_until_the_job_has_counted_the_brand(runtime, clock):
    """Counting on the request path put a scan of months of shipments into a quote of each
    process (and into each batch of promises) until the job had run, a minute at most."""
    clock.current = NOW
    brand_id = _with_a_backlog(runtime)
    with runtime.sessions() as session:
        assert backlog_stretches(session, brand_id, NOW, CONFIG) == {}
    assert run(runtime, "edd.count_backlogs") == 1
    with runtime.sessions() as session:
        assert backlog_stretches(session, brand_id, NOW, CONFIG) == {
            "ups:ground": 1.5,
            "ups:express": 1.0,
        }
        assert backlog_stretches(session, brand_id, NOW, ModelConfig(backlog=False)) == {}


def test_counts_stored_in_calendar_days_stretch_nothing_until_the_job_counts_again(runtime, clock):
    """An earlier release stored each service's queue without its working days."""
    clock.current = NOW
    brand_id = _with_a_backlog(runtime)
    with unit_of_work(runtime.sessions) as session:
        earlier = {"in_flight": 900.0, "delivered": 300, "usual_days": 2.0}
        session.add(
            BacklogCountRow(brand_id=brand_id, counted_at=NOW, services={"ups:ground": earlier})
        )
    with runtime.sessions() as session:
        assert backlog_stretches(session, brand_id, NOW, CONFIG) == {}
    clock.current = NOW + timedelta(minutes=10)
    assert run(runtime, "edd.count_backlogs") == 1
    with runtime.sessions() as session:
        assert backlog_stretches(session, brand_id, clock.current, CONFIG)["ups:ground"] == 1.5


def test_a_periodic_job_stores_the_counts_and_quotes_read_them_until_it_counts_again(
    runtime, clock
):
    assert "edd.count_backlogs" in {job.name for job in periodic(runtime.jobs.values())}
    clock.current = NOW
    brand_id = _brand_with_shipments(runtime)
    assert run(runtime, "edd.count_backlogs") == 1
    assert run(runtime, "edd.count_backlogs") == 0  # counted less than 10 minutes ago
    with unit_of_work(runtime.sessions) as session:
        assert stored_backlog(session.get(BacklogCountRow, brand_id)) == COUNTED
        session.add_all([_shipment(brand_id, 1, None, service="saver") for _ in range(400)])
        # recorded now, delivered early on Saturday 29 May, a day already totalled: not
        # counted there before the next day settles
        session.add(_shipment(brand_id, 3.5, 0.25))
    with unit_of_work(runtime.sessions) as session:  # the stored counts, not the shipments
        assert backlog_stretches(session, brand_id, NOW, CONFIG) == {
            "ups:ground": 1.0,
            "ups:express": 1.0,
        }
    clock.advance(timedelta(minutes=10))
    assert run(runtime, "edd.count_backlogs") == 1
    with unit_of_work(runtime.sessions) as session:
        later = 1 / 144  # 10 minutes more of the window and of each parcel in flight in it
        window = 127 / 24 + later
        # the parcel delivered on Saturday is in the window's deliveries (Friday's last 5
        # hours in it), not in the usual transit yet
        assert stored_backlog(session.get(BacklogCountRow, brand_id)) == {
            "ups:ground": Backlog(
                pytest.approx((134 / 24 + 2 * later + 5 / 24) / window),
                2,
                pytest.approx(209 / 72),
                pytest.approx(window),
            ),
            "ups:express": Backlog(
                pytest.approx((7 / 24 + later) / window), 0, 0.0, pytest.approx(window)
            ),
            "ups:saver": Backlog(
                pytest.approx(400 * (7 / 24 + later) / window), 0, 0.0, pytest.approx(window)
            ),
        }


def test_a_delivery_recorded_late_is_totalled_on_its_day_as_the_next_day_settles(runtime, clock):
    """A day's deliveries were totalled once, two days after it: one recorded later counted
    in no total until the day left the baseline."""
    clock.current = NOW
    brand_id = _brand_with_shipments(runtime)
    assert run(runtime, "edd.count_backlogs") == 1
    with unit_of_work(runtime.sessions) as session:
        # recorded now, delivered early on Saturday 29 May, a day already totalled
        session.add(_shipment(brand_id, 3.5, 0.25))
    clock.advance(timedelta(days=1))  # Memorial Day, 31 May, has settled
    assert run(runtime, "edd.count_backlogs") == 1
    with runtime.sessions() as session:
        counted = stored_backlog(session.get(BacklogCountRow, brand_id))
    # Friday's last 5 hours: order to delivery of 4 parcels
    assert counted["ups:ground"].usual_days == pytest.approx((209 / 24 + 5 / 24) / 4)


def test_a_settled_day_without_deliveries_is_counted_when_one_is_recorded_on_it(runtime, clock):
    """Kept empty, such a day held a history imported after the job's first look out of the
    usual transit for 90 days."""
    clock.current = NOW
    brand_id = _brand_with_shipments(runtime)
    assert run(runtime, "edd.count_backlogs") == 1
    with unit_of_work(runtime.sessions) as session:
        row = session.get_one(BacklogCountRow, brand_id)
        assert sorted(row.days) == ["2027-04-06", "2027-05-22", "2027-05-29"]
        assert stored_backlog(row)["ups:ground"].usual_days == pytest.approx(209 / 72)
        # recorded now, delivered on Saturday 1 May, a month ago, a day without deliveries
        session.add(_shipment(brand_id, 32, 1))
    days, counted, recounted = _recounted(runtime, clock, brand_id)
    assert days == ["2027-04-06", "2027-05-01", "2027-05-22", "2027-05-29"]
    assert counted == recounted != pytest.approx(209 / 72)


def _recounted(runtime, clock, brand_id) -> tuple[list[str], float, float]:
    """The job's next count from what it stored (its days, ground's usual transit), and
    ground's usual transit counted again from nothing stored."""
    clock.advance(timedelta(minutes=10))
    assert run(runtime, "edd.count_backlogs") == 1
    with unit_of_work(runtime.sessions) as session:
        row = session.get_one(BacklogCountRow, brand_id)
        days, counted = sorted(row.days), stored_backlog(row)["ups:ground"].usual_days
        session.delete(row)
    clock.advance(timedelta(minutes=10))
    assert run(runtime, "edd.count_backlogs") == 1
    with runtime.sessions() as session:
        recounted = stored_backlog(session.get_one(BacklogCountRow, brand_id))
    return days, counted, recounted["ups:ground"].usual_days


def test_daily_totals_are_counted_again_when_the_calendar_they_were_counted_in_changes(
    runtime, clock
):
    """Totals are kept in working days: kept across a change of the brand's holidays, they
    blended two calendars' units in one usual transit for up to 90 days."""
    clock.current = NOW
    brand_id = _brand_with_shipments(runtime)
    assert run(runtime, "edd.count_backlogs") == 1
    brand = runtime.settings.brands[0]
    # Ontario's calendar: Victoria Day (Monday 24 May) closed, so the parcel ordered on
    # Sunday 23 May and delivered on Saturday 29 took 4 working days, not 5
    ontario = {"holiday_country": "CA", "holiday_subdivision": "ON"}
    configure_brand(
        runtime, brand.code, warehouses=[w.model_copy(update=ontario) for w in brand.warehouses]
    )
    _, counted, recounted = _recounted(runtime, clock, brand_id)
    assert counted == recounted == pytest.approx((209 / 24 - 1) / 3)


def test_counts_the_job_has_not_renewed_for_three_periods_stretch_nothing(runtime, clock):
    """The job stopped: a queue of half an hour ago may have drained, so promises fall back
    to the model's own (logged, and counted in shipflow_edd_stale_backlog_total)."""
    clock.current = NOW
    brand_id = _with_a_backlog(runtime)
    assert run(runtime, "edd.count_backlogs") == 1
    with runtime.sessions() as session:
        assert backlog_stretches(session, brand_id, NOW + timedelta(minutes=30), CONFIG) == {
            "ups:ground": 1.5,
            "ups:express": 1.0,
        }
        assert backlog_stretches(session, brand_id, NOW + timedelta(minutes=31), CONFIG) == {}


def test_on_the_demos_clock_counts_go_stale_after_three_of_the_jobs_looks():
    """The job looks once a real minute, a simulated day on the demo's clock: three periods of
    that clock's time would call every count stale a second after it was made."""
    assert stale_after(FixedClock()) == timedelta(minutes=30)
    demo = AcceleratedClock(start=NOW, speed=1440)
    assert stale_after(demo) == timedelta(days=3)


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
        # in the window: 5 + 7/24 + 7/24 working days over 127/24; order to delivery:
        # Tuesday 30 March to Tuesday 6 April, 4 (Texas closes on Cesar Chavez Day, the
        # 31st), Saturday 22 May to Saturday 29, 5
        assert _counted(runtime, session, brand_id) == {
            "ups:ground": Backlog(pytest.approx(134 / 127), 1, pytest.approx(4.5), WINDOW),
        }


TAIPEI = ZoneInfo("Asia/Taipei")
DAY = timedelta(days=1)
LUNAR_NEW_YEAR = date(2025, 1, 25), date(2025, 2, 2)  # closed from Saturday to Sunday


def _in(runtime, **warehouse):
    """The brand's warehouses, each changed by `warehouse`."""
    brand = runtime.settings.brands[0]
    warehouses = [w.model_copy(update=warehouse) for w in brand.warehouses]
    return configure_brand(runtime, brand.code, warehouses=warehouses)


def _job_stretches(runtime, clock, brand_id: str, now: datetime) -> dict[str, float]:
    """The stretches quotes read once the job has counted at `now`."""
    clock.current = now
    assert run(runtime, "edd.count_backlogs") == 1
    with runtime.sessions() as session:
        return backlog_stretches(session, brand_id, now, CONFIG)


def test_the_backlog_closes_the_days_the_brands_quotes_close(runtime, clock):
    """Two of the brand's three warehouses are in Texas (configured so; the rows of its
    warehouses name the country alone): their quotes close on San Jacinto Day, and so does
    the backlog's working time, which had taken the warehouses' country without its
    subdivision and counted the holiday's hours as a working day's."""
    brand = runtime.settings.brands[0]
    ewr, dfw, rno = brand.warehouses
    configure_brand(
        runtime,
        brand.code,
        warehouses=[ewr, dfw, rno.model_copy(update={"holiday_subdivision": "TX"})],
    )
    now = datetime(2027, 4, 21, 18, tzinfo=UTC)  # Wednesday 21 April, 13:00 in Chicago
    with unit_of_work(runtime.sessions) as session:
        brand_id = sync_brand(session, runtime.settings.brands[0]).id
        session.add(_shipment(brand_id, 3, None, now))
    clock.current = now
    assert run(runtime, "edd.count_backlogs") == 1
    with runtime.sessions() as session:
        counted = stored_backlog(session.get(BacklogCountRow, brand_id))
    # 14 to 20 April, 5 working days, and none today (not 13/24 of it)
    assert counted["ups:ground"].window_days == pytest.approx(5.0)


def _steady_traffic(
    runtime, now: datetime, slow_from: datetime | None = None, orders_in_closure: bool = True
) -> str:
    """A brand in Taiwan whose 60 orders a day, every day (but Lunar New Year's without
    `orders_in_closure`), each take 2 working days from order to delivery (4 from
    `slow_from` on): 110 days of it up to `now`. An order placed on a closed day starts with
    the next open one."""
    _in(runtime, country="TW", timezone="Asia/Taipei", holiday_country="TW")
    with unit_of_work(runtime.sessions) as session:
        brand_id = sync_brand(session, runtime.settings.brands[0]).id
        taiwan = calendar(MODEL.config.delivery_weekdays, "TW")
        shipments = []
        day = now.astimezone(TAIPEI).date() - 110 * DAY
        while day <= now.astimezone(TAIPEI).date():
            closed = LUNAR_NEW_YEAR[0] <= day <= LUNAR_NEW_YEAR[1]
            for n in range(60 if orders_in_closure or not closed else 0):
                placed = datetime.combine(day, time(8), TAIPEI) + n * timedelta(minutes=10)
                days = 4 if slow_from is not None and placed >= slow_from else 2
                if taiwan.is_business_day(day):
                    arrives = datetime.combine(taiwan.after(day, days), placed.timetz())
                else:  # at the end of its last working day
                    arrives = datetime.combine(taiwan.add(day, days - 1), time(23, 59), TAIPEI)
                if placed < now:
                    ago, transit = now - placed, arrives - placed
                    shipments.append(_shipment(brand_id, ago / DAY, transit / DAY, now))
            day += DAY
        session.add_all(shipments)
    return brand_id


@pytest.mark.parametrize("days_after", [-2, 1, 2, 3, 8])
def test_a_closure_followed_by_normal_traffic_is_no_backlog(runtime, clock, days_after):
    """Lunar New Year closes Taiwan (its shops too) for 9 days: the parcels in flight wait it
    out and none is delivered, yet the network is no slower after it. Counted in calendar
    days, the queue stretched ground 1.5 on the first two working days after it."""
    now = datetime.combine(LUNAR_NEW_YEAR[1] + days_after * DAY, time(20), TAIPEI)
    brand_id = _steady_traffic(runtime, now, orders_in_closure=False)
    assert _job_stretches(runtime, clock, brand_id, now) == {"ups:ground": 1.0}


@pytest.mark.parametrize("days_after", [-2, 3, 5, 8])
def test_the_orders_of_a_closure_are_a_surge_for_two_working_days_only(runtime, clock, days_after):
    """Orders go on through the closure: on the first two working days after it they are all
    in flight and none delivered yet, a surge like any other (as a real network's is, not the
    sandbox's); from the third there is no stretch. Counted in calendar days: 1.32 then."""
    now = datetime.combine(LUNAR_NEW_YEAR[1] + days_after * DAY, time(20), TAIPEI)
    brand_id = _steady_traffic(runtime, now)
    assert _job_stretches(runtime, clock, brand_id, now) == {"ups:ground": 1.0}


def test_a_network_twice_as_slow_stretches(runtime, clock):
    now = datetime(2025, 3, 20, 20, tzinfo=TAIPEI)
    brand_id = _steady_traffic(runtime, now, slow_from=now - 10 * DAY)
    assert _job_stretches(runtime, clock, brand_id, now) == {"ups:ground": 1.5}


def test_a_brand_another_run_is_counting_is_left_to_it(runtime, clock):
    if runtime.engine.dialect.name != "postgresql":
        pytest.skip("SQLite's embedded runner never runs a job twice at once")
    clock.current = NOW
    brand_id = _brand_with_shipments(runtime)
    with runtime.sessions() as other:  # a run counting the brand: its transaction holds the lock
        assert claim_count(other, brand_id)
        assert run(runtime, "edd.count_backlogs") == 0
    assert run(runtime, "edd.count_backlogs") == 1
