"""Hostile input on the JSON API is a 4xx problem, on SQLite and PostgreSQL alike: edited
cursors, instants whose UTC is outside the years 1-9999, NUL bytes, deeply nested JSON."""

from __future__ import annotations

import base64

import pytest

LISTS = ["orders", "shipments", "alerts", "ndr-cases", "returns"]


def cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


@pytest.mark.parametrize("resource", LISTS)
@pytest.mark.parametrize(
    "forged",
    [
        "nonsense",
        cursor("2024-01-01T00:00:00|ord_1"),  # naive: which zone?
        cursor("0001-01-01T00:00:00+14:00|ord_1"),  # UTC is in the year 0
        cursor("9999-12-31T23:59:59-14:00|ord_1"),  # UTC is in the year 10000
        cursor("2024-01-01T00:00:00+00:00|ord\x00"),  # PostgreSQL text holds no NUL
    ],
)
def test_an_edited_cursor_is_400_naming_the_cursor(client, brands, resource, forged):
    response = client.get(f"/api/v1/{resource}?cursor={forged}", headers=brands["a"]["headers"])
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.content_type == "application/problem+json"
    assert response.json["errors"][0]["field"] == "cursor"


@pytest.mark.parametrize("resource", LISTS)
@pytest.mark.parametrize(
    ("name", "value"),
    [("created_from", "0001-01-01T00:00:00%2B14:00"), ("created_to", "9999-12-31T23:59:59-14:00")],
)
def test_a_date_filter_out_of_range_is_400_naming_it(client, brands, resource, name, value):
    response = client.get(f"/api/v1/{resource}?{name}={value}", headers=brands["a"]["headers"])
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.json["errors"][0]["field"] == name


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/api/v1/shipments?carrier=ups%00", 400),
        ("/api/v1/orders/ord_1%00", 404),
        ("/api/v1/shipments/shp_1%00", 404),
    ],
)
def test_a_nul_byte_never_reaches_the_database(client, brands, url, status):
    response = client.get(url, headers=brands["a"]["headers"])
    assert response.status_code == status
    assert response.content_type == "application/problem+json"


def test_deeply_nested_json_is_400(client, brands):
    response = client.post(
        "/api/v1/orders",
        data="[" * 100_000,
        content_type="application/json",
        headers={**brands["a"]["headers"], "Idempotency-Key": "deep"},
    )
    assert response.status_code == 400
    assert response.content_type == "application/problem+json"
    assert "nested too deeply" in response.json["detail"]
