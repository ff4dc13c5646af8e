"""Hostile input on the JSON API is a 4xx problem, on SQLite and PostgreSQL alike: edited
cursors, instants whose UTC is outside the years 1-9999, NUL bytes, deeply nested JSON."""

from __future__ import annotations

import base64
import re

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


def api_operations(app) -> list[tuple[str, str, dict]]:
    """(method, path, operation) of every operation of the OpenAPI document, ids filled in
    with one no brand has."""
    return [
        (method.upper(), path.replace("{id}", "999999"), operation)
        for path, operations in app.api_doc["paths"].items()
        for method, operation in operations.items()
    ]


def assert_problem(response, status: int) -> dict:
    """An RFC 9457 problem of this status whose detail gives a person something to do."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    problem = response.json
    assert {"title", "status", "detail"} <= problem.keys() and problem["status"] == status
    for internal in ("Traceback", "sqlalchemy", "SELECT", "instance of", "pydantic"):
        assert internal not in problem["detail"], problem["detail"]
    return problem


def test_the_document_lists_every_api_route(app):
    """The tests below go through the document: a route it lacked would be left out."""
    routes = {
        (method, re.sub(r"<[^>]+>", "999999", rule.rule))
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/") and not rule.rule.endswith("openapi.json")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert {(m, p) for m, p, _ in api_operations(app)} == routes
    assert ("POST", "/api/v1/orders") in routes and len(routes) == 34


def test_every_operation_refuses_a_missing_key_and_an_unknown_parameter(app, client, brands):
    """`/ndr-metrics?carrier=ups` answered every carrier, as if it had no such filter."""
    for method, path, _ in api_operations(app):
        assert_problem(client.open(path, method=method), 401)
        if path.endswith("openapi.json"):
            continue
        response = client.open(f"{path}?colour=red", method=method, headers=brands["a"]["headers"])
        problem = assert_problem(response, 422)
        assert problem["errors"][0]["field"] == "colour", (method, path)
        assert "remove it" in problem["detail"], (method, path)


def test_every_operation_on_an_unknown_id_is_404_saying_so(app, client, brands):
    for method, path, operation in api_operations(app):
        if "999999" not in path:
            continue
        body = {} if "requestBody" in operation else None
        response = client.open(path, method=method, headers=brands["a"]["headers"], json=body)
        problem = assert_problem(response, 404)
        assert problem["detail"].endswith("with this id exists for your brand."), path


@pytest.mark.parametrize(
    ("body", "status", "detail"),
    [
        (
            {"data": '{"order_number": 1', "content_type": "application/json"},
            400,
            "The body is not valid JSON: Expecting ',' delimiter at line 1, column 19; "
            "send one JSON object with the header 'Content-Type: application/json'.",
        ),
        (
            {"data": b'{"note": "\xff"}', "content_type": "application/json"},
            400,
            "The body is not UTF-8 text; send one JSON object with the header "
            "'Content-Type: application/json'.",
        ),
        (
            {"data": "note=hello", "content_type": "application/x-www-form-urlencoded"},
            415,
            "The body's Content-Type is 'application/x-www-form-urlencoded'; send one JSON "
            "object with the header 'Content-Type: application/json'.",
        ),
        (
            {"data": '{"note": "hello"}', "content_type": "text/plain"},
            415,
            "The body's Content-Type is 'text/plain'; send one JSON object with the header "
            "'Content-Type: application/json'.",
        ),
        (
            {"json": [{"note": "hello"}]},
            422,
            "body: is an array, not a JSON object; send one JSON object with the header "
            "'Content-Type: application/json'.",
        ),
        (
            {"json": "hello"},
            422,
            "body: is a string, not a JSON object; send one JSON object with the header "
            "'Content-Type: application/json'.",
        ),
        (
            {"data": "null", "content_type": "application/json"},
            422,
            "body: is null, not a JSON object; send one JSON object with the header "
            "'Content-Type: application/json'.",
        ),
        (
            {},
            422,
            "body: is required; send one JSON object with the header "
            "'Content-Type: application/json'.",
        ),
    ],
)
def test_a_body_that_is_no_json_object_is_refused_saying_why(
    app, client, brands, body, status, detail
):
    """These were all "body: Input should be a valid dictionary or instance of OrderIn"."""
    with_body = [(m, p) for m, p, operation in api_operations(app) if "requestBody" in operation]
    assert ("POST", "/api/v1/orders") in with_body and len(with_body) >= 8
    for method, path in with_body:
        response = client.open(path, method=method, headers=brands["a"]["headers"], **body)
        assert assert_problem(response, status)["detail"] == detail, (method, path)


def test_an_unknown_field_is_named(app, client, brands):
    for method, path, operation in api_operations(app):
        if "requestBody" in operation:
            response = client.open(
                path, method=method, headers=brands["a"]["headers"], json={"colour": "red"}
            )
            problem = assert_problem(response, 422)
            assert {"field": "colour", "message": "is not a known field; remove it"} in problem[
                "errors"
            ], path
