"""GET /api/v1/alerts with filters and cursors; acknowledge and resolve; brand isolation."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shipflow.delays import alerts
from shipflow.store.db import unit_of_work


@pytest.fixture
def raised(runtime, brands, clock):
    """Brand A: 5 late (ups) and 2 critical exceptions (fedex); brand B: one late alert."""
    now = clock.now()
    ids = {"a": [], "b": []}
    with unit_of_work(runtime.sessions) as session:
        specs = [("a", "late", "warning", "ups")] * 5 + [
            ("a", "exception", "critical", "fedex")
        ] * 2
        for i, (code, kind, severity, carrier) in enumerate(
            [*specs, ("b", "late", "warning", "ups")]
        ):
            alert = alerts.raise_alert(
                session,
                brands[code]["id"],
                now + timedelta(minutes=i),
                kind=kind,
                severity=severity,
                title=f"{kind} {i}",
                dedupe_key=f"{kind}:{i}",
                carrier=carrier,
            )
            ids[code].append(alert.id)
    return ids


def test_lists_newest_first_with_cursor_pagination(client, brands, raised):
    headers = brands["a"]["headers"]
    first = client.get("/api/v1/alerts?limit=4", headers=headers).get_json()
    assert [a["id"] for a in first["data"]] == raised["a"][::-1][:4]
    second = client.get(f"/api/v1/alerts?limit=4&cursor={first['next_cursor']}", headers=headers)
    body = second.get_json()
    assert [a["id"] for a in body["data"]] == raised["a"][::-1][4:]
    assert body["next_cursor"] is None


FILTERS = {
    "kind=late": 5,
    "severity=critical": 2,
    "carrier=fedex": 2,
    "status=open": 7,
    "status=resolved": 0,
    "kind=late&carrier=fedex": 0,
}


def test_filters(client, brands, raised):
    for query, count in FILTERS.items():
        response = client.get(f"/api/v1/alerts?limit=100&{query}", headers=brands["a"]["headers"])
        assert len(response.get_json()["data"]) == count, query


def test_unknown_filter_values_are_problems(client, brands, raised):
    response = client.get("/api/v1/alerts?kind=bogus", headers=brands["a"]["headers"])
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"].endswith("kind")


def test_acknowledge_then_resolve(client, brands, raised):
    headers = brands["a"]["headers"]
    alert_id = raised["a"][0]
    acked = client.post(f"/api/v1/alerts/{alert_id}/acknowledge", headers=headers)
    assert acked.status_code == 200
    assert (acked.get_json()["status"], acked.get_json()["acknowledged_by"]) == (
        "acknowledged",
        "api",
    )
    resolved = client.post(f"/api/v1/alerts/{alert_id}/resolve", headers=headers).get_json()
    assert resolved["status"] == "resolved" and resolved["resolved_at"]
    again = client.post(f"/api/v1/alerts/{alert_id}/acknowledge", headers=headers)
    assert again.status_code == 409
    assert again.content_type == "application/problem+json"
    unresolved = client.get("/api/v1/alerts?limit=100&status=unresolved", headers=headers)
    assert alert_id not in {a["id"] for a in unresolved.get_json()["data"]}
    every = client.get("/api/v1/alerts?limit=100&status=all", headers=headers)  # as on /ops
    assert every.status_code == 200 and len(every.get_json()["data"]) == len(raised["a"])


def test_idempotency_key_replays_the_first_answer(client, brands, raised):
    headers = {**brands["a"]["headers"], "Idempotency-Key": "ack-1"}
    url = f"/api/v1/alerts/{raised['a'][1]}/acknowledge"
    first = client.post(url, headers=headers)
    replay = client.post(url, headers=headers)
    assert replay.headers.get("Idempotent-Replayed") == "true"
    assert replay.get_json() == first.get_json()


def test_brands_never_see_each_others_alerts(client, brands, raised):
    listed = client.get("/api/v1/alerts?limit=100", headers=brands["b"]["headers"]).get_json()
    assert [a["id"] for a in listed["data"]] == raised["b"]
    for action in ("acknowledge", "resolve"):
        response = client.post(
            f"/api/v1/alerts/{raised['a'][0]}/{action}", headers=brands["b"]["headers"]
        )
        assert response.status_code == 404
    still = client.get("/api/v1/alerts?limit=100", headers=brands["a"]["headers"]).get_json()
    assert {a["status"] for a in still["data"]} == {"open"}


def test_needs_an_api_key(client):
    assert client.get("/api/v1/alerts").status_code == 401
