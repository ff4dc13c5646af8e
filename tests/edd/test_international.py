"""Geography, calendars and priors outside the US: JP, TW, CN, IN, IR and the EU."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from carriers.sandbox.places import Place, nearest_hub
from carriers.sandbox.services import add_working_days
from shipflow import geo
from shipflow.calendars import calendar, weekend, working_week
from shipflow.config import ServiceConfig, WarehouseConfig
from shipflow.domain import Address, CarrierService, Warehouse
from shipflow.edd.engine import estimate, resolve_destination
from shipflow.edd.history import HistoryRecord
from shipflow.edd.priors import published
from shipflow.edd.training import history_quote
from shipflow.edd.transit import TransitModel

WEEKDAYS = frozenset({0, 1, 2, 3, 4})


@pytest.mark.parametrize(
    ("country", "written", "stored"),
    [
        ("JP", "100-0001", "1000001"),
        ("TW", "106", "106"),
        ("TW", "10617", "10617"),
        ("TW", "106017", "106017"),
        ("CN", "100000", "100000"),
        ("IN", "110 001", "110001"),
        ("IR", "11936-53471", "1193653471"),
        ("DE", "10115", "10115"),
        ("NL", "1012 ab", "1012AB"),
        ("LV", "LV-1050", "1050"),
        ("IE", "D02 X285", "D02X285"),
        ("PT", "1000-001", "1000001"),
    ],
)
def test_postal_codes_written_the_local_way_are_accepted(country, written, stored):
    assert geo.validate_postal_code(country, written) == stored


@pytest.mark.parametrize(
    ("country", "written", "message"),
    [
        (
            "JP",
            "12-345",
            "'12-345' is not a postal code of JP: write 7 digits, for example 100-0001",
        ),
        (
            "TW",
            "1061",
            "'1061' is not a postal code of TW: write 3, 5 or 6 digits, for example 106",
        ),
        ("CN", "10000", "'10000' is not a postal code of CN: write 6 digits, for example 100000"),
        (
            "IN",
            "012345",
            "'012345' is not a postal code of IN: write 6 digits, not starting with 0, "
            "for example 110001",
        ),
        (
            "IR",
            "2193653471",
            "'2193653471' is not a postal code of IR: write 10 digits, no 0 or 2 in the first "
            "five, for example 1193653471",
        ),
        ("DE", "1011", "'1011' is not a postal code of DE: write 5 digits, for example 10115"),
    ],
)
def test_impossible_postal_codes_say_what_to_write(country, written, message):
    with pytest.raises(geo.InvalidPostalCode) as refused:
        geo.validate_postal_code(country, written)
    assert str(refused.value) == message
    assert geo.locate(country, written) is None


@pytest.mark.parametrize(
    ("country", "code", "regions"),
    [
        ("JP", "100-0001", ("JP:100", "JP:東京都/千代田区", "JP:東京都", "JP")),
        ("TW", "10617", ("TW:106", "TW:Taipei/Da'an", "TW:Taipei", "TW")),
        ("CN", "100000", ("CN:100", "CN:Beijing/Beijing", "CN:Beijing", "CN")),
        ("IN", "110001", ("IN:110", "IN:Delhi/New Delhi", "IN:Delhi", "IN")),
        ("DE", "10115", ("DE:101", "DE:Berlin", "DE")),
        # valid but not in the table: backs off to its 3-digit area and state
        ("IN", "110999", ("IN:110", "IN:Delhi", "IN")),
        # no table: the country alone
        ("IR", "1193653471", ("IR",)),
    ],
)
def test_regions_run_from_fine_to_the_country(country, code, regions):
    assert geo.locate(country, code).regions == regions


@pytest.mark.parametrize(
    ("country", "a", "b", "km"),
    [
        ("JP", "100-0001", "530-0001", 400),  # Tokyo Chiyoda - Osaka Kita
        ("TW", "100", "800", 297),  # Taipei - Kaohsiung
        ("CN", "100000", "200000", 1068),  # Beijing - Shanghai
        ("IN", "110001", "400001", 1150),  # New Delhi - Mumbai
        ("DE", "10115", "80331", 504),  # Berlin - Munich
    ],
)
def test_distances_between_known_cities_within_five_percent(country, a, b, km):
    found = geo.distance_km(geo.locate(country, a), geo.locate(country, b))
    assert found == pytest.approx(km, rel=0.05)


@pytest.mark.parametrize(
    ("country", "day", "open_"),
    [
        ("CN", date(2025, 2, 8), True),  # Saturday worked for the Spring Festival
        ("CN", date(2025, 1, 26), True),  # Sunday worked for the Spring Festival
        ("CN", date(2025, 2, 1), False),  # an ordinary Saturday
        ("CN", date(2025, 1, 29), False),  # Spring Festival
        ("TW", date(2025, 2, 8), True),  # Saturday worked for Lunar New Year
        ("TW", date(2025, 1, 29), False),  # Lunar New Year
        ("JP", date(2026, 11, 23), False),  # Labour Thanksgiving Day
    ],
)
def test_holidays_and_make_up_working_days(country, day, open_):
    assert calendar(WEEKDAYS, country).is_business_day(day) is open_


def test_iran_rests_on_friday_and_works_on_saturday():
    assert weekend("IR") == frozenset({4})
    assert working_week("IR") == frozenset({0, 1, 2, 3, 5, 6})
    iran = calendar(working_week("IR"), "IR")
    assert iran.is_business_day(date(2025, 5, 9)) is False  # Friday
    assert iran.is_business_day(date(2025, 5, 10)) is True  # Saturday
    assert iran.is_business_day(date(2025, 6, 6)) is False  # Eid al-Adha (a Friday anyway)
    assert iran.is_business_day(date(2025, 6, 14)) is False  # Eid al-Ghadir, a Saturday


def test_warehouse_days_default_to_its_country_and_services_name_their_own():
    fields = {
        "code": "thr",
        "name": "Tehran",
        "country": "IR",
        "postal_code": "1193653471",
        "latitude": 35.7,
        "longitude": 51.4,
        "timezone": "Asia/Tehran",
        "holiday_country": "IR",
    }
    tehran = WarehouseConfig(**fields).to_domain()
    assert tehran.working_days == tehran.pickup_days == frozenset({0, 1, 2, 3, 5, 6})
    assert ServiceConfig(
        code="pishtaz", delivery_days=["sat", "sun", "mon", "tue", "wed"]
    ).weekdays() == frozenset({5, 6, 0, 1, 2})
    assert ServiceConfig(code="ground", saturday_delivery=True).weekdays() == frozenset(range(6))


def test_published_levels_pick_the_most_specific_row():
    assert (
        published("yamato:takkyubin", "JP", "JP").min_days,
        published("yamato:takkyubin", "JP", "JP").max_days,
    ) == (1, 2)
    assert (
        published("japanpost:yupack", "JP", "JP").min_days,
        published("japanpost:yupack", "JP", "JP").max_days,
    ) == (1, 3)
    assert (
        published("iranpost:pishtaz", "IR", "IR").max_days,
        published("iranpost:sefareshi", "IR", "IR").max_days,
    ) == (3, 7)
    assert published("dpd:classic", "DE", "DE").max_days == 2  # domestic
    assert published("dpd:classic", "DE", "FR").max_days == 5  # across the EU
    assert published("ups:ground", "US", "US") is None


def test_a_lane_with_no_history_is_promised_from_the_published_level():
    tokyo = Warehouse(
        code="tyo",
        name="Tokyo",
        address=Address("JP", "100-0001"),
        latitude=35.68,
        longitude=139.76,
        timezone="Asia/Tokyo",
        holiday_country="JP",
        stock={"SKU": 5},
    )
    osaka = resolve_destination("JP", "530-0001")
    ordered = datetime(2026, 11, 20, 10, tzinfo=ZoneInfo("Asia/Tokyo"))  # Friday morning
    result = estimate(
        [tokyo], [CarrierService("yamato", "takkyubin")], TransitModel(), "SKU", 1, osaka, ordered
    )
    assert result.assumptions.lane_level == "prior:published"
    # handed over Friday; 1-2 business days; Monday 23 is Labour Thanksgiving Day
    assert (result.earliest, result.promised) == (date(2026, 11, 24), date(2026, 11, 25))


@pytest.mark.parametrize(
    ("country", "code", "zone"),
    [
        ("JP", "100-0001", "Asia/Tokyo"),
        ("IN", "110001", "Asia/Kolkata"),
        ("IR", "1193653471", "Asia/Tehran"),  # no table: the country's zone still holds
        ("ES", "28001", "Europe/Madrid"),
        ("ES", "38001", "Atlantic/Canary"),  # Santa Cruz de Tenerife
    ],
)
def test_places_outside_the_us_know_their_time_zone(country, code, zone):
    assert geo.locate(country, code).timezone == zone


def test_the_sandbox_network_runs_within_the_country():
    kyoto = Place("Kyoto", "26", 35.01, 135.77, "Asia/Tokyo", "600-8001", "JP")
    assert nearest_hub(kyoto).city == "Osaka"
    # Friday 20 Nov 2026 + 1 working day skips the weekend and Labour Thanksgiving Day
    assert add_working_days(date(2026, 11, 20), 1, frozenset(range(5)), "JP") == date(2026, 11, 24)
    assert add_working_days(date(2026, 11, 20), 1, frozenset(range(5))) == date(2026, 11, 23)


@pytest.mark.parametrize(
    ("country", "postal_code", "day", "open_"),
    [
        ("TW", "100", date(2025, 10, 6), False),  # Mid-Autumn Festival, in "Taipei/Zhongzheng"
        ("TW", "100", date(2025, 2, 8), True),  # the Saturday worked for Lunar New Year
        ("IN", "110001", date(2025, 10, 20), False),  # Diwali, in "Delhi/New Delhi"
        ("JP", "100-0001", date(2026, 11, 23), False),  # Labour Thanksgiving Day, in Chiyoda
    ],
)
def test_a_region_the_holidays_package_does_not_know_keeps_the_national_holidays(
    country, postal_code, day, open_
):
    # handling is counted in the origin's own region as the postal table names it, which the
    # `holidays` package refuses (NotImplementedError, as for an unknown country)
    region = geo.locate(country, postal_code).subdivision
    assert calendar(WEEKDAYS, country, region).is_business_day(day) is open_


TAIPEI = ZoneInfo("Asia/Taipei")
TW_CUTOFFS = {"tpe": (time(15), "Asia/Taipei")}


def tw_ground(ordered: datetime, handed: date, delivered: date) -> HistoryRecord:
    """A Taipei warehouse's parcel to Kaohsiung, handed over and delivered on these days."""
    return HistoryRecord(
        order_id=f"tw-{ordered:%Y%m%d%H}",
        ordered_at=ordered,
        shipper_id="tpe",
        origin_postal_code="100",
        origin_country="TW",
        destination_postal_code="800",
        destination_country="TW",
        carrier="sandbox",
        service="ground",
        handed_to_carrier_at=datetime.combine(handed, time(16), TAIPEI),
        delivered_at=datetime.combine(delivered, time(12), TAIPEI),
    )


@pytest.fixture(scope="module")
def taiwan_model() -> TransitModel:
    """Handed over the day of the order (before the 15:00 cut-off), delivered the next working
    day, every weekday of September 2025 (no holiday until the 28th)."""
    days = [date(2025, 9, 1) + timedelta(days=i) for i in range(26)]
    records = [
        tw_ground(datetime.combine(d, time(9), TAIPEI), d, calendar(WEEKDAYS, "TW").after(d, 1))
        for d in days
        if d.weekday() < 5
    ]
    return TransitModel.fit(records, datetime(2025, 10, 1, tzinfo=TAIPEI), cutoffs=TW_CUTOFFS)


@pytest.mark.parametrize(
    ("ordered", "most_likely"),
    [
        # Friday before Lunar New Year, after the cut-off: closed Mon 27 - Fri 31 Jan, so handed
        # over Mon 3 Feb and delivered Tue 4 (the Taipei region had counted the 27th open: Mon 3)
        (datetime(2025, 1, 24, 16, tzinfo=TAIPEI), date(2025, 2, 4)),
        # ...and before it: handed over Fri 24, delivered the first day after the break
        (datetime(2025, 1, 24, 10, tzinfo=TAIPEI), date(2025, 2, 3)),
        # Friday 7 Feb after the cut-off: the make-up Saturday 8th is a working day for the
        # warehouse and the carrier, so handed over Sat 8, delivered Mon 10
        (datetime(2025, 2, 7, 16, tzinfo=TAIPEI), date(2025, 2, 10)),
        (datetime(2025, 2, 7, 10, tzinfo=TAIPEI), date(2025, 2, 8)),
        # Friday 3 Oct after the cut-off: Mid-Autumn Festival on Mon 6, handed over Tue 7
        (datetime(2025, 10, 3, 16, tzinfo=TAIPEI), date(2025, 10, 8)),
    ],
)
def test_a_taiwan_order_is_quoted_on_taiwan_working_days(taiwan_model, ordered, most_likely):
    quote = history_quote("Asia/Taipei", WEEKDAYS, TW_CUTOFFS)
    dates = quote(tw_ground(ordered, ordered.date(), ordered.date()), taiwan_model)
    assert dates.most_likely == most_likely


def test_the_sandbox_network_works_taiwan_s_make_up_saturday():
    # Fri 7 Feb 2025 + 1 working day: Saturday 8th, worked by law for Lunar New Year, even for
    # a Monday-Friday service; Fri 24 Jan + 1: the holidays run Mon 27 - Fri 31
    assert add_working_days(date(2025, 2, 7), 1, frozenset(range(5)), "TW") == date(2025, 2, 8)
    assert add_working_days(date(2025, 1, 24), 1, frozenset(range(5)), "TW") == date(2025, 2, 3)
    assert add_working_days(date(2025, 2, 8), 0, frozenset(range(5)), "TW") == date(2025, 2, 8)
