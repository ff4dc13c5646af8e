"""Customers' "not received" claims in the ops console: their own queue and filter, the
shipment page with the carrier's proof and photo, and the remedies' refusals; each scoped to
the signed-in user's brand."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from carriers.sandbox.proof import door_photo
from shipflow import claims
from shipflow.store.claim_models import DeliveryPhoto
from shipflow.store.db import unit_of_work
from shipflow.store.ops_models import OpsAction
from tests.delays.conftest import add_shipment, login, post_form

PHOTO = door_photo((90, 90, 90), 30)
FORM = claims.ClaimForm("empty_or_damaged", ("household",), "Box was open", "+15550001")


@pytest.fixture
def claimed(runtime, ops, clock):
    """Per brand: a delivered parcel left at the back porch, photographed, and claimed."""
    ids = {}
    with unit_of_work(runtime.sessions) as session:
        for code in ("a", "b"):
            shipment = add_shipment(
                session,
                ops[code]["id"],
                clock.now(),
                carrier="sandbox",
                tracking_number=f"SBXC{code}",
                status="delivered",
                details={"proof_of_delivery": {"left_at": "Back porch", "photo": True}},
            )
            session.flush()
            session.add(DeliveryPhoto(shipment_id=shipment.id, media_type="image/png", data=PHOTO))
            claims.open_claim(session, shipment, FORM, "en", clock.now())
            ids[code] = shipment.id
    return ids


def test_the_claims_queue_lists_the_brands_open_claims(client, ops, claimed):
    login(client, ops["a"])
    html = client.get("/ops/claims").text
    assert f'href="/ops/shipments/{claimed["a"]}"' in html
    assert "empty or damaged" in html and "household" in html and "left at <bdi>Back porch" in html
    assert claimed["b"] not in html and "SBXCb" not in html
    assert "SBXCa" not in client.get("/ops/claims?state=closed").text
    assert "SBXCa" in client.get("/ops/claims?state=all").text
    assert 'href="/ops/claims"' in client.get("/ops/alerts").text  # in the menu


@pytest.mark.parametrize(
    ("path", "current"),
    [
        ("/ops/claims", '<a href="/ops/claims" aria-current="page">Delivered, not received'),
        ("/ops/failed-deliveries", '<a href="/ops/failed-deliveries" aria-current="page">Waiting'),
        ("/ops/failed-deliveries?risk=cod", 'risk=cod" aria-current="page">COD at risk'),
    ],
)
def test_the_queues_menu_marks_the_queue_showing_and_only_it(client, ops, path, current):
    login(client, ops["a"])
    html = client.get(path).text
    assert current in html
    assert html.count('aria-current="page"') == 1


def test_the_shipment_page_shows_the_claim_the_proof_and_the_photo(client, ops, claimed):
    login(client, ops["a"])
    url = f"/ops/shipments/{claimed['a']}"
    html = client.get(url).text
    assert 'id="claim"' in html and "Box was open" in html and "+15550001" in html
    assert f'<img src="{url}/proof-photo"' in html
    photo = client.get(url + "/proof-photo")
    assert (photo.status_code, photo.mimetype, photo.data) == (200, "image/png", PHOTO)
    assert client.get(f"/ops/shipments/{claimed['b']}/proof-photo").status_code == 404
    assert "UTC · customer · claim opened: Box was open</li>" in html  # in the ops log


def test_a_refund_nobody_can_take_is_refused_with_what_to_do(client, ops, claimed, runtime):
    login(client, ops["a"])
    response = post_form(client, f"/ops/shipments/{claimed['a']}/actions", action="refund")
    assert response.status_code == 409 and "has no order to refund" in response.text
    with runtime.sessions() as session:
        assert session.scalars(select(OpsAction.action)).all() == ["claim_opened", "claim_opened"]
