"""Every response carries a Content-Security-Policy that forbids framing and foreign
scripts, nosniff and a Referrer-Policy; the pages' <style> elements carry the response's
nonce; the widget still loads on brand sites."""

from __future__ import annotations

import re

import pytest

from tests.delays.conftest import login, ops  # noqa: F401  (a fixture)

SAMPLE = {"brand_code": "northwind", "filename": "shipflow.css", "sku": "TENT-2P"}


def get_paths(app) -> list[str]:
    """One URL for every GET route, its variables filled with a sample value."""
    adapter = app.url_map.bind("localhost")
    paths = []
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods:
            values = {name: SAMPLE.get(name, "x") for name in rule.arguments}
            paths.append(adapter.build(rule.endpoint, values))
    return sorted(set(paths))


def assert_secured(response, path: str) -> None:
    policy = response.headers.get("Content-Security-Policy", "")
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy, path
    assert "'unsafe-inline'" not in policy, path
    assert response.headers["X-Content-Type-Options"] == "nosniff", path
    assert response.headers["Referrer-Policy"] in ("strict-origin-when-cross-origin", "no-referrer")


def test_every_get_route_sends_the_security_headers(app, client):
    paths = get_paths(app)
    assert len(paths) > 25 and "/ops/alerts" in paths and "/t/northwind" in paths
    for path in paths:
        assert_secured(client.get(path), path)


def test_logged_in_ops_pages_and_error_pages_too(client, ops):  # noqa: F811
    assert_secured(login(client, ops["a"], password="wrong"), "/ops/login (401)")
    login(client, ops["a"])
    for path in ("/ops/alerts", "/ops/performance", "/ops/failed-deliveries", "/ops/nowhere"):
        assert_secured(client.get(path), path)
    assert_secured(client.post("/api/v1/orders", json={}), "/api/v1/orders (401)")


@pytest.mark.parametrize("path", ["/t/northwind", "/ops/login", "/demo/products/TENT-2P"])
def test_inline_styles_carry_the_responses_nonce(client, path):
    response = client.get(path)
    page = response.get_data(as_text=True)
    nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"]).group(1)
    assert re.findall(r"<style([^>]*)>", page) == [f' nonce="{nonce}"']
    assert " style=" not in page and not re.search(r"<script(?![^>]*\bsrc=)", page)
    assert (
        client.get(path).headers["Content-Security-Policy"]
        != response.headers["Content-Security-Policy"]
    )  # a new nonce for every response


def test_widget_script_and_json_stay_usable_on_brand_sites(client):
    script = client.get("/widget/v1/edd-widget.js")
    assert script.headers["Access-Control-Allow-Origin"] == "*"
    assert script.mimetype == "text/javascript"
    assert "style.nonce = script.nonce" in script.get_data(as_text=True)
    origin = "http://localhost:8000"  # in the demo brand's allowed_origins
    answer = client.get(
        "/widget/v1/edd?brand=northwind&sku=TENT-2P&postal_code=10001",
        headers={"Origin": origin},
    )
    assert answer.headers.get("Access-Control-Allow-Origin") == origin
