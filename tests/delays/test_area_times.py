from datetime import UTC, datetime, timedelta

import pytest

from shipflow.delays.area_times import AreaTimes, area_keys
from shipflow.edd.history import HistoryRecord

HANDED = datetime(2027, 3, 1, 12, tzinfo=UTC)
AS_OF = datetime(2027, 6, 1, tzinfo=UTC)


def parcel(destination: str, days: float | None, handed: datetime | None = HANDED) -> HistoryRecord:
    """Handed over at `handed`, delivered `days` later (None: not delivered)."""
    return HistoryRecord(
        order_id=f"{destination}-{days}",
        ordered_at=HANDED - timedelta(days=1),
        shipper_id="s1",
        origin_postal_code="01310",
        origin_country="BR",
        destination_postal_code=destination,
        destination_country="BR",
        carrier="olist",
        service="standard",
        handed_to_carrier_at=handed,
        delivered_at=None if days is None else (handed or HANDED) + timedelta(days=days),
    )


def test_area_keys_are_the_postal_code_prefixes_finest_first():
    assert area_keys(parcel("22775", 1)) == (("BR", "227"), ("BR", "22"), ("BR", "2"))
    assert area_keys(parcel("sw1a 1aa", 1)) == (("BR", "SW1"), ("BR", "SW"), ("BR", "S"))
    assert area_keys(parcel("9", 1)) == (("BR", "9"),)


def test_an_area_with_enough_deliveries_has_its_own_median():
    capital = [parcel("01001", d) for d in (1, 2, 2, 3, 10)]  # five deliveries into "010"
    interior = [parcel("01901", d) for d in (12, 14)]  # two into "019": too few of its own
    areas = AreaTimes.fit(capital + interior, AS_OF)
    assert areas.median_days(parcel("01002", None)) == 2.0
    # "019" backs off to "01" (all seven parcels) and "9..." to everything
    assert areas.median_days(parcel("01955", None)) == 3.0
    assert areas.median_days(parcel("99999", None)) == 3.0
    assert areas.log_median(parcel("01002", None)) == pytest.approx(1.0986123)


def test_only_the_year_before_and_only_parcels_handed_over_and_delivered_count():
    old = [parcel("01001", 30, HANDED - timedelta(days=400)) for _ in range(5)]
    later = [parcel("01001", 30, AS_OF) for _ in range(5)]  # delivered after as_of
    undelivered = [parcel("01001", None) for _ in range(5)]
    never_handed = [parcel("01001", 3, None) for _ in range(5)]
    recent = [parcel("01001", d) for d in (4, 5, 6, 7, 8)]
    areas = AreaTimes.fit(old + later + undelivered + never_handed + recent, AS_OF)
    assert areas.medians == {("BR", "010"): 6.0, ("BR", "01"): 6.0, ("BR", "0"): 6.0}
    assert areas.overall == 6.0


def test_nothing_delivered_yet_gives_no_median_and_a_zero_input():
    areas = AreaTimes.fit([parcel("01001", None)], AS_OF)
    assert areas.median_days(parcel("01001", None)) is None
    assert areas.log_median(parcel("01001", None)) == 0.0
