"""The EDD widget's JSON endpoint, its script and the demo shop that embeds it."""

from datetime import UTC, datetime

import pytest

from shipflow.web.widget.presenter import estimate_for_widget

ORIGIN = "http://localhost:8000"  # in the demo brand's allowed_origins


def edd(client, headers=None, **params):
    query = {"brand": "northwind", "sku": "TENT-2P", "postal_code": "62704", "country": "US"}
    query.update(params)
    return client.get("/widget/v1/edd", query_string=query, headers=headers or {})


def test_estimate_shape_cutoff_and_caching(client):
    response = edd(client, lang="ja")
    body = response.get_json()
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=60"
    assert set(body) == {
        "available",
        "promise_date",
        "earliest",
        "most_likely",
        "latest",
        "cutoff_at",
        "countdown_seconds",
        "warehouse",
        "carrier",
        "service",
        "confidence",
        "basis",
        "level",
        "price",
    }
    assert body["level"] == "standard"
    assert body["price"] == {"amount": 595, "currency": "USD", "text": "$5.95"}
    # Mon 23 Nov 15:00 UTC = 09:00 in Dallas, six hours before its 15:00 cut-off.
    assert body["warehouse"] == "DFW"
    assert body["cutoff_at"] == "2026-11-23T15:00:00-06:00"
    assert body["countdown_seconds"] == 6 * 3600
    # the window holds 90 % of deliveries; the promise is kept 95 % of the time
    assert body["earliest"] <= body["most_likely"] <= body["latest"]
    assert body["most_likely"] <= body["promise_date"]
    assert body["confidence"] == 0.95


def test_cors_only_for_the_brands_origins(client):
    allowed = edd(client, headers={"Origin": ORIGIN})
    other = edd(client, headers={"Origin": "https://evil.example"})
    assert allowed.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "Access-Control-Allow-Origin" not in other.headers
    assert "Origin" in allowed.headers["Vary"]
    problem = edd(client, headers={"Origin": ORIGIN}, postal_code="00000")
    assert problem.headers["Access-Control-Allow-Origin"] == ORIGIN  # the widget reads errors


@pytest.mark.parametrize(
    ("params", "status", "field"),
    [
        ({"postal_code": ""}, 400, "postal_code"),
        ({"postal_code": "<script>"}, 400, "postal_code"),
        ({"postal_code": "00000"}, 422, "postal_code"),
        ({"sku": ""}, 400, "sku"),
        ({"sku": "NOPE"}, 404, "sku"),
        ({"brand": "nobody"}, 404, "brand"),
        ({"country": "USA"}, 400, "country"),
        ({"country": "XX"}, 400, "country"),  # two letters, but no country: not "no estimate"
        ({"lang": "klingon"}, 400, "lang"),
    ],
)
def test_bad_input_is_a_problem_naming_the_field(client, params, status, field):
    response = edd(client, **params)
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    assert response.headers["Cache-Control"] == "no-store"
    assert [e["field"] for e in response.get_json()["errors"]] == [field]


def test_out_of_stock_everywhere_is_unavailable(runtime):
    brand = runtime.settings.brand("northwind")
    empty = brand.model_copy(
        update={"warehouses": [w.model_copy(update={"stock": {}}) for w in brand.warehouses]}
    )
    now = datetime(2026, 11, 23, 15, tzinfo=UTC)
    answer = estimate_for_widget(runtime, empty, (("MUG", 1),), "10001", "US", now)
    assert answer == {"available": False, "level": "standard", "reason": "out_of_stock"}


def test_after_the_cutoff_it_ships_the_next_working_day(runtime):
    brand = runtime.settings.brand("northwind")
    friday_evening = datetime(2026, 11, 27, 23, tzinfo=UTC)  # 17:00 in Dallas
    answer = estimate_for_widget(runtime, brand, (("TENT-2P", 1),), "62704", "US", friday_evening)
    assert answer["cutoff_at"] == "2026-11-28T15:00:00-06:00"  # DFW works Saturdays
    assert answer["promise_date"] > "2026-11-30"


def test_script_is_served_cacheable(client):
    response = client.get("/widget/v1/edd-widget.js")
    assert response.status_code == 200
    assert response.mimetype in ("text/javascript", "application/javascript")
    assert "max-age=3600" in response.headers["Cache-Control"]


def test_demo_shop_pages_embed_the_widget(client):
    catalogue = client.get("/demo/?lang=ja").get_data(as_text=True)
    assert '<html lang="ja"' in catalogue and "/demo/products/TENT-2P" in catalogue
    page = client.get("/demo/products/TENT-2P?lang=ja").get_data(as_text=True)
    assert 'src="/widget/v1/edd-widget.js"' in page
    assert 'data-sku="TENT-2P"' in page and 'data-lang="ja"' in page
    assert client.get("/demo/products/NOPE").status_code == 404
