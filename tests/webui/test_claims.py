"""Proof of delivery, "I didn't get it" and returns on the tracking page, over HTTP: only the
customer's own link shows or acts on them, once per parcel."""

from __future__ import annotations

import base64

from sqlalchemy import func, select

from benchmarks.tracking_page import long_journey
from carriers.sandbox.proof import door_photo
from shipflow import proof_of_delivery, shipment_links
from shipflow.domain import ProofOfDelivery, TrackingUpdate
from shipflow.store.claim_models import DeliveryClaim, DeliveryPhoto
from shipflow.store.db import unit_of_work
from shipflow.store.models import Shipment
from shipflow.store.ops_models import OpsAction
from shipflow.store.postpurchase_models import ReturnRequestRow
from shipflow.store.shipment_writes import read_tracked, write_staged
from tests.bidi import unisolated_latin
from tests.webui.factories import BRAND, make_shipment
from tests.webui.test_tracking_page import csrf, path_for

PHOTO = door_photo((31, 78, 121), 40)
FORM = {
    "what_happened": "not_found",
    "checked": ["neighbours", "safe_place"],
    "details": "Nothing at the door",
    "contact": "parisa@example.com",
}


def delivered_with_proof(runtime, journey=None, **proof) -> str:
    """A delivered parcel whose carrier update carried `proof` (as the ingest keeps it)."""
    shipment_id = make_shipment(runtime, "delivered", journey=journey)
    update = TrackingUpdate("sandbox", "SBX100200300", proof_of_delivery=ProofOfDelivery(**proof))
    with unit_of_work(runtime.sessions) as session:
        (shipment,) = read_tracked(session, Shipment.id == shipment_id)
        photo = proof_of_delivery.record(session, shipment, update, runtime.clock.now())
        proof_of_delivery.keep_photos(session, [photo] if photo else [])
        write_staged(session)
    return shipment_id


def photo_proof(runtime, journey=None) -> str:
    photo = base64.b64encode(PHOTO).decode()
    return delivered_with_proof(runtime, journey, left_at="Back porch", photo=photo)


def test_the_photo_and_spot_show_only_through_the_customers_link(app, client, runtime):
    shipment_id = photo_proof(runtime)
    path = path_for(app, shipment_id)
    html = client.get(path).get_data(as_text=True)
    assert "Left at: <bdi>Back porch</bdi>" in html
    assert f'<img src="{path}/proof-photo"' in html
    photo = client.get(path + "/proof-photo")
    assert (photo.status_code, photo.mimetype, photo.data) == (200, "image/png", PHOTO)
    assert photo.headers["Cache-Control"] == "private, no-store"
    place_only = shipment_links.tracking_path(
        BRAND, shipment_id, app.extensions["shipflow"], place_only=True
    )
    assert client.get(place_only + "/proof-photo").status_code == 403
    assert "Back porch" not in client.get(place_only).get_data(as_text=True)
    public = client.get("/t/northwind/number/SBX100200300").get_data(as_text=True)
    assert "Back porch" not in public and "proof-photo" not in public


def test_a_carrier_photo_that_is_not_an_image_is_not_kept(runtime):
    shipment_id = delivered_with_proof(runtime, signed_by="J. LEE", photo="PGh0bWw+")  # <html>
    with runtime.sessions() as session:
        assert session.get(DeliveryPhoto, shipment_id) is None
        assert proof_of_delivery.proof_of(session.get_one(Shipment, shipment_id)) == {
            "signed_by": "J. LEE",
            "photo": False,
        }


def test_a_claim_opens_one_ops_case_with_the_carriers_proof(app, client, runtime):
    shipment_id = photo_proof(runtime)
    path = path_for(app, shipment_id)
    assert f'href="{path}/claim"' in client.get(path).text
    form = {**FORM, "csrf_token": csrf(client, path + "/claim")}
    first = client.post(path + "/claim", data=form)
    assert (first.status_code, first.headers["Location"]) == (303, path + "#claim")
    again = client.post(path + "/claim", data={**form, "what_happened": "empty_or_damaged"})
    assert again.status_code == 303
    with runtime.sessions() as session:
        claim = session.scalars(select(DeliveryClaim)).one()
        logged = session.scalars(select(OpsAction.action)).all()
    assert (claim.state, claim.what_happened, claim.checked, claim.contact) == (
        "open", "not_found", ["neighbours", "safe_place"], "parisa@example.com",
    )  # fmt: skip
    assert claim.proof == {"left_at": "Back porch", "photo": True}
    assert logged == ["claim_opened"]
    html = client.get(path).get_data(as_text=True)
    assert "We're looking into it" in html and f'href="{path}/claim"' not in html
    claimed = client.get(path + "/claim")  # the form again: back to what happens next
    assert (claimed.status_code, claimed.headers["Location"]) == (303, path + "#claim")


def test_a_claim_needs_csrf_an_answer_a_contact_and_a_delivery(app, client, runtime):
    delivered = path_for(app, make_shipment(runtime, "delivered"))
    moving = path_for(app, make_shipment(runtime, order_number="NW-2", tracking_number="X2"))
    token = csrf(client, delivered + "/claim")
    assert client.post(delivered + "/claim", data=FORM).status_code == 400
    vague = client.post(
        delivered + "/claim", data={**FORM, "csrf_token": token, "what_happened": "x"}
    )
    assert vague.status_code == 400 and "Please tell us what happened." in vague.text
    mute = client.post(delivered + "/claim", data={**FORM, "csrf_token": token, "contact": " "})
    assert (
        mute.status_code == 400
        and 'aria-invalid="true" aria-describedby="claim-error"' in mute.text
    )
    # what they wrote is kept for the next try
    assert "Nothing at the door" in mute.text and 'value="neighbours" checked' in mute.text
    assert client.get(moving + "/claim").headers["Location"] == moving + "#claim"
    early = client.post(moving + "/claim", data={**FORM, "csrf_token": token})
    assert early.status_code == 409
    with runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(DeliveryClaim)) == 0


def test_claims_are_rate_limited_per_parcel(app, client, runtime):
    path = path_for(app, make_shipment(runtime, "delivered"))
    form = {**FORM, "csrf_token": csrf(client, path + "/claim"), "what_happened": ""}
    codes = [client.post(path + "/claim", data=form).status_code for _ in range(6)]
    assert codes == [400] * 5 + [429]


def test_the_claim_form_is_only_on_the_customers_own_page(app, client, runtime):
    shipment_id = make_shipment(runtime, "delivered")
    place_only = shipment_links.tracking_path(
        BRAND, shipment_id, app.extensions["shipflow"], place_only=True
    )
    assert "Report a missing parcel" in client.get(path_for(app, shipment_id)).text
    assert "Report a missing parcel" not in client.get(place_only).text
    assert client.get(place_only + "/claim").status_code == 403
    form = {**FORM, "csrf_token": csrf(client, "/t/northwind")}
    assert client.post(place_only + "/claim", data=form).status_code == 403


def test_returns_of_the_order_show_their_state_and_link(app, client, runtime):
    shipment_id = make_shipment(runtime, "delivered")
    with unit_of_work(runtime.sessions) as session:
        shipment = session.get_one(Shipment, shipment_id)
        session.add(
            ReturnRequestRow(
                brand_id=shipment.brand_id,
                order_id=shipment.order_id,
                status="label_created",
                currency="USD",
            )
        )
    html = client.get(path_for(app, shipment_id)).text
    assert 'Your return is approved · <a href="/returns/northwind/r/' in html
    assert "Return label and QR code" in html


def test_the_fullest_tracking_page_stays_under_15_kb(app, client, runtime):
    """Delivered after 25 scans (as `benchmarks/tracking_page.py`), with a photo, the claim
    link, a return and recommendations, in Persian."""
    shipment_id = photo_proof(runtime, long_journey(22))
    with unit_of_work(runtime.sessions) as session:
        shipment = session.get_one(Shipment, shipment_id)
        session.add(
            ReturnRequestRow(
                brand_id=shipment.brand_id, order_id=shipment.order_id, status="in_transit",
                currency="USD",
            )
        )  # fmt: skip
    body = client.get(path_for(app, shipment_id) + "?lang=fa").data
    assert "مرسوله".encode() in body or "بسته".encode() in body
    assert len(body) <= 15 * 1024, len(body)


def test_the_persian_claim_page_keeps_latin_text_left_to_right(app, client, runtime):
    path = path_for(app, photo_proof(runtime)) + "/claim?lang=fa"
    html = client.get(path).get_data(as_text=True)
    assert 'dir="rtl"' in html
    assert unisolated_latin(html) == []
