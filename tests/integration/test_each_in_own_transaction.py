"""The per-brand periodic jobs (EDD retraining, backlog counts, the alert cycle, delay-risk
learning) run each brand in its own transaction through `each_in_own_transaction`."""

from sqlalchemy import select

from shipflow.brands import sync_brand
from shipflow.store.db import each_in_own_transaction, unit_of_work
from shipflow.store.edd_models import BacklogCountRow
from tests.conftest import configure_brand


def test_a_brand_that_fails_is_rolled_back_and_the_brands_after_it_still_run(
    runtime, clock, caplog
):
    configure_brand(runtime, "other", channels=[])
    with unit_of_work(runtime.sessions) as session:
        first = sync_brand(session, runtime.settings.brands[0]).id
        other = sync_brand(session, runtime.settings.brand("other")).id

    def count(session, brand_id: str) -> str:
        session.add(BacklogCountRow(brand_id=brand_id, counted_at=clock.now(), services={}))
        session.flush()
        if brand_id == first:
            raise RuntimeError("bad data")
        return brand_id

    done = each_in_own_transaction(runtime.sessions, [first, other], count, "backlog count")

    assert done == {other: other}
    with runtime.sessions() as session:
        assert list(session.scalars(select(BacklogCountRow.brand_id))) == [other]
    assert f"backlog count failed for {first}; the others go on" in caplog.text
