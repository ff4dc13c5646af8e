import io
from datetime import date

from sqlalchemy import create_engine, inspect, select

from shipflow.brands import sync_brand
from shipflow.edd import repository
from shipflow.edd.history import read_history
from shipflow.store.db import unit_of_work
from shipflow.store.edd_models import DeliveryHistoryRow
from tests.edd.factories import history
from tests.statements import statements_sent

HEADER = (
    "order_id,ordered_at,shipper_id,origin_postal_code,origin_city,origin_state,origin_country,"
    "destination_postal_code,destination_city,destination_state,destination_country,carrier,"
    "service,handed_to_carrier_at,delivered_at,promised_date,items,goods_value,freight_value\n"
)
GOOD = (
    "o1,2017-03-01 10:00:00,s1,01037,sp,SP,BR,20000,rj,RJ,BR,olist,standard,"
    "2017-03-02 09:00:00,2017-03-08 12:00:00,2017-03-20,2,10.0,1.0\n"
)


def parse(body: str, zone: str = "America/Sao_Paulo"):
    return read_history(io.StringIO(HEADER + body), zone)


def test_good_row_is_localized_in_the_given_zone():
    records, errors = parse(GOOD)
    assert errors == []
    (record,) = records
    assert record.ordered_at.utcoffset().total_seconds() == -3 * 3600
    assert record.promised_date.isoformat() == "2017-03-20"
    assert record.items == 2 and record.service_key == "olist:standard"


def test_bad_rows_are_reported_by_line_and_column_and_do_not_stop_parsing():
    bad = [
        GOOD.replace("2017-03-01 10:00:00", "yesterday"),
        GOOD.replace(",s1,", ",,"),
        GOOD.replace("2017-03-08 12:00:00", "2017-02-01 12:00:00"),
        GOOD.replace("2017-03-20", "20/03/2017"),
        GOOD.replace(",2,10.0", ",two,10.0"),
    ]
    records, errors = parse(GOOD + "".join(bad) + GOOD)
    assert len(records) == 2
    assert [(e.line, e.column) for e in errors] == [
        (3, "ordered_at"),
        (4, "shipper_id"),
        (5, "delivered_at"),
        (6, "promised_date"),
        (7, "items"),
    ]
    assert "not a date-time" in errors[0].problem and str(errors[0]).startswith("line 3")


def test_aware_times_are_kept_and_missing_milestones_are_none():
    row = GOOD.replace("2017-03-01 10:00:00", "2017-03-01T10:00:00+00:00").replace(
        "2017-03-02 09:00:00,2017-03-08 12:00:00", ","
    )
    (record,), errors = parse(row)
    assert errors == [] and record.ordered_at.utcoffset().total_seconds() == 0
    assert record.handed_to_carrier_at is None and record.delivered_at is None


def test_missing_column_is_one_error_per_column():
    records, errors = read_history(io.StringIO("order_id,ordered_at\n1,2017-01-01\n"))
    assert records == [] and {e.column for e in errors} >= {"shipper_id", "carrier"}


def test_the_stored_history_has_an_index_for_reading_a_brands_orders_by_when_placed(
    database_url,
):
    """`load_history(..., ordered=...)` (a brand's last `history_days`, for its delay risk)
    filters by brand and order time: without an index led by both, every row of the brand
    was read and filtered."""
    engine = create_engine(database_url)
    indexes = inspect(engine).get_indexes("delivery_history")
    engine.dispose()
    assert ["brand_id", "ordered_at"] in [index["column_names"][:2] for index in indexes]


def test_storing_a_batch_is_one_insert_that_skips_the_known_orders(runtime):
    """Each delivered batch of the tracking pipeline is stored through `add_history`: one
    INSERT ... ON CONFLICT DO NOTHING on (brand, source, order id), nothing read first (it
    looked the batch's orders up, then flushed a row each); an order given twice is stored
    once; the counts are the statement's."""
    known = history([2] * 6)
    with unit_of_work(runtime.sessions) as session:
        brand_id = sync_brand(session, runtime.settings.brands[0]).id
        assert repository.add_history(session, brand_id, known, "tracked") == (6, 0)
    new = history([3] * 2, start=date(2027, 6, 1))
    batch = [*known[:3], *new, new[0]]
    with unit_of_work(runtime.sessions) as session, statements_sent(runtime.engine) as sent:
        assert repository.add_history(session, brand_id, batch, "tracked") == (2, 4)
        assert repository.add_history(session, brand_id, batch[:1], "import") == (1, 0)
    on_history = [s.split("(")[0].strip() for s in sent if "delivery_history" in s]
    assert on_history == ["INSERT INTO delivery_history"] * 2
    with runtime.sessions() as session:
        stored = session.execute(
            select(DeliveryHistoryRow.source, DeliveryHistoryRow.order_id)
        ).all()
    expected = [("tracked", r.order_id) for r in [*known, *new]]
    assert sorted(stored) == sorted([*expected, ("import", known[0].order_id)])
