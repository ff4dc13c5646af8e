"""Updates without coming back: the opt-in on the customer's page, stored per shipment and
used for the parcel's later messages; the honest page for a passed prediction and its
alert; the label-created event shown once."""

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from shipflow.jobs.postpurchase import tell_customer
from shipflow.notify.templates import Milestone
from shipflow.store.db import unit_of_work
from shipflow.store.models import Alert, Order, Shipment
from shipflow.store.postpurchase_models import CustomerMessageRow, UpdateSubscriptionRow
from tests.webui.factories import make_shipment
from tests.webui.test_tracking_page import csrf, path_for


def subscriptions(runtime):
    with runtime.sessions() as session:
        rows = session.scalars(select(UpdateSubscriptionRow)).all()
        return [(r.channel, r.recipient, r.language) for r in rows]


def test_updates_are_stored_once_and_never_echoed(app, client, runtime):
    path = path_for(app, make_shipment(runtime))
    form = {"csrf_token": csrf(client, path), "channel": "email", "contact": " Ana@Example.org "}
    first = client.post(path + "/updates", data=form)
    assert first.status_code == 303 and first.headers["Location"].endswith("?updates=on#updates")
    assert client.post(path + "/updates", data=form).status_code == 303
    assert subscriptions(runtime) == [("email", "ana@example.org", "en")]
    html = client.get(path + "?updates=on").get_data(as_text=True)
    assert "we'll send you this parcel's news" in html and "ana@example.org" not in html.lower()


@pytest.mark.parametrize(
    ("channel", "contact"),
    [("email", "not-an-address"), ("sms", "+1 555 0100"), ("email", "")],
)
def test_a_bad_contact_or_a_channel_the_brand_lacks_is_refused(
    app, client, runtime, channel, contact
):
    path = path_for(app, make_shipment(runtime))
    form = {"csrf_token": csrf(client, path), "channel": channel, "contact": contact}
    response = client.post(path + "/updates", data=form)
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and 'aria-invalid="true"' in html
    assert subscriptions(runtime) == []


def test_updates_need_the_csrf_token_and_the_whole_link(app, client, runtime):
    path = path_for(app, make_shipment(runtime))
    assert (
        client.post(path + "/updates", data={"channel": "email", "contact": "a@b.org"}).status_code
        == 400
    )
    number_page = client.get("/t/northwind/number/SBX100200300").get_data(as_text=True)
    assert "/updates" not in number_page
    assert subscriptions(runtime) == []


def test_updates_are_rate_limited(app, client, runtime):
    path = path_for(app, make_shipment(runtime))
    token = csrf(client, path)
    answers = [
        client.post(
            path + "/updates",
            data={"csrf_token": token, "channel": "email", "contact": f"a{n}@example.org"},
        ).status_code
        for n in range(6)
    ]
    assert answers == [303, 303, 303, 303, 303, 429]


def test_later_messages_also_go_to_the_contacts_asked_for(app, client, runtime, clock):
    shipment_id = make_shipment(runtime)
    path = path_for(app, shipment_id)
    form = {"csrf_token": csrf(client, path), "channel": "email", "contact": "ana@example.org"}
    client.post(path + "/updates?lang=ja", data=form)
    with unit_of_work(runtime.sessions) as session:
        shipment = session.get_one(Shipment, shipment_id)
        order = session.get_one(Order, shipment.order_id)
        milestone = Milestone.OUT_FOR_DELIVERY
        tell_customer(session, runtime, shipment, order, None, milestone, clock.now())
    with runtime.sessions() as session:
        sent = session.scalars(select(CustomerMessageRow).order_by(CustomerMessageRow.recipient))
        assert [(m.recipient, m.language) for m in sent] == [
            ("ana@example.org", "ja"),
            ("parisa@example.com", "en"),
        ]


def test_a_passed_prediction_is_not_shown_and_alerts_ops_once(app, client, runtime, clock):
    today = clock.now().date()
    shipment = make_shipment(
        runtime, promised=today - timedelta(days=3), predicted=today - timedelta(days=2)
    )
    html = client.get(path_for(app, shipment)).get_data(as_text=True)
    assert "checking with the carrier" in html
    assert "running late" not in html and "Promised by" not in html
    client.get(path_for(app, shipment))
    with runtime.sessions() as session:
        alerts = session.scalars(select(Alert)).all()
        assert [(a.kind, a.shipment_id) for a in alerts] == [("late", shipment)]
        session.execute(Alert.__table__.update().values(status="resolved"))
        session.commit()
    client.get(path_for(app, shipment))
    with runtime.sessions() as session:
        assert len(session.scalars(select(Alert)).all()) == 1


def test_a_returning_parcel_is_not_said_to_be_delivering_or_late(app, client, runtime):
    shipment = make_shipment(
        runtime, "returning_to_sender", promised=date(2026, 11, 20), predicted=date(2026, 12, 30)
    )
    html = client.get(path_for(app, shipment)).get_data(as_text=True)
    assert "On its way back to us" in html
    for wrong in ("Delivering to", "running late", "will arrive", "Expected delivery"):
        assert wrong not in html, wrong


def test_the_label_event_is_shown_once(app, client, runtime):
    html = client.get(path_for(app, make_shipment(runtime, "info_received"))).get_data(as_text=True)
    assert html.count("Label created") == 3  # the title, the headline and the one event
    assert "Shipment information received" not in html


def test_carrier_link_and_phone_from_the_directory(app, client, runtime):
    html = client.get(path_for(app, make_shipment(runtime))).get_data(as_text=True)
    assert 'href="https://sandbox-post.example/track/SBX100200300"' in html
    assert 'href="tel:+15550100"' in html and "Sandbox Post · SBX100200300" in html


def test_the_page_version_changes_with_a_new_scan(app, client, runtime, clock):
    shipment_id = make_shipment(runtime)
    path = path_for(app, shipment_id)
    html = client.get(path).get_data(as_text=True)
    assert f'data-url="{path}/version"' in html and 'src="/static/refresh.js"' in html
    first = client.get(path + "/version")
    etag = first.headers["ETag"]
    assert first.status_code == 200 and f'data-etag="{etag.replace(chr(34), "&#34;")}"' in html
    assert client.get(path + "/version", headers={"If-None-Match": etag}).status_code == 304
    with unit_of_work(runtime.sessions) as session:
        session.get_one(Shipment, shipment_id).status = "out_for_delivery"
    changed = client.get(path + "/version", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert changed.get_json() == {"status": "out_for_delivery", "scans": 2}
    assert client.get(path[:-3] + "xyz/version").status_code == 403
