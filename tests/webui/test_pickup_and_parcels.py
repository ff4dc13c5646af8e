"""The tracking page for a parcel at a pickup point and for an order in several parcels."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from shipflow.store.models import Shipment
from tests.webui.factories import make_shipment
from tests.webui.test_tracking_page import lookup, path_for

STORE = {
    "id": "SBX-CHI-01",
    "name": "Corner Mart Loop",
    "network": "Corner Mart",
    "address": {"country": "US", "postal_code": "60603", "city": "Chicago", "state": "IL", "line1": "120 S State St"},
    "hours": "Mon-Sat 08:00-22:00",
}  # fmt: skip
DEADLINE = datetime(2026, 11, 28, 16, tzinfo=UTC)  # 10:00 on Sat, Nov 28 in Springfield, IL


def at_store(runtime, status: str = "available_for_pickup", reason: str | None = None) -> str:
    shipment_id = make_shipment(runtime, status, reason=reason)
    with runtime.sessions.begin() as session:
        shipment = session.get_one(Shipment, shipment_id)
        shipment.pickup_point, shipment.pickup_deadline = STORE, DEADLINE
    return shipment_id


@pytest.mark.parametrize(
    ("lang", "texts"),
    [
        ("en", ["Ready for pickup", "Pickup point", "Opening hours", "Collect by", "Sat, Nov 28"]),
        ("ja", ["受取場所", "営業時間", "受取期限", "11月28日(土)"]),
        ("zh-Hant", ["取貨門市", "營業時間", "取件期限"]),
        ("fa", ["نقطهٔ تحویل", "ساعت کاری", "مهلت تحویل گرفتن"]),
    ],
)
def test_the_signed_page_shows_the_store_its_hours_and_the_deadline(
    app, client, runtime, lang, texts
):
    html = client.get(f"{path_for(app, at_store(runtime))}?lang={lang}").get_data(as_text=True)
    assert "Corner Mart Loop" in html and "120 S State St, Chicago, IL, 60603" in html
    assert "Mon-Sat 08:00-22:00" in html
    for text in texts:
        assert text in html, text


def test_the_tracking_number_alone_shows_the_deadline_but_not_the_store(client, runtime):
    at_store(runtime)
    html = client.get("/t/northwind/number/SBX100200300").get_data(as_text=True)
    assert "Collect by" in html and "Sat, Nov 28" in html
    assert "Corner Mart" not in html and "State St" not in html


@pytest.mark.parametrize(
    ("reason", "sentence"),
    [
        ("not_collected", "The parcel was not collected from the pickup point in time."),
        ("cod_refused", "The payment due on delivery was not made."),
    ],
)
def test_a_parcel_going_back_says_why_and_no_longer_shows_a_store(
    app, client, runtime, reason, sentence
):
    html = client.get(path_for(app, at_store(runtime, "returned_to_sender", reason)))
    text = html.get_data(as_text=True)
    assert sentence in text and "Pickup point" not in text


def two_parcels(runtime) -> tuple[str, str]:
    first = make_shipment(runtime)
    with runtime.sessions.begin() as session:
        shipment = session.get_one(Shipment, first)
        second = Shipment(
            brand_id=shipment.brand_id,
            order_id=shipment.order_id,
            carrier="ups",
            tracking_number="1Z999AA10123456784",
            status="out_for_delivery",
            created_at=shipment.created_at.replace(year=2027),
        )
        session.add(second)
        session.flush()
        return first, second.id


def test_each_parcel_page_heads_with_every_parcel_its_state_and_link(app, client, runtime):
    first, second = two_parcels(runtime)
    html = client.get(path_for(app, first)).get_data(as_text=True)
    header = html[html.index('class="card parcels"') : html.index("status-heading")]
    assert '<strong aria-current="page">Parcel 1 of 2</strong>' in header
    assert "On its way" in header and "Sandbox Post · SBX100200300" in header
    assert "Out for delivery" in header and "UPS · 1Z999AA10123456784" in header
    [link] = re.findall(r'href="(/t/northwind/[\w.-]+)">Parcel 2 of 2</a>', header)
    other = client.get(link).get_data(as_text=True)
    assert '<strong aria-current="page">Parcel 2 of 2</strong>' in other
    assert "1Z999AA10123456784" in other


def test_an_order_in_one_parcel_has_no_parcel_header(app, client, runtime):
    html = client.get(path_for(app, make_shipment(runtime))).get_data(as_text=True)
    assert "Parcel 1 of" not in html and 'class="card parcels"' not in html


def test_the_order_lookup_lists_each_parcels_state(client, runtime):
    two_parcels(runtime)
    html = lookup(client, order_number="NW-1001", contact="62704").get_data(as_text=True)
    assert "On its way" in html and "Out for delivery" in html
    assert "UPS · 1Z999AA10123456784" in html


def test_a_parcel_sent_again_names_the_one_it_replaces(app, client, runtime):
    first, second = two_parcels(runtime)
    with runtime.sessions.begin() as session:
        session.get_one(Shipment, second).details = {"replaces": first}
    html = client.get(path_for(app, first) + "?lang=fa").get_data(as_text=True)
    header = html[html.index('class="card parcels"') : html.index("status-heading")]
    assert "در حال تحویل · ارسال دوباره‌ی مرسوله‌ی 1" in header  # as "Parcel 1 of 2" reads
    assert header.count("ارسال دوباره") == 1  # only the replacement says so
