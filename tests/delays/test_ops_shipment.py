"""The ops shipment page, its actions and audit trail, the search, the failed-delivery
queue's filters and assignment: each scoped to the signed-in user's brand."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from shipflow.delays import alerts
from shipflow.ops_users import create_ops_user
from shipflow.store.db import unit_of_work
from shipflow.store.edd_models import PredictionRevision
from shipflow.store.models import Order, TrackingEventRow
from shipflow.store.ops_models import OpsAction
from shipflow.store.postpurchase_models import CustomerMessageRow, NdrCaseRow
from tests.delays.conftest import add_shipment, login, post_form

H = timedelta(hours=1)


def _order(session, brand_id, number, email, phone, total=5300, cod=0):
    order = Order(
        brand_id=brand_id,
        order_number=number,
        customer_name="Parisa Rahimi",
        customer_email=email,
        customer_phone=phone,
        ship_to={"city": "Springfield", "state": "IL", "postal_code": "62704", "country": "US"},
        currency="USD",
        total_amount=total,
        cash_on_delivery=cod,
    )
    session.add(order)
    session.flush()
    return order


@pytest.fixture
def shipped(runtime, ops, clock):
    """Brand A: order NW-1001 with a failed delivery, its scans, predictions, a message and an
    alert; brand B: order NW-2002. Returns the two shipment ids."""
    now = clock.now()
    ids = {}
    with unit_of_work(runtime.sessions) as session:
        for code, number, tracking in (("a", "NW-1001", "SBX111"), ("b", "NW-2002", "SBX222")):
            brand_id = ops[code]["id"]
            order = _order(session, brand_id, number, f"parisa@{code}.example", f"+1555000{code}")
            shipment = add_shipment(
                session,
                brand_id,
                now,
                carrier="sandbox",
                service="ground",
                tracking_number=tracking,
                order_id=order.id,
                status="attempt_failed",
            )
            session.flush()
            ids[code] = shipment.id
        a = ids["a"]
        for i, (status, text) in enumerate(
            [("in_transit", "Arrived at hub Edison"), ("attempt_failed", "Recipient not home")]
        ):
            session.add(
                TrackingEventRow(
                    shipment_id=a,
                    brand_id=ops["a"]["id"],
                    dedupe_key=f"e{i}",
                    status=status,
                    raw_text=text,
                    occurred_at=now - (10 - i) * H,
                )
            )
        session.add_all(
            [
                PredictionRevision(
                    shipment_id=a, predicted_date=date(2026, 11, 24), basis="model v3", revised_at=now - 9 * H
                ),
                PredictionRevision(
                    shipment_id=a, predicted_date=date(2026, 11, 26), basis="after failed attempt", revised_at=now - H
                ),
            ]
        )  # fmt: skip
        session.add(
            CustomerMessageRow(
                brand_id=ops["a"]["id"],
                shipment_id=a,
                key="m1",
                milestone="attempt_failed",
                channel="email",
                recipient="parisa@a.example",
                language="en",
                subject="We missed you",
                body="…",
                status="sent",
                send_after=now - H,
                sent_at=now - H,
            )
        )
        session.add(
            NdrCaseRow(
                brand_id=ops["a"]["id"],
                shipment_id=a,
                state="ops_task",
                attempts=2,
                reason="customer_unavailable",
            )
        )
        alerts.raise_alert(
            session,
            ops["a"]["id"],
            now,
            kind="stale",
            severity="warning",
            title="sandbox shipment silent",
            dedupe_key=f"stale:{a}",
            shipment_id=a,
            carrier="sandbox",
        )
    return ids


def test_shipment_page_shows_the_whole_file(client, ops, shipped):
    login(client, ops["a"])
    page = client.get(f"/ops/shipments/{shipped['a']}").text
    for expected in (
        "sandbox SBX111",
        "attempt failed",
        "NW-1001",
        "parisa@a.example",
        "Recipient not home",
        "Arrived at hub Edison",
        "<td>2026-11-24</td><td>model v3</td>",
        "<td>2026-11-26</td><td>after failed attempt</td>",
        "We missed you",
        "sandbox shipment silent",
        "ops task · 2 attempt(s) · customer unavailable",
        "Nothing done yet.",
    ):
        assert expected in page, expected
    assert page.index("Recipient not home") < page.index("Arrived at hub Edison")  # newest first


def test_the_shipment_page_puts_the_customer_and_the_carrier_one_click_away(client, ops, shipped):
    """ "Contact the customer" and "ask the carrier" are recorded; the page gives the means."""
    login(client, ops["a"])
    page = client.get(f"/ops/shipments/{shipped['a']}").text
    assert '<a href="mailto:parisa@a.example?subject=Your%20order%20NW-1001">' in page
    assert '<a href="tel:+1555000a"><bdi>+1555000a</bdi></a>' in page
    carrier = page.split('id="carrier-contact">')[1].split("</dd>")[0]
    assert carrier == (
        'Sandbox Post · <a href="https://sandbox-post.example/track/SBX111" '
        'rel="noopener noreferrer" target="_blank">their tracking page</a> · '
        '<a href="tel:+15550100"><bdi>+1 555 0100</bdi></a>'
    )


def test_alerts_and_failed_deliveries_link_to_the_shipment_page(client, ops, shipped):
    login(client, ops["a"])
    link = f'href="/ops/shipments/{shipped["a"]}"'
    assert link in client.get("/ops/alerts").text
    assert link in client.get("/ops/failed-deliveries").text


def test_another_brands_shipment_is_not_found(client, ops, shipped, runtime):
    login(client, ops["a"])
    assert client.get(f"/ops/shipments/{shipped['b']}").status_code == 404
    response = post_form(client, f"/ops/shipments/{shipped['b']}/actions", action="refund")
    assert response.status_code == 404
    with runtime.sessions() as session:
        assert session.scalars(select(OpsAction)).all() == []


@pytest.mark.parametrize(
    ("action", "note", "logged"),
    [
        (
            "contact_customer",
            "Called, will be home Friday",
            "Contacted the customer: Called, will be home Friday",
        ),  # fmt: skip
        ("ask_carrier", "Asked for a redelivery", "Asked the carrier: Asked for a redelivery"),
    ],
)
def test_each_action_leaves_an_audit_entry(client, ops, shipped, runtime, action, note, logged):
    login(client, ops["a"])
    url = f"/ops/shipments/{shipped['a']}"
    response = post_form(client, f"{url}/actions", action=action, note=note)
    assert response.status_code == 302 and response.headers["Location"] == url
    with runtime.sessions() as session:
        entry = session.scalars(select(OpsAction)).one()
        assert (entry.shipment_id, entry.actor, entry.action, entry.note) == (
            shipped["a"], "ops@a.example", action, note,
        )  # fmt: skip
    assert f"ops@a.example · {logged}</li>" in client.get(url).text


def test_an_unknown_action_is_refused(client, ops, shipped):
    login(client, ops["a"])
    response = post_form(client, f"/ops/shipments/{shipped['a']}/actions", action="delete")
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("NW-1001", True),
        ("SBX111", True),
        ("parisa@a.example", True),
        ("Parisa@A.example", True),  # typed with capitals
        ("+1555000a", True),
        (" NW-1001 ", True),
        ("NW-2002", False),  # brand B's order
        ("SBX222", False),
        ("parisa@b.example", False),
        ("NW-100", False),  # whole values only
    ],
)
def test_search(client, ops, shipped, query, found):
    login(client, ops["a"])
    page = client.get("/ops/search", query_string={"q": query}).text
    assert (f'href="/ops/shipments/{shipped["a"]}"' in page) is found
    assert f'href="/ops/shipments/{shipped["b"]}"' not in page


def _queue_ids(client, **filters) -> list[str]:
    page = client.get("/ops/failed-deliveries", query_string=filters).text
    return [part.split('"')[0] for part in page.split('data-case="')[1:]]


def test_failed_delivery_filters(client, ops, runtime, clock):
    now = clock.now()
    brand_id = ops["a"]["id"]
    cases = {}
    with unit_of_work(runtime.sessions) as session:
        for name, carrier, reason, attempts, total, cod in (
            ("ups-1", "ups", "customer_unavailable", 1, 2000, 0),
            ("ups-3-cod", "ups", "address_problem", 3, 9000, 9000),
            ("fedex-2", "fedex", "customer_unavailable", 2, 15000, 0),
        ):
            order = _order(session, brand_id, name, f"{name}@a.example", "")
            order.total_amount, order.cash_on_delivery = total, cod
            shipment = add_shipment(session, brand_id, now, carrier=carrier, order_id=order.id)
            session.flush()
            case = NdrCaseRow(
                brand_id=brand_id,
                shipment_id=shipment.id,
                state="ops_task",
                attempts=attempts,
                reason=reason,
            )
            session.add(case)
            session.flush()
            cases[case.id] = name
    login(client, ops["a"])

    def names(**filters):
        return sorted(cases[i] for i in _queue_ids(client, **filters))

    assert names() == ["fedex-2", "ups-1", "ups-3-cod"]
    assert names(carrier="ups") == ["ups-1", "ups-3-cod"]
    assert names(reason="customer_unavailable") == ["fedex-2", "ups-1"]
    assert names(attempts=2) == ["fedex-2", "ups-3-cod"]
    assert names(payment="cod") == ["ups-3-cod"]
    assert names(value=9000) == ["fedex-2", "ups-3-cod"]
    assert names(carrier="ups", attempts=2) == ["ups-3-cod"]
    assert names(attempts="many") == ["fedex-2", "ups-1", "ups-3-cod"]  # ignored


def test_assign_a_case_to_a_person_of_the_brand(client, ops, shipped, runtime):
    with unit_of_work(runtime.sessions) as session:
        create_ops_user(session, ops["a"]["id"], "mina@a.example")
        case_id = session.scalar(select(NdrCaseRow.id))
    login(client, ops["a"])
    refused = post_form(
        client, f"/ops/failed-deliveries/{case_id}/assign", assignee="ops@b.example"
    )
    assert refused.status_code == 400  # brand B's user
    post_form(client, f"/ops/failed-deliveries/{case_id}/assign", assignee="mina@a.example")
    with runtime.sessions() as session:
        assert session.get(NdrCaseRow, case_id).assigned_to == "mina@a.example"
        entry = session.scalars(select(OpsAction)).one()
        assert (entry.action, entry.actor, entry.note) == (
            "assigned",
            "ops@a.example",
            "mina@a.example",
        )
    assert "<option selected>mina@a.example</option>" in client.get("/ops/failed-deliveries").text
    login(client, ops["b"], code="b")
    other = post_form(client, f"/ops/failed-deliveries/{case_id}/assign", assignee="ops@b.example")
    assert other.status_code == 404
