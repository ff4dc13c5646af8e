"""The ops pages: login per brand, CSRF, the alerts list with filters, acknowledge and
resolve, charts, and that one brand never sees another's alerts."""

from __future__ import annotations

import base64
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from shipflow.cli import main
from shipflow.clock import SystemClock
from shipflow.delays.performance import Point, on_time_by_week
from shipflow.store.db import unit_of_work
from shipflow.store.models import Alert
from tests.conftest import configure_brand
from tests.delays.conftest import add_shipment, csrf, login, post_form

ROOT = Path(__file__).resolve().parents[2]


def test_pages_need_a_login(client):
    for path in ("/ops/", "/ops/alerts", "/ops/performance"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/ops/login?next=")


def test_login_logout(client, ops):
    assert login(client, ops["a"], password="wrong").status_code == 401
    assert login(client, ops["a"], code="b").status_code == 401  # not a login of brand B
    response = login(client, ops["a"])
    assert response.status_code == 302 and response.headers["Location"] == "/ops/alerts"
    assert client.get("/ops/alerts").status_code == 200
    assert post_form(client, "/ops/logout").status_code == 302
    assert client.get("/ops/alerts").status_code == 302


def test_forms_without_the_csrf_token_are_refused(client, ops):
    client.get("/ops/login")
    response = client.post(
        "/ops/login",
        data={"brand": "brand-a", "email": ops["a"]["email"], "password": ops["a"]["password"]},
    )
    assert response.status_code == 400
    login(client, ops["a"])
    alert_id = ops["a"]["alerts"]["late"]
    assert client.post(f"/ops/alerts/{alert_id}/acknowledge", data={}).status_code == 400


def test_login_never_redirects_off_site(client, ops):
    response = client.post(
        "/ops/login",
        data={
            "csrf_token": csrf(client),
            "brand": "brand-a",
            "email": ops["a"]["email"],
            "password": ops["a"]["password"],
            "next": "//evil.example/",
        },
    )
    assert response.headers["Location"] == "/ops/alerts"


def _titles(html: str) -> list[str]:
    return re.findall(r"<td>([AB] \w+ alert)", html)


def test_lists_unresolved_alerts_with_filters(client, ops):
    login(client, ops["a"])
    assert _titles(client.get("/ops/alerts").text) == ["A exception alert", "A late alert"]
    assert _titles(client.get("/ops/alerts?kind=late").text) == ["A late alert"]
    assert _titles(client.get("/ops/alerts?severity=critical").text) == ["A exception alert"]
    assert _titles(client.get("/ops/alerts?carrier=ups").text) == ["A late alert"]
    assert _titles(client.get("/ops/alerts?status=resolved").text) == ["A stale alert"]
    assert len(_titles(client.get("/ops/alerts?status=all").text)) == 3


def test_acknowledge_and_resolve(client, ops, runtime):
    login(client, ops["a"])
    alert_id = ops["a"]["alerts"]["late"]
    response = post_form(
        client, f"/ops/alerts/{alert_id}/acknowledge", next="/ops/alerts?kind=late"
    )
    assert response.headers["Location"] == "/ops/alerts?kind=late"
    with runtime.sessions() as session:
        alert = session.get(Alert, alert_id)
        assert (alert.status, alert.acknowledged_by) == ("acknowledged", "ops@a.example")
    page = client.get("/ops/alerts?kind=late").text
    assert "Acknowledge</button>" not in page and "Resolve</button>" in page
    post_form(client, f"/ops/alerts/{alert_id}/resolve")
    with runtime.sessions() as session:
        assert session.get(Alert, alert_id).status == "resolved"
    assert _titles(client.get("/ops/alerts").text) == ["A exception alert"]
    conflict = post_form(client, f"/ops/alerts/{alert_id}/acknowledge")
    assert conflict.status_code == 409 and conflict.mimetype == "text/html"
    assert "already resolved" in conflict.text


def test_an_ops_user_never_sees_or_touches_another_brands_alerts(client, ops, runtime):
    login(client, ops["a"])
    everything = client.get("/ops/alerts?status=all").text
    assert "B " not in " ".join(_titles(everything)) and "brand-b" not in everything
    other = ops["b"]["alerts"]["late"]
    assert client.get(f"/ops/alerts?id={other}").text.count("B late alert") == 0
    assert post_form(client, f"/ops/alerts/{other}/acknowledge").status_code == 404
    assert post_form(client, f"/ops/alerts/{other}/resolve").status_code == 404
    with runtime.sessions() as session:
        assert session.get(Alert, other).status == "open"


def _promises(runtime, ops, clock):
    """Monday 23 Nov 15:00 UTC; the promises of the week of 16 Nov are decided."""
    now = clock.now()
    day = timedelta(days=1)
    configure_brand(runtime, "brand-a")  # brand A's warehouse EWR is "Edison, New Jersey"
    a = ops["a"]["id"]
    with unit_of_work(runtime.sessions) as session:
        for i in range(4):  # UPS: promised 16 Nov, 3 of 4 delivered by then
            delivered = now - (7 if i < 3 else 5) * day
            add_shipment(
                session,
                a,
                now,
                status="delivered",
                delivered_at=delivered,
                promised_date=(now - 7 * day).date(),
            )
        # Promised 20 Nov and still moving: late, with its late alert open.
        add_shipment(session, a, now, status="in_transit", promised_date=(now - 3 * day).date())
        # Promised today: not decided yet, not counted.
        add_shipment(session, a, now, status="in_transit", promised_date=now.date())
        add_shipment(  # FedEx: delivered two days after its promise, to an unnamed state
            session,
            a,
            now,
            carrier="fedex",
            status="delivered",
            destination_state="",
            delivered_at=now - day,
            promised_date=(now - 3 * day).date(),
        )
        add_shipment(
            session,
            ops["b"]["id"],
            now,
            carrier="dhl",
            status="delivered",
            delivered_at=now - day,
            promised_date=(now - 2 * day).date(),
        )
    return a


def test_on_time_counts_broken_promises_in_their_week(runtime, ops, clock):
    brand_id = _promises(runtime, ops, clock)
    week = date(2026, 11, 16)
    with runtime.sessions() as session:
        by_carrier = on_time_by_week(session, brand_id, clock.now(), settings=runtime.settings)
        by_lane = on_time_by_week(
            session, brand_id, clock.now(), by_lane=True, settings=runtime.settings
        )
    assert by_carrier == {
        "fedex": [Point(week, on_time=0, due=1)],
        "ups": [Point(week, on_time=3, due=5)],
    }
    assert by_lane == {
        "fedex: Edison, New Jersey → postal area 100": [Point(week, on_time=0, due=1)],
        "ups: Edison, New Jersey → NY": [Point(week, on_time=3, due=5)],
    }


def test_performance_page_charts_on_time_share(client, ops, runtime, clock):
    _promises(runtime, ops, clock)
    login(client, ops["a"])
    page = client.get("/ops/performance").text
    assert page.count("<svg") == 2
    assert "ups, week of 16 Nov: 60% on time (3/5)" in page
    assert "fedex, week of 16 Nov: 0% on time (0/1)" in page
    assert "ups: Edison, New Jersey → NY, week of 16 Nov: 60% on time (3/5)" in page
    assert '<th scope="row">ups</th><td>60% (3/5)</td>' in page  # the table version
    assert '<th scope="row">fedex: Edison, New Jersey → postal area 100</th>' in page
    assert "?" not in re.sub(r"<[^>]*>", "", page.split("<main>")[1])
    assert "dhl" not in page  # brand B's carrier
    assert "<script" not in page


def test_cli_creates_an_ops_user_whose_password_logs_in(
    runner, runtime, tmp_path, client, database_url
):
    data = yaml.safe_load((ROOT / "config.yaml").read_text())
    data["database_url"] = database_url
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(data))
    assert runner.invoke(main, ["--config", str(config), "demo", "load"]).exit_code == 0
    args = [
        "--config",
        str(config),
        "ops-user",
        "create",
        "--brand",
        "northwind",
        "--email",
        "Ana@Northwind.example",
    ]
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    password = result.output.strip().rsplit(" ", 1)[-1]
    with runtime.sessions() as session:
        from shipflow.store.alert_models import OpsUser

        stored = session.scalars(select(OpsUser)).one()
        assert password not in stored.password_hash
    user = {"email": "ana@northwind.example", "password": password}
    response = client.post(
        "/ops/login", data={"csrf_token": csrf(client), "brand": "northwind", **user}
    )
    assert response.status_code == 302
    again = runner.invoke(main, args)
    assert again.exit_code == 2 and "already has a login" in again.output
    unknown = runner.invoke(main, [*args[:4], "--brand", "nope", "--email", "x@y.z"])
    assert unknown.exit_code == 2


def test_cli_alert_scan_sweeps_and_reports(runner, runtime, tmp_path, database_url):
    """The CLI runs on the system clock, so the shipment is stamped by it too."""
    data = yaml.safe_load((ROOT / "config.yaml").read_text())
    data["database_url"] = database_url
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(data))
    assert runner.invoke(main, ["--config", str(config), "demo", "load"]).exit_code == 0
    with unit_of_work(runtime.sessions) as session:
        from shipflow.brands import brand_by_code

        brand_id = brand_by_code(session, "northwind").id
        now = SystemClock().now()
        add_shipment(session, brand_id, now, status="exception", status_reason="lost")
    result = runner.invoke(
        main, ["--config", str(config), "alerts", "scan", "--brand", "northwind"]
    )
    assert result.exit_code == 0, result.output
    assert "1 alerts raised" in result.output
    with runtime.sessions() as session:
        assert session.scalars(select(Alert.kind)).all() == ["exception"]


def test_odd_query_values_show_everything_instead_of_failing(client, ops):
    login(client, ops["a"])
    for query in ("kind=bogus", "carrier=x.y", "status=nope", "id=%2F"):
        response = client.get(f"/ops/alerts?{query}")
        assert response.status_code == 200, query
        assert len(_titles(response.text)) == 2, query
    for query in ("carrier=%00x", "id=%00"):  # no honest value holds a NUL byte
        response = client.get(f"/ops/alerts?{query}")
        assert response.status_code == 400 and "<html" in response.text, query
    assert post_form(client, "/ops/alerts/%00/resolve").status_code == 404


@pytest.mark.parametrize(
    "stamp",
    ["2024-01-01T00:00:00", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"],
)
def test_an_edited_cursor_is_a_400_page(client, ops, stamp):
    login(client, ops["a"])
    forged = base64.urlsafe_b64encode(f"{stamp}|alr_1".encode()).decode()
    response = client.get(f"/ops/alerts?cursor={forged}")
    assert response.status_code == 400 and response.mimetype == "text/html"
    assert "start from the first page" in response.text


def test_a_nul_byte_in_the_login_form_is_a_400_page(client, ops):
    response = client.post(
        "/ops/login",
        data={
            "csrf_token": csrf(client),
            "brand": "brand-a\x00",
            "email": ops["a"]["email"] + "\x00",
            "password": "x",
        },
    )
    assert response.status_code == 400 and response.mimetype == "text/html"
