"""GET /widget/v1/edd: dates from the EDD service, clear problems for bad input, CORS, caching."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from shipflow.brands import sync_brands
from shipflow.config import CarrierAccountConfig, load_settings
from shipflow.edd.engine import Estimate
from shipflow.edd.repository import store_model
from shipflow.edd.service import EddService, widget_answer
from shipflow.edd.transit import TransitModel
from shipflow.jobs import run
from shipflow.runtime import Runtime
from shipflow.store.db import unit_of_work
from shipflow.store.models import Alert
from tests.edd.factories import history, sandbox_parcel

ROOT = Path(__file__).resolve().parents[2]
URL = "/widget/v1/edd"
SHOP = "http://localhost:8000"  # an allowed origin of the demo brand in config.yaml
GOOD = {"brand": "northwind", "sku": "MUG", "postal_code": "60601", "country": "US"}


@pytest.fixture
def brand_id(runtime) -> str:
    with unit_of_work(runtime.sessions) as session:
        return sync_brands(session, runtime.settings)[0].id


def get(client, origin: str | None = SHOP, **params):
    headers = {"Origin": origin} if origin else {}
    return client.get(URL, query_string=GOOD | params, headers=headers)


def test_dates_assumptions_and_countdown(client, clock, brand_id):
    clock.current = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # Monday 10:00 in New York
    body = get(client).get_json()
    assert body["available"] is True
    dates = [date.fromisoformat(body[k]) for k in ("earliest", "most_likely", "promise_date")]
    assert dates == sorted(dates) and date.fromisoformat(body["latest"]) >= dates[1]
    assert body["warehouse"] in {"EWR", "DFW", "RNO"} and body["carrier"] == "sandbox"
    assert body["service"] == "ground"  # the standard level an order gets, not express
    assert body["confidence"] == 0.95
    cutoff = datetime.fromisoformat(body["cutoff_at"])
    assert body["countdown_seconds"] == int((cutoff - clock.current).total_seconds()) > 0


@pytest.mark.parametrize(
    ("params", "status", "field"),
    [
        ({"brand": "nobody"}, 404, "brand"),
        ({"sku": "NOT-SOLD"}, 404, "sku"),
        ({"postal_code": "00000"}, 422, "postal_code"),
        ({"postal_code": "!!"}, 400, "postal_code"),
        ({"postal_code": ""}, 400, "postal_code"),
        ({"country": "USA"}, 400, "country"),
        ({"country": "1"}, 400, "country"),
    ],
)
def test_bad_input_is_a_problem_naming_the_field(client, params, status, field):
    response = get(client, **params)
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    assert [e["field"] for e in response.get_json()["errors"]] == [field]
    assert response.headers["Cache-Control"] == "no-store"


def test_a_postal_code_of_the_wrong_format_says_what_to_write(client):
    response = get(client, country="JP", postal_code="12-345")
    assert response.status_code == 422
    assert response.get_json()["errors"] == [
        {
            "field": "postal_code",
            "message": "'12-345' is not a postal code of JP: write 7 digits, for example 100-0001",
        }
    ]


def test_cors_only_for_the_brands_allowed_origins(client):
    assert get(client).headers["Access-Control-Allow-Origin"] == SHOP
    assert get(client, sku="NOT-SOLD").headers["Access-Control-Allow-Origin"] == SHOP
    stranger = get(client, origin="https://evil.example")
    assert "Access-Control-Allow-Origin" not in stranger.headers
    assert "Origin" in stranger.headers["Vary"]


@pytest.mark.parametrize(
    ("now", "max_age"),
    [
        (datetime(2026, 11, 23, 15, 0, 0, tzinfo=UTC), 60),
        (datetime(2026, 11, 23, 15, 0, 45, tzinfo=UTC), 15),
    ],
)
def test_cached_until_the_minute_turns(client, clock, now, max_age):
    clock.current = now
    assert get(client).headers["Cache-Control"] == f"public, max-age={max_age}"


def test_never_cached_past_the_cutoff(client, clock):
    clock.current = datetime(2026, 11, 23, 18, 59, 40, tzinfo=UTC)  # EWR cuts off at 19:00 UTC
    response = get(client, postal_code="10001")
    body = response.get_json()
    assert body["warehouse"] == "EWR" and body["countdown_seconds"] == 20
    assert response.headers["Cache-Control"] == "public, max-age=20"


def test_a_newer_stored_model_is_used(client, runtime, clock, brand_id):
    clock.current = datetime(2026, 11, 23, 15, tzinfo=UTC)
    assert get(client).get_json()["basis"]["lane"] == "prior:distance"  # nothing stored yet
    records = history([2] * 80, start=date(2026, 3, 2), shipper="EWR", origin="08817")
    records = [r.__class__(**{**_fields(r), "carrier": "sandbox"}) for r in records]
    model = TransitModel.fit(records, clock.current)
    with unit_of_work(runtime.sessions) as session:
        store_model(session, brand_id, model, len(records), clock.current)
    runtime.edd.refresh_seconds = 0
    clock.current = datetime(2026, 11, 23, 15, 1, tzinfo=UTC)
    assert get(client).status_code == 200
    assert runtime.edd.model("northwind", datetime.now(UTC)).to_dict() == model.to_dict()


def test_no_date_rather_than_a_wrong_one():
    answer = widget_answer(Estimate(no_estimate="no stock of TENT-2P x1"), datetime.now(UTC))
    assert answer == {"available": False, "reason": "out_of_stock"}
    assert "promise_date" not in widget_answer(Estimate(no_estimate="x"), datetime.now(UTC))


def _fields(record) -> dict:
    return {name: getattr(record, name) for name in record.__slots__}


def test_quotes_survive_a_database_without_models(tmp_path):
    """No tables at all (not migrated): the distance prior answers, nothing raises."""
    settings = load_settings(ROOT / "config.yaml", environ={})
    settings = settings.model_copy(update={"database_url": f"sqlite:///{tmp_path}/empty.db"})
    runtime = Runtime.from_settings(settings)
    result = EddService(runtime).quote(
        settings.brands[0], (("MUG", 1),), "60601", "US", datetime(2026, 11, 23, 15, tzinfo=UTC)
    )
    assert result.ok and result.assumptions.lane_level == "prior:distance"


def test_a_country_nobody_ships_to_gets_no_date(client):
    body = get(client, country="DE", postal_code="10115").get_json()
    assert body == {"available": False, "level": "standard", "reason": "no_estimate"}


def test_a_pickup_option_gets_its_own_date(client, clock, brand_id):
    clock.current = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
    home = get(client).get_json()
    pickup = get(client, service_level="pickup_point").get_json()
    assert pickup["available"] is True and pickup["service"] == "pickup_point"
    assert home["service"] != "pickup_point"
    assert date.fromisoformat(pickup["promise_date"]) >= date(2026, 11, 24)


def test_an_unknown_service_level_is_named(client, brand_id):
    response = get(client, service_level="drone")
    assert response.status_code == 400
    assert response.get_json()["errors"][0]["field"] == "service_level"


def test_a_cart_is_promised_its_slowest_lines_date(client, clock, brand_id):
    clock.current = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
    mug = get(client, sku="MUG", postal_code="62704").get_json()
    boots = get(client, sku="BOOTS-42", postal_code="62704").get_json()
    cart = get(client, lines="MUG:2,BOOTS-42:1", postal_code="62704").get_json()
    slowest = max((mug, boots), key=lambda a: a["promise_date"])
    assert (
        cart["promise_date"]
        == slowest["promise_date"]
        > min(mug["promise_date"], boots["promise_date"])
    )
    assert cart["warehouse"] == slowest["warehouse"]
    too_many = get(client, lines="BOOTS-42:999").get_json()
    assert too_many == {"available": False, "level": "standard", "reason": "out_of_stock"}


@pytest.mark.parametrize(
    "lines", ["MUG", "MUG:0", "MUG:1,,TENT-2P:1", "MUG:1000", ",".join(["MUG:1"] * 51)]
)
def test_bad_cart_lines_are_named(client, lines):
    response = get(client, lines=lines)
    assert response.status_code == 400
    assert response.get_json()["errors"][0]["field"] == "lines"


def test_standard_and_express_with_their_prices_in_the_shoppers_language(client, clock, brand_id):
    clock.current = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
    body = get(client, service_level="standard,express", lang="ja").get_json()
    standard, express = body["options"]
    assert (standard["level"], standard["service"]) == ("standard", "ground")
    assert body["promise_date"] == standard["promise_date"]  # the first level leads
    assert express["level"] == "express" and express["service"] in {"express", "overnight"}
    assert express["promise_date"] < standard["promise_date"]
    assert standard["price"] == {"amount": 595, "currency": "USD", "text": "$5.95"}
    assert (
        express["price"]["text"] == {"express": "$14.95", "overnight": "$24.95"}[express["service"]]
    )
    persian = get(client, service_level="standard,express", lang="fa").get_json()
    assert persian["options"][0]["price"]["text"] == "\u200e$\xa0۵٫۹۵"


def test_a_level_the_brand_does_not_offer_is_left_out_of_the_choice(client, brand_id):
    body = get(client, brand="formosa", sku="OOLONG", country="TW", postal_code="100",
               service_level="standard,express", lang="zh-Hant").get_json()  # fmt: skip
    assert [o["level"] for o in body["options"]] == ["standard"]
    assert body["options"][0]["price"]["text"] == "$150.00"


def test_military_post_offices_get_no_service_but_the_postal_services(client, runtime):
    body = get(client, postal_code="09012").get_json()  # APO AE; the demo brand has no USPS
    assert body == {
        "available": False,
        "level": "standard",
        "reason": "not_served",
        "reach": "military",
    }
    brand = runtime.settings.brand("northwind")
    usps = CarrierAccountConfig(code="usps", carrier="usps", services=[{"code": "priority"}])
    with_usps = brand.model_copy(update={"carriers": [*brand.carriers, usps]})
    now = datetime(2026, 11, 23, 15, tzinfo=UTC)
    quote = EddService(runtime).quote(with_usps, (("MUG", 1),), "09012", "US", now)
    # USPS is quoted (sandbox is not); overseas, only lane history could date it
    assert quote.no_estimate == "no lane history and no distance prior"


def test_territories_are_served_by_carriers_that_reach_them(client, clock, brand_id):
    clock.current = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
    body = get(client, postal_code="00901").get_json()  # San Juan, Puerto Rico
    assert body["available"] is True and body["carrier"] == "sandbox"


def test_an_open_lane_incident_widens_the_promise_until_it_is_resolved(
    client, runtime, clock, brand_id
):
    clock.current = datetime(2026, 11, 23, 15, tzinfo=UTC)  # Monday 10:00 in New York
    runtime.edd.refresh_seconds = 0
    before = date.fromisoformat(get(client).get_json()["promise_date"])
    with unit_of_work(runtime.sessions) as session:
        incident = Alert(
            brand_id=brand_id,
            kind="lane_incident",
            severity="critical",
            title="sandbox lane incident to IL",
            dedupe_key="lane_incident:sandbox:IL",
            details={"excess_days": 2},
            carrier="sandbox",
            region="IL",  # 60601 is Chicago
        )
        session.add(incident)
    clock.current = datetime(2026, 11, 23, 15, 1, tzinfo=UTC)
    widened = date.fromisoformat(get(client).get_json()["promise_date"])
    assert widened > before and (widened - before).days >= 2
    with unit_of_work(runtime.sessions) as session:
        session.get_one(Alert, incident.id).status = "resolved"
    clock.current = datetime(2026, 11, 23, 15, 2, tzinfo=UTC)
    assert date.fromisoformat(get(client).get_json()["promise_date"]) == before


def test_a_service_whose_parcels_pile_up_is_promised_later(client, runtime, clock, brand_id):
    clock.current = datetime(2026, 11, 23, 15, tzinfo=UTC)
    records = history([2] * 80, start=date(2026, 3, 2), shipper="EWR", origin="08817")
    records = [r.__class__(**{**_fields(r), "carrier": "sandbox"}) for r in records]
    with unit_of_work(runtime.sessions) as session:
        store_model(session, brand_id, TransitModel.fit(records, clock.current), 80, clock.current)
    runtime.edd.refresh_seconds = 0
    assert run(runtime, "edd.count_backlogs") == 2  # both brands: nothing shipped yet
    before = get(client, postal_code="60601").get_json()["promise_date"]
    day = timedelta(days=1)
    with unit_of_work(runtime.sessions) as session:  # 2 days usual, 400 waiting, 10 a day out
        shipped = [clock.current - (1 + i % 5) * day for i in range(400)]
        delivered = [clock.current - (3 + i % 14) * day for i in range(140)]
        session.add_all(
            [sandbox_parcel(brand_id, at, None) for at in shipped]
            + [sandbox_parcel(brand_id, at - 2 * day, at) for at in delivered]
        )
    clock.current += timedelta(minutes=1)  # the next minute's quote, the stored counts read
    unseen = get(client, postal_code="60601").get_json()["promise_date"]
    clock.current += timedelta(minutes=10)
    assert run(runtime, "edd.count_backlogs") == 2  # the job counts them
    after = get(client, postal_code="60601").get_json()["promise_date"]
    # 2 days in transit, 1.5 times as long now: 3, Thanksgiving (the 26th) not one of them
    assert (before, unseen, after) == ("2026-11-25", "2026-11-25", "2026-11-27")


# --- the quote cache: answers kept from one cut-off to the next ------------------------------

MONDAY = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # 10:00 in New York
# EWR cuts off at 19:00 UTC on weekdays, DFW (Mon-Sat) and RNO at 21:00 UTC: every quote
# changes at each of these moments and at no other
MOMENTS = [
    MONDAY,
    MONDAY.replace(hour=18, minute=59, second=59),
    MONDAY.replace(hour=19),
    MONDAY.replace(hour=20, minute=30),
    MONDAY.replace(hour=21),
    MONDAY.replace(hour=23, minute=59),
    MONDAY + timedelta(days=4, hours=6),  # Friday 21:00 UTC: the weekend ahead
    MONDAY + timedelta(days=5),  # Saturday: DFW works, EWR and RNO do not
    MONDAY + timedelta(hours=1),  # the clock set back
]


def test_a_cached_quote_is_the_quote_of_its_moment(runtime, brand_id):
    """One service quoting moment after moment (its cache) answers what a fresh service
    (no cache) answers at each: dates, warehouse, cut-off and countdown."""
    brand = runtime.settings.brand("northwind")
    cached = EddService(runtime)
    for now in MOMENTS:
        for postal_code in ("10001", "75201", "94105"):
            quote = cached.quote(brand, (("MUG", 1),), postal_code, "US", now)
            fresh = EddService(runtime).quote(brand, (("MUG", 1),), postal_code, "US", now)
            assert widget_answer(quote, now) == widget_answer(fresh, now), (now, postal_code)
            assert quote.countdown == fresh.countdown == quote.cutoff - now


def test_a_quote_moves_when_a_cut_off_passes(runtime, brand_id):
    brand = runtime.settings.brand("northwind")
    service = EddService(runtime)
    before = service.quote(brand, (("MUG", 1),), "10001", "US", MOMENTS[1])
    after = service.quote(brand, (("MUG", 1),), "10001", "US", MOMENTS[2])
    assert (before.assumptions.warehouse, before.cutoff) == ("EWR", MOMENTS[2])
    assert before.countdown == timedelta(seconds=1)
    assert after.cutoff == MOMENTS[2] + timedelta(days=1)  # EWR's Tuesday cut-off
    assert after.promised > before.promised


def test_cached_quotes_are_per_postal_code_and_per_brand(runtime, brand_id):
    northwind = runtime.settings.brand("northwind")
    west = northwind.model_copy(
        update={"code": "west", "warehouses": [w for w in northwind.warehouses if w.code == "RNO"]}
    )
    service = EddService(runtime)
    answers = [
        service.quote(brand, (("MUG", 1),), postal_code, "US", MONDAY).assumptions.warehouse
        for brand, postal_code in ((northwind, "10001"), (northwind, "94105"), (west, "10001"))
    ]
    assert answers == ["EWR", "RNO", "RNO"]


def test_one_request_refreshes_the_model_while_the_others_quote_on(runtime, clock, brand_id):
    clock.current = MONDAY
    service = EddService(runtime, refresh_seconds=0)
    old = service.model("northwind", MONDAY)
    records = history([2] * 80, start=date(2026, 3, 2), shipper="EWR", origin="08817")
    records = [r.__class__(**{**_fields(r), "carrier": "sandbox"}) for r in records]
    new = TransitModel.fit(records, MONDAY)
    with unit_of_work(runtime.sessions) as session:
        store_model(session, brand_id, new, len(records), MONDAY)
    with service._lock("northwind"):  # another request is refreshing it
        assert service.model("northwind", MONDAY) is old  # at once, not after that refresh
    assert service.model("northwind", MONDAY).to_dict() == new.to_dict()


def test_a_brand_s_slow_model_lookup_holds_up_no_other_brand_s_quotes(runtime, monkeypatch):
    northwind = runtime.settings.brand("northwind")
    west = northwind.model_copy(
        update={"code": "west", "warehouses": [w for w in northwind.warehouses if w.code == "RNO"]}
    )
    service = EddService(runtime)
    looking_up, slow_lookup_done = threading.Event(), threading.Event()

    def lookup(brand_code: str, now: datetime) -> TransitModel:
        if brand_code == "northwind":
            looking_up.set()
            slow_lookup_done.wait(10)
        return TransitModel()

    monkeypatch.setattr(service, "_refresh", lookup)
    first = threading.Thread(target=service.model, args=("northwind", MONDAY))
    first.start()
    answers = []
    other = threading.Thread(
        target=lambda: answers.append(service.quote(west, (("MUG", 1),), "10001", "US", MONDAY))
    )
    try:
        assert looking_up.wait(5)
        other.start()
        other.join(5)
        assert [a.assumptions.warehouse for a in answers] == ["RNO"]
    finally:
        slow_lookup_done.set()
        first.join(10)
        other.join(10)
