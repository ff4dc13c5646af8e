from datetime import date

from shipflow import geo
from shipflow.calendars import calendar
from shipflow.edd.engine import Assumptions, Estimate
from shipflow.edd.incidents import widened

from .factories import WEEKDAYS

FRIDAY = date(2026, 12, 4)


def _estimate(postal_code: str = "10001") -> Estimate:
    return Estimate(
        promised=FRIDAY,
        earliest=FRIDAY,
        most_likely=FRIDAY,
        latest=FRIDAY,
        assumptions=Assumptions(carrier="ups"),
        destination=geo.locate("US", postal_code),
        delivery=calendar(WEEKDAYS, "US"),
    )


def test_an_open_incident_on_the_lane_moves_the_promise_by_its_excess_in_delivery_days():
    wide = widened(_estimate(), {("ups", "NY"): 2}, "state")
    assert (wide.promised, wide.latest) == (date(2026, 12, 8), date(2026, 12, 8))  # Fri + 2
    assert (wide.earliest, wide.most_likely) == (FRIDAY, FRIDAY)


def test_other_lanes_and_closed_incidents_keep_their_promise():
    assert widened(_estimate(), {("fedex", "NY"): 2, ("ups", "CA"): 3}, "state").promised == FRIDAY
    assert widened(_estimate(), {}, "state").promised == FRIDAY  # closed: un-widened


def test_incident_regions_by_zip3():
    assert widened(_estimate(), {("ups", "100"): 1}, "zip3").promised == date(2026, 12, 7)
