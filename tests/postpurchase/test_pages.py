"""The customer pages: the failed-delivery choice and the returns portal (HTTP level)."""

from __future__ import annotations

import re
from datetime import timedelta
from io import BytesIO

import pytest
from sqlalchemy import func, select

from carriers.base import FailedDeliveryAction
from shipflow.carrier_accounts import CarrierFactory
from shipflow.domain import Reason
from shipflow.ndr.service import action_link
from shipflow.postpurchase import ndr_service
from shipflow.store.models import Shipment
from shipflow.store.postpurchase_models import (
    LabelRow,
    NdrCaseRow,
    ReturnPhotoRow,
    ReturnRequestRow,
)
from tests.bidi import unisolated_latin
from tests.fakes import RecordingCarrier, ReturnLabelCarrier
from tests.postpurchase.factories import EMAIL, POSTAL, demo_brand, order

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


@pytest.fixture
def demo(runtime):
    return demo_brand(runtime)


@pytest.fixture
def carrier(monkeypatch):
    fake = RecordingCarrier()
    monkeypatch.setattr(CarrierFactory, "of_shipment", lambda *a: fake)
    return fake


@pytest.fixture
def label_carriers(monkeypatch):
    carriers = [ReturnLabelCarrier("dearco", 900), ReturnLabelCarrier("cheapco", 600)]
    monkeypatch.setattr(CarrierFactory, "of_brand", lambda *a: carriers)
    return carriers


def csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def failed_case(runtime, brand_id, reason=Reason.CUSTOMER_UNAVAILABLE) -> str:
    _, shipment_id = order(runtime, brand_id, status="attempt_failed")
    with runtime.sessions() as session:
        service = ndr_service(runtime, session)
        case = service.on_attempt_failed(
            session.get(Shipment, shipment_id), reason, runtime.clock.now()
        )
        session.commit()
        return case.id


def ndr_path(runtime, case_id: str) -> str:
    link = action_link(runtime.settings, case_id, runtime.clock)
    return link.removeprefix(runtime.settings.base_url)


def test_ndr_page_offers_dates_and_records_the_choice(runtime, client, demo, carrier):
    path = ndr_path(runtime, failed_case(runtime, demo.brand_id))
    html = client.get(path).get_data(as_text=True)
    assert "Nobody was available to receive the parcel." in html
    dates = re.findall(r'<option value="(\d{4}-\d\d-\d\d)"', html)
    # FixedClock: Mon 23 Nov 2026; Thanksgiving (Thu 26) is no delivery day in Illinois.
    assert dates == ["2026-11-24", "2026-11-25", "2026-11-27"]
    assert "Corner Market lockers" in html

    answer = client.post(
        path, data={"csrf_token": csrf(html), "action": "reattempt", "reattempt_on": "2026-11-25"}
    )
    assert answer.status_code == 303
    assert carrier.instructions[0].action is FailedDeliveryAction.REATTEMPT
    assert str(carrier.instructions[0].reattempt_on) == "2026-11-25"
    done = client.get(path).get_data(as_text=True)
    assert "Thank you, we have your choice" in done and "Wed, Nov 25, 2026" in done
    again = client.post(path, data={"csrf_token": csrf(html), "action": "return_to_sender"})
    assert again.status_code == 409 and len(carrier.instructions) == 1


def test_ndr_address_fix_needs_street_and_postal_code(runtime, client, demo, carrier):
    path = ndr_path(runtime, failed_case(runtime, demo.brand_id, Reason.ADDRESS_INCORRECT))
    html = client.get(path).get_data(as_text=True)
    assert html.index('value="update_address"') < html.index('value="reattempt"')
    token = csrf(html)
    refused = client.post(path, data={"csrf_token": token, "action": "update_address"})
    assert refused.status_code == 400 and not carrier.instructions
    client.post(
        path,
        data={
            "csrf_token": token,
            "action": "update_address",
            "line1": "744 Evergreen Terrace",
            "postal_code": "62704",
            "phone": "+1 217 555 0100",
            "instructions": "Side door",
        },
    )
    sent = carrier.instructions[0]
    assert sent.address.line1 == "744 Evergreen Terrace" and sent.address.phone.endswith("0100")
    assert sent.instructions == "Side door"


def test_ndr_form_with_a_nul_byte_is_400_and_changes_nothing(runtime, client, demo, carrier):
    path = ndr_path(runtime, failed_case(runtime, demo.brand_id, Reason.ADDRESS_INCORRECT))
    token = csrf(client.get(path).get_data(as_text=True))
    form = {"action": "update_address", "line1": "744 Evergreen\x00", "postal_code": "62704"}
    refused = client.post(path, data={"csrf_token": token, **form})
    assert refused.status_code == 400 and not carrier.instructions


def test_ndr_pickup_point_must_be_one_offered(runtime, client, demo, carrier):
    path = ndr_path(runtime, failed_case(runtime, demo.brand_id))
    token = csrf(client.get(path).get_data(as_text=True))
    data = {"csrf_token": token, "action": "hold_at_pickup_point", "pickup_point_id": "ELSEWHERE"}
    assert client.post(path, data=data).status_code == 400
    data["pickup_point_id"] = "SBX-PP-002"
    assert client.post(path, data=data).status_code == 303
    assert carrier.instructions[0].pickup_point_id == "SBX-PP-002"


def test_ndr_post_without_csrf_changes_nothing(runtime, client, demo, carrier):
    path = ndr_path(runtime, failed_case(runtime, demo.brand_id))
    assert client.post(path, data={"action": "return_to_sender"}).status_code == 400
    assert not carrier.instructions


def test_expired_and_tampered_ndr_links(runtime, client, demo, carrier, clock):
    case_id = failed_case(runtime, demo.brand_id)
    path = ndr_path(runtime, case_id)
    tampered = client.get(path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB"))
    assert tampered.status_code == 403 and "This link is not valid" in tampered.get_data(
        as_text=True
    )
    assert "Parisa" not in tampered.get_data(as_text=True)
    token = csrf(client.get(path).get_data(as_text=True))
    clock.advance(timedelta(days=runtime.settings.link_max_age_days, seconds=1))
    expired = client.post(path, data={"csrf_token": token, "action": "return_to_sender"})
    assert expired.status_code == 410 and "This link has expired" in expired.get_data(as_text=True)
    assert not carrier.instructions
    with runtime.sessions() as session:
        assert session.get(NdrCaseRow, case_id).action is None


def lookup(client, number, secret, lang="en"):
    form = client.get(f"/returns/northwind?lang={lang}").get_data(as_text=True)
    return client.post(
        "/returns/northwind",
        data={"csrf_token": csrf(form), "order_number": number, "secret": secret},
    )


def test_wrong_pair_and_nothing_to_return_get_the_same_answer(runtime, client, demo):
    order(runtime, demo.brand_id, "NW-1")
    order(runtime, demo.brand_id, "NW-2", status="in_transit")
    wrong = lookup(client, "NW-1", "eve@example.com")
    unknown = lookup(client, "NW-404", EMAIL)
    undelivered = lookup(client, "NW-2", EMAIL)
    bodies = {
        re.sub(r'(value|nonce)="[^"]*"', "", r.get_data(as_text=True)) for r in (wrong, undelivered)
    }
    assert {r.status_code for r in (wrong, unknown, undelivered)} == {200}
    assert len(bodies) == 1 and "couldn&#39;t find a delivered order" in bodies.pop()
    found = lookup(client, "NW-1", POSTAL)
    assert "Choose items to return" in found.get_data(as_text=True)


def test_a_nul_byte_in_the_lookup_is_400(runtime, client, demo):
    order(runtime, demo.brand_id, "NW-1")
    assert lookup(client, "NW-1\x00", EMAIL).status_code == 400


def test_a_quantity_in_other_than_ascii_digits_is_400(runtime, client, demo):
    order(runtime, demo.brand_id, "NW-1")
    for quantity in ("²", "١", "-1", "1e3"):  # "²".isdigit() is True, int("²") raises
        form = items_form(client) | {"quantity-LANTERN": quantity, "reason-LANTERN": "wrong_size"}
        refused = client.post("/returns/northwind/request", data=form)
        assert refused.status_code == 400, quantity
        assert "Please choose at least one item to return." in refused.get_data(as_text=True)
    with runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(ReturnRequestRow)) == 0


def test_lookups_are_rate_limited_per_client(runtime, app, client, demo):
    app.config["RETURNS_RATE_LIMIT"] = (3, 60)
    statuses = [lookup(client, "NW-404", EMAIL).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]


def items_form(client, number="NW-1", lang="en"):
    html = lookup(client, number, EMAIL, lang).get_data(as_text=True)
    return {
        "csrf_token": csrf(html),
        "order": re.search(r'name="order" value="([^"]+)"', html).group(1),
    }


def test_approved_return_shows_the_label(runtime, client, demo, label_carriers):
    order(runtime, demo.brand_id, "NW-1")
    form = items_form(client)
    form |= {"quantity-LANTERN": "1", "reason-LANTERN": "wrong_size", "quantity-MUG": "0"}
    done = client.post("/returns/northwind/request", data=form)
    assert done.status_code == 303
    page = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "Your return is approved" in page and "$39.00" in page
    pdf = re.search(r'href="(/returns/label/[^"]+)" download', page).group(1)
    label = client.get(pdf)
    assert label.status_code == 200 and label.mimetype == "application/pdf"
    assert label.data.startswith(b"%PDF")
    qr = re.search(r'<img src="(/returns/label/[^"]+)"', page).group(1)
    assert client.get(qr).mimetype == "image/png"
    assert client.get(pdf[:-2] + "xx").status_code == 403
    assert label_carriers[1].labels and not label_carriers[0].labels


def test_a_return_through_the_portal_is_stamped_on_the_runtimes_clock(
    runtime, client, demo, label_carriers, clock
):
    """On the demo's fast clock a return label stamped with the wall clock looked days old:
    "not picked up" was raised at once. Every row of the return is on the runtime's clock."""
    clock.advance(timedelta(days=40))  # far from the wall clock, whenever the suite runs
    order(runtime, demo.brand_id, "NW-1")
    form = items_form(client) | {"quantity-LANTERN": "1", "reason-LANTERN": "wrong_size"}
    assert client.post("/returns/northwind/request", data=form).status_code == 303
    with runtime.sessions() as session:
        request_row = session.scalar(select(ReturnRequestRow))
        shipment = session.get(Shipment, request_row.shipment_id)
        labels = session.scalars(select(LabelRow.created_at)).all()
    assert request_row.status == "label_created"
    stamps = {request_row.created_at, request_row.updated_at, shipment.created_at, *labels}
    assert stamps == {shipment.updated_at} == {clock.now()}


def test_refusals_name_the_rule_in_the_customers_language(runtime, client, demo, clock):
    order(runtime, demo.brand_id, "NW-1", delivered_days_ago=40)
    form = items_form(client, lang="ja")
    form |= {"quantity-LANTERN": "1", "reason-LANTERN": "changed_mind"}
    form |= {"quantity-MUG": "1", "reason-MUG": "changed_mind"}
    page = client.get(client.post("/returns/northwind/request", data=form).headers["Location"])
    html = page.get_data(as_text=True)
    assert 'lang="ja"' in html
    assert "返品期間（30日間）は2026年11月13日(金)に終了しました。" in html
    assert "この商品はセール品のため、返品・交換はお受けできません。" in html


def test_damaged_needs_photos_and_stores_them(runtime, client, demo):
    order(runtime, demo.brand_id, "NW-1")
    form = items_form(client) | {"quantity-LANTERN": "1", "reason-LANTERN": "damaged"}
    first = client.get(client.post("/returns/northwind/request", data=form).headers["Location"])
    assert "Please add photos of the damage" in first.get_data(as_text=True)

    form = items_form(client) | {"quantity-LANTERN": "1", "reason-LANTERN": "damaged"}
    bad = dict(form, **{"photos-LANTERN": (BytesIO(b"MZ not an image"), "x.png")})
    assert client.post("/returns/northwind/request", data=bad).status_code == 400
    good = dict(form, **{"photos-LANTERN": (BytesIO(PNG), "dent.png")})
    page = client.get(client.post("/returns/northwind/request", data=good).headers["Location"])
    assert "We&#39;ll look at your return" in page.get_data(as_text=True)
    with runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(ReturnPhotoRow)) == 1
        latest = session.scalars(
            select(ReturnRequestRow).order_by(ReturnRequestRow.created_at)
        ).all()
        assert latest[-1].status == "review" and len(latest[-1].items[0].photos) == 1
        photo_id = latest[-1].items[0].photos[0]
    listed = client.get("/api/v1/returns?status=review", headers=demo.headers).json["data"]
    assert listed[0]["items"][0]["photos"] == [photo_id]
    photo = client.get(f"/api/v1/return-photos/{photo_id}", headers=demo.headers)
    assert photo.mimetype == "image/png" and photo.data == PNG


def test_ops_page_lists_cases_needing_a_person(runtime, client, demo, brands, monkeypatch):
    from shipflow.ops_users import create_ops_user
    from shipflow.store.db import unit_of_work

    monkeypatch.setattr(
        CarrierFactory,
        "of_shipment",
        lambda *a: RecordingCarrier(supports_actions=False),
    )
    path = ndr_path(runtime, failed_case(runtime, demo.brand_id))
    token = csrf(client.get(path).get_data(as_text=True))
    client.post(
        path,
        data={
            "csrf_token": token,
            "action": "hold_at_pickup_point",
            "pickup_point_id": "SBX-PP-001",
        },
    )
    with unit_of_work(runtime.sessions) as session:
        mine = create_ops_user(session, demo.brand_id, "ops@northwind.example")
        theirs = create_ops_user(session, brands["b"]["id"], "ops@b.example")

    def page_for(brand_code, email, password):
        client.post("/ops/logout", data={"csrf_token": token})
        client.get("/ops/login")
        with client.session_transaction() as session:
            form_token = session["csrf_token"]
        client.post(
            "/ops/login",
            data={
                "csrf_token": form_token,
                "brand": brand_code,
                "email": email,
                "password": password,
            },
        )
        return client.get("/ops/failed-deliveries").get_data(as_text=True)

    html = page_for("northwind", "ops@northwind.example", mine)
    assert "NW-1001" in html and "hold at pickup point at SBX-PP-001" in html
    assert "sandbox" in html and "100.0%" in html
    other = page_for("brand-b", "ops@b.example", theirs)
    assert "NW-1001" not in other and "Nothing waiting." in other


def test_persian_failed_delivery_and_returns_pages_keep_latin_text_left_to_right(
    runtime, client, demo, carrier
):
    ndr = client.get(ndr_path(runtime, failed_case(runtime, demo.brand_id)) + "?lang=fa")
    html = ndr.get_data(as_text=True)
    assert 'dir="rtl"' in html and "Corner Market lockers" in html
    assert unisolated_latin(html) == []
    items = lookup(client, "NW-1", EMAIL, "fa").get_data(as_text=True)
    assert 'dir="rtl"' in items and "NW-1" in items
    assert unisolated_latin(items) == []
